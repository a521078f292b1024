import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { CDb, ComputeNodeRow } from '../store.js';
import { DEFAULT_ZONE } from '../logic/scheduler.js';
import { badRequest, forbidden } from './common.js';

/**
 * Nova's service records as Stratus derives them. Every compute node is one nova-compute
 * service (its enabled/disabled state and forced_down flag live on the compute_node row,
 * where the scheduler's ComputeFilter reads them); the in-process scheduler and conductor
 * are two more services on the controller host, in Nova's `internal` zone. Nothing else is
 * stored: ids and uuids are derived, so every API process sees the same ones.
 */
export const INTERNAL_ZONE = 'internal';
export const CONTROLLER_HOST = 'controller';

export interface ServiceRecord {
  id: number;
  uuid: string;
  binary: string;
  host: string;
  zone: string;
  disabled: boolean;
  disabledReason: string | null;
  forcedDown: boolean;
  /** Last heartbeat: the services run in this process, so they beat now. */
  updatedAt: number;
  node: ComputeNodeRow | null;
}

/** A stable uuid from a name (the layout of a version 5 uuid). */
export function derivedUuid(name: string): string {
  const h = createHash('sha1').update(`stratus-service:${name}`).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Each host's availability zone: the aggregate metadata that names one, the default zone otherwise. */
export async function zonesByHost(db: CDb): Promise<Map<string, string>> {
  const rows = await db.selectFrom('aggregate_host').innerJoin('aggregate_metadata', 'aggregate_metadata.aggregate_id', 'aggregate_host.aggregate_id')
    .select(['aggregate_host.host', 'aggregate_metadata.value']).where('aggregate_metadata.key', '=', 'availability_zone')
    .orderBy('aggregate_host.aggregate_id').execute();
  const out = new Map<string, string>();
  for (const r of rows) if (!out.has(r.host)) out.set(r.host, r.value);
  return out;
}

export async function serviceRecords(db: CDb): Promise<ServiceRecord[]> {
  const [nodes, zones] = await Promise.all([db.selectFrom('compute_node').selectAll().orderBy('id').execute(), zonesByHost(db)]);
  const beat = Math.floor(Date.now() / 1000) * 1000;
  const maxId = nodes.reduce((m, n) => Math.max(m, n.id), 0);
  const controller = (binary: string, id: number): ServiceRecord => ({
    id, uuid: derivedUuid(`${binary}@${CONTROLLER_HOST}`), binary, host: CONTROLLER_HOST, zone: INTERNAL_ZONE,
    disabled: false, disabledReason: null, forcedDown: false, updatedAt: beat, node: null,
  });
  return [
    controller('nova-conductor', maxId + 1),
    controller('nova-scheduler', maxId + 2),
    ...nodes.map((n) => ({
      id: n.id, uuid: derivedUuid(`nova-compute@${n.uuid}`), binary: 'nova-compute', host: n.host, zone: zones.get(n.host) ?? DEFAULT_ZONE,
      disabled: n.status === 'disabled', disabledReason: n.disabled_reason, forcedDown: !!n.forced_down, updatedAt: beat, node: n,
    })),
  ];
}

/** Nova's servicegroup answer: a service is up unless an operator forced it down. */
export const isUp = (s: ServiceRecord): boolean => !s.forcedDown;

/** Nova's default policy for the host-level APIs: admin only. */
export function adminOnly(req: FastifyRequest, rule: string): void {
  if (!req.ctx.isAdmin) throw forbidden(`Policy doesn't allow ${rule} to be performed.`);
}

export const isUuidLike = (v: string): boolean => /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(v);
export const isInteger = (v: string): boolean => /^-?\d+$/.test(v.trim()) && Number.isSafeInteger(Number(v));

/** Nova's boolean query values (strict): anything else is a 400. */
export function queryBool(v: string, field: string): boolean {
  const s = v.toLowerCase();
  if (['1', 't', 'true', 'on', 'y', 'yes'].includes(s)) return true;
  if (['0', 'f', 'false', 'off', 'n', 'no'].includes(s)) return false;
  throw badRequest(`Invalid input for query parameters ${field}. Value: ${v}. '${v}' is not a 'boolean'`);
}

/** From the microversion that closed a query schema, unknown parameters are a 400. */
export function onlyQuery(req: FastifyRequest, allowed: string[]): void {
  for (const k of Object.keys((req.query ?? {}) as object)) {
    if (!allowed.includes(k)) throw badRequest(`Invalid input for query parameters ${k}. Additional properties are not allowed ('${k}' was unexpected)`);
  }
}

/** Nova's "naive" timestamps with microseconds: `2024-01-31T12:00:00.000000`. */
export const naive = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000'));

/** Parses a query timestamp as Nova's parse_isotime does (no zone means UTC). */
export function parseIsoQuery(v: string, field: string): number {
  const ms = Date.parse(/Z$|[+-]\d\d:?\d\d$/.test(v) ? v : `${v}Z`);
  if (Number.isNaN(ms)) throw badRequest(`Invalid input for query parameters ${field}. Value: ${v}. '${v}' is not a 'date-time'`);
  return ms;
}
