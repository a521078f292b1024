import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RequestContext } from '../../../platform/auth/context.js';
import { now } from '../../../platform/clock.js';
import { uuid } from '../../../platform/ids.js';
import type { NetDb, NetworkRow } from '../store.js';
import { networkViews, ZONES } from '../views.js';
import { checkQuota } from '../logic/quota.js';
import { deletePortRows } from '../logic/ports.js';
import { listRows, pickFields, standardColumns, sameName, type ListSpec } from './listing.js';
import { badInput, boolValue, conflictError, neutronError, notFoundError, ownerOf, requireWriter, resourceBody, strValue, type NetDeps, createBodies } from './common.js';

/** /v2.0/networks. Overlay networks carry an MTU of 1450, the product documents' value. */
export const DEFAULT_MTU = 1450;

const ATTRS = ['name', 'admin_state_up', 'shared', 'router:external', 'mtu', 'port_security_enabled', 'availability_zone_hints', 'dns_domain',
  'description', 'tenant_id', 'project_id', 'provider:network_type', 'provider:physical_network', 'provider:segmentation_id', 'is_default'];

export const networkList: ListSpec = {
  collection: 'networks', table: 'network', tagType: 'networks',
  columns: {
    ...standardColumns, ...sameName('str', ['status', 'dns_domain']),
    ...sameName('bool', ['shared', 'admin_state_up', 'port_security_enabled', 'is_default']), ...sameName('int', ['mtu']),
    'router:external': { col: 'external', kind: 'bool' }, 'provider:network_type': { col: 'provider_network_type', kind: 'str' },
    'provider:physical_network': { col: 'provider_physical_network', kind: 'str' },
    'provider:segmentation_id': { col: 'provider_segmentation_id', kind: 'int' },
  },
  sortable: ['id', 'name', 'project_id', 'status', 'admin_state_up', 'mtu', 'shared', 'created_at', 'updated_at'],
};

/**
 * Ids of networks shared with a project through RBAC policies (the pools part owns the
 * rbac_policy table): access_as_shared or access_as_external, to the project or to '*'.
 */
export const rbacNetworkIds = (db: NetDb, projectId: string, actions = ['access_as_shared', 'access_as_external']) => db.selectFrom('rbac_policy').select('rbac_policy.object_id')
  .where('rbac_policy.object_type', '=', 'network').where('rbac_policy.action', 'in', actions)
  .where('rbac_policy.target_project', 'in', [projectId, '*']);

/** Networks a caller sees: its own, shared ones, external ones and those shared with it by RBAC (admins: all). */
export function visibleNetworks(db: NetDb, ctx: RequestContext) {
  let q = db.selectFrom('network').selectAll('network');
  if (!ctx.isAdmin) {
    q = q.where((eb) => eb.or([eb('network.project_id', '=', ctx.projectId ?? ''), eb('network.shared', '=', 1), eb('network.external', '=', 1),
      eb('network.id', 'in', rbacNetworkIds(db, ctx.projectId ?? ''))]));
  }
  return q;
}

export async function getNetwork(db: NetDb, ctx: RequestContext, id: string): Promise<NetworkRow> {
  const n = await visibleNetworks(db, ctx).where('network.id', '=', id).executeTakeFirst();
  if (!n) throw notFoundError('Network', id);
  return n as NetworkRow;
}

function adminOnly(ctx: RequestContext, body: Record<string, unknown>, attrs: string[]): void {
  for (const a of attrs) {
    if (body[a] !== undefined && !ctx.isAdmin) {
      throw neutronError(403, 'HTTPForbidden', `(rule:create_network:${a}) is disallowed by policy`);
    }
  }
}

export function parseNetworkFields(ctx: RequestContext, b: Record<string, unknown>): Partial<NetworkRow> {
  const set: Partial<NetworkRow> = {};
  if (b.name !== undefined) set.name = strValue(b.name, 'name')!;
  if (b.description !== undefined) set.description = strValue(b.description, 'description')!;
  if (b.admin_state_up !== undefined) set.admin_state_up = boolValue(b.admin_state_up, 'admin_state_up') ? 1 : 0;
  if (b.shared !== undefined) set.shared = boolValue(b.shared, 'shared') ? 1 : 0;
  if (b['router:external'] !== undefined) set.external = boolValue(b['router:external'], 'router:external') ? 1 : 0;
  if (b.is_default !== undefined) set.is_default = boolValue(b.is_default, 'is_default') ? 1 : 0;
  if (b.port_security_enabled !== undefined) set.port_security_enabled = boolValue(b.port_security_enabled, 'port_security_enabled') ? 1 : 0;
  if (b.dns_domain !== undefined) set.dns_domain = strValue(b.dns_domain, 'dns_domain')!;
  if (b.mtu !== undefined) {
    if (typeof b.mtu !== 'number' || !Number.isInteger(b.mtu) || b.mtu < 68) throw badInput(`'${String(b.mtu)}' is not a valid MTU (68 or more)`);
    if (b.mtu > DEFAULT_MTU) throw badInput(`Requested MTU is too big, maximum is ${DEFAULT_MTU}.`);
    set.mtu = b.mtu;
  }
  if (b['provider:network_type'] !== undefined) set.provider_network_type = strValue(b['provider:network_type'], 'provider:network_type');
  if (b['provider:physical_network'] !== undefined) set.provider_physical_network = strValue(b['provider:physical_network'], 'provider:physical_network', 64, true);
  if (b['provider:segmentation_id'] !== undefined) {
    if (typeof b['provider:segmentation_id'] !== 'number') throw badInput('provider:segmentation_id must be an integer');
    set.provider_segmentation_id = b['provider:segmentation_id'] as number;
  }
  void ctx;
  return set;
}

export async function networkRoutes(app: FastifyInstance, deps: NetDeps): Promise<void> {
  const { db, platform, hooks } = deps;
  const show = async (req: FastifyRequest, row: NetworkRow) => pickFields(req, (await networkViews(db, req.ctx, [row]))[0]!);

  app.post('/v2.0/networks', async (req, reply) => {
    const ctx = req.ctx;
    requireWriter(ctx);
    const { items, bulk } = createBodies(req, 'network', 'networks', ATTRS);
    const rows = items.map((b: Record<string, unknown>) => {
      adminOnly(ctx, b, ['shared', 'router:external', 'provider:network_type', 'provider:physical_network', 'provider:segmentation_id', 'is_default']);
      const owner = ownerOf(ctx, b);
      const hints = b.availability_zone_hints ?? [];
      if (!Array.isArray(hints) || hints.some((z) => !ZONES.includes(z as string))) {
        throw neutronError(404, 'AvailabilityZoneNotFound', `AvailabilityZone ${JSON.stringify(hints)} could not be found.`);
      }
      const t = now();
      const row: NetworkRow = {
        id: uuid(), project_id: owner, name: '', description: '', created_at: t, updated_at: t, revision_number: 1,
        admin_state_up: 1, status: 'ACTIVE', shared: 0, external: 0, is_default: 0, mtu: DEFAULT_MTU, port_security_enabled: 1,
        availability_zone_hints: JSON.stringify(hints), dns_domain: '', provider_network_type: 'vxlan', provider_physical_network: null,
        provider_segmentation_id: null, ...parseNetworkFields(ctx, b),
      };
      if (row.provider_network_type === 'vxlan' && row.provider_segmentation_id === null) row.provider_segmentation_id = 1000 + Math.floor(Math.random() * 15_000_000);
      return row;
    });
    // A bulk create is all or nothing.
    await db.transaction().execute(async (trx) => {
      for (const row of rows) {
        await checkQuota(trx, platform.dialect, row.project_id, 'network');
        await trx.insertInto('network').values(row).execute();
        // RBAC: a shared / external network carries Neutron's wildcard policy for it.
        if (row.shared || row.external) await hooks.networkSharing?.(trx, ctx, row, { shared: row.shared === 1, external: row.external === 1 });
      }
    });
    reply.status(201);
    const views = await Promise.all(rows.map((r: NetworkRow) => show(req, r)));
    return bulk ? { networks: views } : { network: views[0] };
  });

  app.get('/v2.0/networks', async (req) => {
    const { rows, links } = await listRows(req, db, visibleNetworks(db, req.ctx), networkList);
    const views = await networkViews(db, req.ctx, rows as NetworkRow[]);
    return { networks: views.map((v) => pickFields(req, v)), ...(links.length ? { networks_links: links } : {}) };
  });

  app.get('/v2.0/networks/:id', async (req) => ({ network: await show(req, await getNetwork(db, req.ctx, (req.params as { id: string }).id)) }));

  app.put('/v2.0/networks/:id', async (req) => {
    const ctx = req.ctx;
    const id = (req.params as { id: string }).id;
    const net = await getNetwork(db, ctx, id);
    if (!ctx.isAdmin && net.project_id !== ctx.projectId) throw neutronError(403, 'HTTPForbidden', `(rule:update_network) is disallowed by policy`);
    requireWriter(ctx);
    const b = resourceBody(req, 'network', ATTRS.filter((a) => !['tenant_id', 'project_id', 'availability_zone_hints'].includes(a)));
    adminOnly(ctx, b, ['router:external', 'provider:network_type', 'provider:physical_network', 'provider:segmentation_id', 'is_default']);
    const set = parseNetworkFields(ctx, b);
    await db.transaction().execute(async (trx) => {
      const change = {
        ...(set.shared !== undefined && set.shared !== net.shared ? { shared: set.shared === 1 } : {}),
        ...(set.external !== undefined && set.external !== net.external ? { external: set.external === 1 } : {}),
      };
      // With RBAC present, it decides who still uses the network (projects it is shared with keep their ports).
      if (hooks.networkSharing) {
        if (Object.keys(change).length) await hooks.networkSharing(trx, ctx, net, change);
      } else if (set.shared === 0 && net.shared === 1) {
        const foreign = await trx.selectFrom('port').select('id').where('network_id', '=', id).where('project_id', '!=', net.project_id)
          .where('device_owner', 'not like', 'network:%').limit(1).executeTakeFirst();
        if (foreign) throw conflictError('InvalidSharedSetting', `Unable to reconfigure sharing settings for network ${id}. Multiple tenants are using it.`);
      }
      await trx.updateTable('network').set({ ...set, updated_at: now(), revision_number: net.revision_number + 1 }).where('id', '=', id).execute();
    });
    return { network: await show(req, (await db.selectFrom('network').selectAll().where('id', '=', id).executeTakeFirst())!) };
  });

  app.delete('/v2.0/networks/:id', async (req, reply) => {
    const ctx = req.ctx;
    const id = (req.params as { id: string }).id;
    const net = await getNetwork(db, ctx, id);
    if (!ctx.isAdmin && net.project_id !== ctx.projectId) throw neutronError(403, 'HTTPForbidden', `(rule:delete_network) is disallowed by policy`);
    requireWriter(ctx);
    await db.transaction().execute(async (trx) => {
      // Parts release what goes with the network (its floating IPs, RBAC policies) first;
      // the transaction undoes it if the network turns out to be in use.
      for (const h of hooks.beforeNetworkDelete ?? []) await h(trx, id);
      const ports = await trx.selectFrom('port').select(['id', 'device_owner']).where('network_id', '=', id).execute();
      // Ports the network itself owns (DHCP) go with it; anything else keeps it in use.
      if (ports.some((p) => !p.device_owner.startsWith('network:dhcp'))) {
        throw conflictError('NetworkInUse', `Unable to complete operation on network ${id}. There are one or more ports still in use on the network.`);
      }
      await deletePortRows(trx, ports.map((p) => p.id));
      await trx.deleteFrom('resource_tag').where('resource_type', '=', 'subnets').where('resource_id', 'in',
        trx.selectFrom('subnet').select('id').where('network_id', '=', id)).execute();
      await trx.deleteFrom('subnet').where('network_id', '=', id).execute();
      await trx.deleteFrom('resource_tag').where('resource_type', '=', 'networks').where('resource_id', '=', id).execute();
      await trx.deleteFrom('network').where('id', '=', id).execute();
    });
    reply.status(204).send();
  });
}
