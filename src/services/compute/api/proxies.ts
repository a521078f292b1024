import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../../../platform/http/errors.js';
import type { ImageRow } from '../../image/store.js';
import type { SecurityGroupInfo, SecurityGroupRuleInfo } from '../../network/logic/nova-proxy.js';
import { computeLimits } from '../logic/quota.js';
import { badRequest, computeRoot, forbidden, links, mv, notFound, novaTime, type ComputeDeps } from './common.js';
import { isUuid } from './server-request.js';

/**
 * The proxy APIs Nova keeps for older clients, each a view of another service: images
 * (Glance), security groups and their rules, floating IPs and networks (Neutron). They
 * exist up to microversion 2.35 (image metadata to 2.38) and are 404 above it, as upstream.
 * Nova-network's create/delete operations are gone upstream (410) and here.
 */
const resourceGone = (_req: FastifyRequest, reply: FastifyReply) => {
  reply.status(410);
  return { gone: { code: 410, message: 'This resource is no longer available.' } };
};

/** 404 above the last microversion a proxy API exists in. */
function upTo(req: FastifyRequest, last: string): void {
  const [a, b] = last.split('.').map(Number);
  if (mv(req, `${a}.${(b ?? 0) + 1}`)) throw notFound('The resource could not be found.');
}
const proxy = (req: FastifyRequest) => upTo(req, '2.35');

const requireMember = (req: FastifyRequest, policy: string) => {
  if (!req.ctx.isAdmin && !req.ctx.roles.includes('member')) throw forbidden(`Policy doesn't allow ${policy} to be performed.`);
};

/** The single object a body must carry (`{"security_group": {...}}`). */
function inner(req: FastifyRequest, key: string): Record<string, unknown> {
  const b = req.body as Record<string, unknown> | undefined;
  const v = b?.[key];
  if (!b || typeof b !== 'object' || v === undefined) throw badRequest(`Invalid input for field/attribute ${key}. Value: ${JSON.stringify(b ?? null)}. '${key}' is a required property`);
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw badRequest(`Invalid input for field/attribute ${key}. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not of type 'object'`);
  return v as Record<string, unknown>;
}

/** A Neutron error from the network service as Nova passes it on: the status Nova maps it to, Neutron's words. */
const nova = (status: number, err: ApiError) => new ApiError(status, err.message);

// ---- security groups ----------------------------------------------------------------------

/** Nova's rule: ingress only, ports 1–65535 (TCP/UDP) or -1 (others) when Neutron has none, a CIDR or a group. */
function ruleView(r: SecurityGroupRuleInfo, groups: Map<string, SecurityGroupInfo>) {
  let from = r.portMin;
  let to = r.portMax;
  if (r.protocol && from === null && to === null) {
    const tcpUdp = ['tcp', 'udp', '6', '17'].includes(r.protocol.toLowerCase());
    from = tcpUdp ? 1 : -1;
    to = tcpUdp ? 65535 : -1;
  }
  let group = {};
  if (r.remoteGroupId) {
    const g = groups.get(r.remoteGroupId);
    if (!g) return null;
    group = { name: g.name, tenant_id: g.projectId };
  }
  return {
    id: r.id, parent_group_id: r.groupId, ip_protocol: r.protocol, from_port: from, to_port: to, group,
    ip_range: r.remoteGroupId ? {} : { cidr: r.remoteIpPrefix ?? '0.0.0.0/0' },
  };
}

function groupView(g: SecurityGroupInfo, groups: Map<string, SecurityGroupInfo>) {
  return {
    id: g.id, description: g.description, name: g.name, tenant_id: g.projectId,
    rules: g.rules.filter((r) => r.direction === 'ingress').map((r) => ruleView(r, groups)).filter((r) => r !== null),
  };
}

/** Groups in Nova's format, the remote groups their rules name looked up once, sorted as Nova sorts (project, name). */
export async function novaSecurityGroupViews(deps: ComputeDeps, list: SecurityGroupInfo[], sort = true) {
  const byId = new Map(list.map((g) => [g.id, g]));
  const remote = [...new Set(list.flatMap((g) => g.rules.map((r) => r.remoteGroupId)).filter((id): id is string => !!id && !byId.has(id)))];
  for (const g of await deps.network.securityGroups.byIds(remote)) byId.set(g.id, g);
  const views = list.map((g) => groupView(g, byId));
  return sort ? views.sort((a, b) => (a.tenant_id < b.tenant_id ? -1 : a.tenant_id > b.tenant_id ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) : views;
}

function groupId(id: string): string {
  if (id === '') throw notFound('The resource could not be found.');
  if (!isUuid(id)) throw badRequest('Security group id should be uuid');
  return id;
}

function nameAndDescription(req: FastifyRequest): { name: string; description: string } {
  const g = inner(req, 'security_group');
  for (const k of ['name', 'description']) {
    if (g[k] === undefined) throw badRequest(`Invalid input for field/attribute security_group. Value: ${JSON.stringify(g)}. '${k}' is a required property`);
    if (typeof g[k] !== 'string') throw badRequest(`Invalid input for field/attribute ${k}. Value: ${JSON.stringify(g[k])}. ${JSON.stringify(g[k])} is not of type 'string'`);
    if ((g[k] as string).length > 255) throw badRequest(`Invalid input for field/attribute ${k}. Value: ${String(g[k])}. '${String(g[k])}' is too long`);
  }
  return { name: g.name as string, description: g.description as string };
}

/** Nova's ingress rule from the old API's fields (nova.network.security_group_api._new_ingress_rule). */
function newIngressRule(ipProtocol: unknown, fromPort: unknown, toPort: unknown, remoteGroup: string | null, cidr: string | null) {
  const values: { group_id?: string; cidr?: string; protocol?: string; from_port?: number; to_port?: number } = {};
  let from = fromPort ?? null;
  let to = toPort ?? null;
  const proto = ipProtocol === null || ipProtocol === undefined ? '' : String(ipProtocol);
  if (remoteGroup) {
    values.group_id = remoteGroup;
    if (proto.toUpperCase() === 'ICMP' && from === null && to === null) { from = -1; to = -1; }
    else if (['TCP', 'UDP'].includes(proto.toUpperCase()) && from === null && to === null) { from = 1; to = 65535; }
  } else if (cidr) values.cidr = cidr;
  if (proto && from !== null && to !== null) {
    const asInt = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) ? v : typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : NaN);
    const f = asInt(from);
    const t = asInt(to);
    if (Number.isNaN(f) || Number.isNaN(t)) {
      throw badRequest(proto.toUpperCase() === 'ICMP' ? 'Invalid input received: Type and Code must be integers for ICMP protocol type' : 'Invalid input received: To and From ports must be integers');
    }
    const up = proto.toUpperCase();
    if (!['TCP', 'UDP', 'ICMP'].includes(up)) throw badRequest(`Invalid IP protocol ${proto}.`);
    if (up !== 'ICMP' && f > t) throw badRequest(`Invalid port range ${f}:${t}. Former value cannot be greater than the later`);
    if (up !== 'ICMP' && (f < 1 || t > 65535)) throw badRequest(`Invalid port range ${f}:${t}. Valid ${up} ports should be between 1-65535`);
    if (up === 'ICMP' && (f < -1 || f > 255 || t < -1 || t > 255)) throw badRequest(`Invalid port range ${f}:${t}. For ICMP, the type:code must be valid`);
    Object.assign(values, { protocol: proto, from_port: f, to_port: t });
  } else if (cidr && !remoteGroup) {
    return null;
  }
  return values;
}

const CIDR = /^(\d{1,3}(\.\d{1,3}){3})\/(\d{1,2})$|^([0-9a-fA-F:]+)\/(\d{1,3})$/;
function parseCidr(v: unknown): string {
  if (v === undefined || v === null || v === '') return '0.0.0.0/0';
  const s = decodeURIComponent(String(v));
  const m = CIDR.exec(s);
  const ok = m && (m[1] ? m[1].split('.').every((o) => Number(o) <= 255) && Number(m[3]) <= 32 : Number(m[5]) <= 128 && s.includes(':'));
  if (!ok) throw badRequest(`${s} is not a valid IP network.`);
  return s;
}

// ---- images ---------------------------------------------------------------------------------

const IMAGE_STATUS: Record<string, string> = { active: 'ACTIVE', queued: 'SAVING', saving: 'SAVING', deleted: 'DELETED', pending_delete: 'DELETED', killed: 'ERROR' };
const IMAGE_PROGRESS: Record<string, number> = { queued: 25, saving: 50, active: 100 };

function imageLinks(req: FastifyRequest, deps: ComputeDeps, id: string) {
  const glance = computeRoot(req, deps.platform).replace(/\/compute$/, '/image');
  return [...links(req, deps.platform, 'images', id), { rel: 'alternate', type: 'application/vnd.openstack.image', href: `${glance}/images/${id}` }];
}

function imageView(req: FastifyRequest, deps: ComputeDeps, img: ImageRow) {
  const metadata = JSON.parse(img.properties || '{}') as Record<string, string>;
  const v: Record<string, unknown> = {
    id: img.id, name: img.name, minRam: img.min_ram ?? 0, minDisk: img.min_disk ?? 0, metadata,
    created: novaTime(img.created_at), updated: novaTime(img.updated_at), status: IMAGE_STATUS[img.status] ?? 'UNKNOWN',
    progress: IMAGE_PROGRESS[img.status] ?? 0, 'OS-EXT-IMG-SIZE:size': img.size, links: imageLinks(req, deps, img.id),
  };
  if (metadata.instance_uuid !== undefined) v.server = { id: metadata.instance_uuid, links: links(req, deps.platform, 'servers', metadata.instance_uuid) };
  if (metadata.auto_disk_config !== undefined) v['OS-DCF:diskConfig'] = ['true', '1', 'yes', 'on', 'y', 't'].includes(metadata.auto_disk_config.toLowerCase()) ? 'AUTO' : 'MANUAL';
  return v;
}

export async function proxyRoutes(app: FastifyInstance, deps: ComputeDeps): Promise<void> {
  const sg = () => deps.network.securityGroups;

  // ---- os-security-groups -----------------------------------------------------------------
  app.get('/v2.1/os-security-groups', async (req) => {
    proxy(req);
    const q = req.query as Record<string, string | undefined>;
    const num = (k: string) => {
      const v = q[k];
      if (v === undefined) return undefined;
      if (!/^\d+$/.test(v)) throw badRequest(`Invalid input for query parameters ${k}. Value: ${v}. '${v}' does not match '^[0-9]*$'`);
      return Number(v);
    };
    const offset = num('offset') ?? 0;
    const limit = num('limit');
    let groups = await sg().list(req.ctx, 'all_tenants' in q);
    groups = groups.slice(offset, limit === undefined ? undefined : offset + limit);
    return { security_groups: await novaSecurityGroupViews(deps, groups) };
  });
  app.get('/v2.1/os-security-groups/:id', async (req) => {
    proxy(req);
    const id = groupId((req.params as { id: string }).id);
    const g = await sg().get(req.ctx, id).catch((err: ApiError) => { throw err.status === 404 ? nova(404, err) : err; });
    return { security_group: (await novaSecurityGroupViews(deps, [g]))[0] };
  });
  app.post('/v2.1/os-security-groups', async (req) => {
    proxy(req);
    requireMember(req, 'os_compute_api:os-security-groups:create');
    const { name, description } = nameAndDescription(req);
    // Nova: Neutron's 400 is a 400, its 409 (the name `default`, quota) a 403.
    const g = await sg().create(req.ctx, name, description)
      .catch((err: ApiError) => { throw err.status === 409 ? nova(403, err) : err.status === 400 ? nova(400, err) : err; });
    return { security_group: (await novaSecurityGroupViews(deps, [g]))[0] };
  });
  app.put('/v2.1/os-security-groups/:id', async (req) => {
    proxy(req);
    const id = groupId((req.params as { id: string }).id);
    await sg().get(req.ctx, id).catch((err: ApiError) => { throw err.status === 404 ? nova(404, err) : err; });
    requireMember(req, 'os_compute_api:os-security-groups:update');
    const { name, description } = nameAndDescription(req);
    const g = await sg().update(req.ctx, id, name, description)
      .catch((err: ApiError) => { throw err.status === 404 ? nova(404, err) : err.status === 400 || err.status === 409 ? nova(400, err) : err; });
    return { security_group: (await novaSecurityGroupViews(deps, [g]))[0] };
  });
  app.delete('/v2.1/os-security-groups/:id', async (req, reply) => {
    proxy(req);
    const id = groupId((req.params as { id: string }).id);
    requireMember(req, 'os_compute_api:os-security-groups:delete');
    // A group in use or the project's default: Neutron's 409, Nova's 400.
    await sg().delete(req.ctx, id).catch((err: ApiError) => { throw err.status === 404 ? nova(404, err) : err.status === 409 ? nova(400, err) : err; });
    reply.status(202).send();
  });
  app.delete('/v2.1/os-security-groups/', async (req) => { proxy(req); throw notFound('The resource could not be found.'); });

  // ---- os-security-group-rules ------------------------------------------------------------
  app.post('/v2.1/os-security-group-rules', async (req) => {
    proxy(req);
    requireMember(req, 'os_compute_api:os-security-groups:rule:create');
    const r = inner(req, 'security_group_rule');
    if (r.parent_group_id === undefined) throw badRequest(`Invalid input for field/attribute security_group_rule. Value: ${JSON.stringify(r)}. 'parent_group_id' is a required property`);
    if (typeof r.parent_group_id !== 'string' || !isUuid(r.parent_group_id)) throw badRequest(`Invalid input for field/attribute parent_group_id. Value: ${JSON.stringify(r.parent_group_id)}. ${JSON.stringify(r.parent_group_id)} is not a 'uuid'`);
    if (r.group_id !== undefined && r.group_id !== null && (typeof r.group_id !== 'string' || !isUuid(r.group_id))) throw badRequest(`Invalid input for field/attribute group_id. Value: ${JSON.stringify(r.group_id)}. ${JSON.stringify(r.group_id)} is not a 'uuid'`);
    const notFound404 = (err: ApiError) => { throw err.status === 404 ? nova(404, err) : err; };
    const parent = await sg().get(req.ctx, r.parent_group_id).catch(notFound404);
    const remote = typeof r.group_id === 'string' ? await sg().get(req.ctx, r.group_id).catch(notFound404) : null;
    const cidr = remote ? null : parseCidr(r.cidr);
    const rule = newIngressRule(r.ip_protocol, r.from_port, r.to_port, remote?.id ?? null, cidr);
    if (!rule) throw badRequest('Not enough parameters to build a valid rule.');
    if (rule.cidr) {
      const [net, prefix] = rule.cidr.split('/');
      if (net !== '0.0.0.0' && net !== '::' && prefix === '0') throw badRequest(`Bad prefix for network in cidr ${rule.cidr}`);
    }
    // The same rule already in the group (Nova compares its own view of the group's rules).
    const converted = parent.rules.filter((x) => x.direction === 'ingress').map((x) => {
      const v = ruleView({ ...x, remoteGroupId: null }, new Map());
      return { group_id: x.remoteGroupId, cidr: x.remoteIpPrefix ?? '0.0.0.0/0', from_port: v!.from_port, to_port: v!.to_port, protocol: x.protocol };
    });
    const same = (x: unknown, y: unknown) => (x ?? null) === (y ?? null);
    const dup = converted.some((e) => same(e.group_id, rule.group_id) && same(e.cidr, rule.cidr) && same(e.from_port, rule.from_port)
      && same(e.to_port, rule.to_port) && same(e.protocol, rule.protocol));
    if (dup) throw badRequest(`This rule already exists in group ${parent.id}`);
    const neutronRule: Record<string, unknown> = {
      security_group_id: parent.id, direction: 'ingress', protocol: rule.protocol ?? null,
      ethertype: rule.cidr && rule.cidr.includes(':') ? 'IPv6' : 'IPv4', remote_ip_prefix: rule.cidr ?? null, remote_group_id: rule.group_id ?? null,
      ...(rule.from_port !== undefined && rule.from_port !== -1 ? { port_range_min: rule.from_port } : {}),
      ...(rule.to_port !== undefined && rule.to_port !== -1 ? { port_range_max: rule.to_port } : {}),
    };
    const made = await sg().createRule(req.ctx, neutronRule)
      .catch((err: ApiError) => { throw err.status === 404 ? nova(404, err) : err.status === 409 && err.type === 'OverQuota' ? nova(403, err) : err.status === 400 || err.status === 409 ? nova(400, err) : err; });
    const groups = new Map([[parent.id, parent], ...(remote ? [[remote.id, remote] as const] : [])]);
    return { security_group_rule: ruleView(made, groups) };
  });
  app.delete('/v2.1/os-security-group-rules/:id', async (req, reply) => {
    proxy(req);
    const id = groupId((req.params as { id: string }).id);
    requireMember(req, 'os_compute_api:os-security-groups:rule:delete');
    await sg().deleteRule(req.ctx, id).catch((err: ApiError) => { throw err.status === 404 ? nova(404, err) : err; });
    reply.status(202).send();
  });

  // ---- images -----------------------------------------------------------------------------
  const image = async (req: FastifyRequest, id: string) => {
    if (!isUuid(id)) throw notFound('Image not found.');
    return deps.image.getImage(req.ctx, id).catch((err: ApiError) => { throw err.status === 404 ? notFound('Image not found.') : err; });
  };
  const listImages = async (req: FastifyRequest, detail: boolean) => {
    proxy(req);
    const q = req.query as Record<string, string | undefined>;
    let rows = await deps.image.listImages(req.ctx);
    const prop = (img: ImageRow) => JSON.parse(img.properties || '{}') as Record<string, string>;
    if (q.name !== undefined) rows = rows.filter((i) => i.name === q.name);
    if (q.status !== undefined) rows = rows.filter((i) => i.status === q.status!.toLowerCase());
    if (q.server !== undefined) { const s = q.server.split('/').pop(); rows = rows.filter((i) => prop(i).instance_uuid === s); }
    if (q.type !== undefined) rows = rows.filter((i) => prop(i).image_type === q.type);
    for (const [k, col] of [['minRam', 'min_ram'], ['minDisk', 'min_disk']] as const) {
      if (q[k] === undefined) continue;
      if (!/^\d+$/.test(q[k]!)) throw badRequest(`Invalid ${k} filter [${q[k]}]`);
      rows = rows.filter((i) => i[col] >= Number(q[k]));
    }
    if (q['changes-since'] !== undefined) {
      const v = q['changes-since'];
      const t = Date.parse(/Z$|[+-]\d\d:?\d\d$/.test(v) ? v : `${v}Z`);
      if (Number.isNaN(t)) throw badRequest(`Invalid changes-since value: ${v}`);
      rows = rows.filter((i) => i.updated_at >= t);
    }
    for (const [k, v] of Object.entries(q)) if (k.startsWith('property-') && v !== undefined) rows = rows.filter((i) => prop(i)[k.slice(9)] === v);
    if (q.marker !== undefined) {
      const at = rows.findIndex((i) => i.id === q.marker);
      if (at < 0) throw badRequest(`marker [${q.marker}] not found`);
      rows = rows.slice(at + 1);
    }
    let limit: number | null = null;
    if (q.limit !== undefined) {
      if (!/^\d+$/.test(q.limit)) throw badRequest(`limit param must be an integer`);
      limit = Number(q.limit);
      rows = rows.slice(0, limit);
    }
    const images = rows.map((i) => (detail ? imageView(req, deps, i) : { id: i.id, name: i.name, links: imageLinks(req, deps, i.id) }));
    const out: Record<string, unknown> = { images };
    if (limit !== null && limit > 0 && rows.length === limit) {
      const qs = new URLSearchParams(q as Record<string, string>);
      qs.set('marker', rows[rows.length - 1]!.id);
      out.images_links = [{ rel: 'next', href: `${computeRoot(req, deps.platform)}/v2.1/images${detail ? '/detail' : ''}?${qs.toString()}` }];
    }
    return out;
  };
  app.get('/v2.1/images', (req) => listImages(req, false));
  app.get('/v2.1/images/detail', (req) => listImages(req, true));
  app.get('/v2.1/images/:id', async (req) => {
    proxy(req);
    return { image: imageView(req, deps, await image(req, (req.params as { id: string }).id)) };
  });
  app.delete('/v2.1/images/:id', async (req, reply) => {
    proxy(req);
    const id = (req.params as { id: string }).id;
    await image(req, id);
    await deps.image.deleteImage(req.ctx, id).catch((err: ApiError) => {
      if (err.status === 404) throw notFound('Image not found.');
      if (err.status === 403) throw forbidden('You are not allowed to delete the image.');
      throw err;
    });
    reply.status(204).send();
  });

  // ---- image metadata (to 2.38) -----------------------------------------------------------
  const META_KEY = /^[a-zA-Z0-9-_:. ]{1,255}$/;
  const metaBody = (req: FastifyRequest, key: string, single: boolean): Record<string, string> => {
    const b = req.body as Record<string, unknown> | undefined;
    if (!b || typeof b !== 'object' || Array.isArray(b) || b[key] === undefined) throw badRequest(`Invalid input for field/attribute ${key}. Value: ${JSON.stringify(b ?? null)}. '${key}' is a required property`);
    const extra = Object.keys(b).filter((k) => k !== key);
    if (extra.length) throw badRequest(`Additional properties are not allowed ('${extra.join("', '")}' was unexpected)`);
    const m = b[key];
    if (!m || typeof m !== 'object' || Array.isArray(m)) throw badRequest(`Invalid input for field/attribute ${key}. Value: ${JSON.stringify(m)}. ${JSON.stringify(m)} is not of type 'object'`);
    const entries = Object.entries(m as Record<string, unknown>);
    if (single && entries.length !== 1) throw badRequest(`Invalid input for field/attribute ${key}. Value: ${JSON.stringify(m)}. ${entries.length ? 'has too many properties' : 'does not have enough properties'}`);
    for (const [k, v] of entries) {
      if (!META_KEY.test(k)) throw badRequest(`Invalid input for field/attribute ${key}. Value: ${JSON.stringify(m)}. Additional properties are not allowed ('${k}' was unexpected)`);
      if (typeof v !== 'string') throw badRequest(`Invalid input for field/attribute ${k}. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not of type 'string'`);
      if (v.length > 255) throw badRequest(`Invalid input for field/attribute ${k}. Value: ${v}. '${v}' is too long`);
    }
    return m as Record<string, string>;
  };
  const propsOf = (img: ImageRow) => JSON.parse(img.properties || '{}') as Record<string, string>;
  const writeProps = async (req: FastifyRequest, img: ImageRow, props: Record<string, string>) => {
    const limit = req.ctx.projectId ? (await computeLimits(deps.db, req.ctx.projectId)).metadata_items ?? 128 : 128;
    if (limit >= 0 && Object.keys(props).length > limit) throw forbidden('Image metadata limit exceeded');
    await deps.image.setImageProperties(req.ctx, img.id, props).catch((err: ApiError) => {
      if (err.status === 404) throw notFound('Image not found.');
      if (err.status === 403) throw forbidden(err.message);
      if (err.status === 400) throw badRequest(err.message);
      throw err;
    });
  };
  const imageParam = (req: FastifyRequest) => { upTo(req, '2.38'); return image(req, (req.params as { id: string }).id); };
  app.get('/v2.1/images/:id/metadata', async (req) => ({ metadata: propsOf(await imageParam(req)) }));
  app.get('/v2.1/images/:id/metadata/:key', async (req) => {
    const props = propsOf(await imageParam(req));
    const key = (req.params as { key: string }).key;
    if (!Object.prototype.hasOwnProperty.call(props, key)) throw notFound('The resource could not be found.');
    return { meta: { [key]: props[key] } };
  });
  app.post('/v2.1/images/:id/metadata', async (req) => {
    upTo(req, '2.38');
    const body = metaBody(req, 'metadata', false);
    const img = await imageParam(req);
    const next = { ...propsOf(img), ...body };
    await writeProps(req, img, next);
    return { metadata: next };
  });
  app.put('/v2.1/images/:id/metadata', async (req) => {
    upTo(req, '2.38');
    const body = metaBody(req, 'metadata', false);
    const img = await imageParam(req);
    await writeProps(req, img, body);
    return { metadata: body };
  });
  app.put('/v2.1/images/:id/metadata/:key', async (req) => {
    upTo(req, '2.38');
    const key = (req.params as { key: string }).key;
    const body = metaBody(req, 'meta', true);
    if (!(key in body)) throw badRequest('Request body and URI mismatch');
    const img = await imageParam(req);
    await writeProps(req, img, { ...propsOf(img), ...body });
    return { meta: body };
  });
  app.delete('/v2.1/images/:id/metadata/:key', async (req, reply) => {
    const img = await imageParam(req);
    const key = (req.params as { key: string }).key;
    const props = propsOf(img);
    if (!Object.prototype.hasOwnProperty.call(props, key)) throw notFound('Invalid metadata key');
    delete props[key];
    await writeProps(req, img, props);
    reply.status(204).send();
  });

  // ---- os-floating-ips, os-floating-ip-pools ---------------------------------------------
  const fipView = (f: { id: string; address: string; networkId: string; networkName: string; fixedIp: string | null; deviceId: string | null }) => ({
    fixed_ip: f.fixedIp, id: f.id, instance_id: f.deviceId, ip: f.address, pool: f.networkName || f.networkId,
  });
  const fipId = (req: FastifyRequest) => {
    const id = (req.params as { id: string }).id;
    if (!isUuid(id)) throw badRequest(`Invalid ID received ${id}.`);
    return id;
  };
  const fipNotFound = (id: string) => (err: ApiError) => { throw err.status === 404 ? notFound(`Floating IP not found for ID ${id}`) : err; };
  const externalNetworks = async (req: FastifyRequest) => (await deps.network.allNetworks(req.ctx)).filter((n) => n.external === 1);
  app.get('/v2.1/os-floating-ips', async (req) => {
    proxy(req);
    return { floating_ips: (await deps.network.floatingIps.list(req.ctx)).map(fipView) };
  });
  app.get('/v2.1/os-floating-ips/:id', async (req) => {
    proxy(req);
    const id = fipId(req);
    return { floating_ip: fipView(await deps.network.floatingIps.get(req.ctx, id).catch(fipNotFound(id))) };
  });
  app.post('/v2.1/os-floating-ips', async (req) => {
    proxy(req);
    requireMember(req, 'os_compute_api:os-floating-ips:create');
    const b = req.body as Record<string, unknown> | null | undefined;
    const pool = b && typeof b === 'object' && b.pool !== undefined && b.pool !== null ? b.pool : null;
    if (pool !== null && typeof pool !== 'string') throw badRequest(`Invalid input for field/attribute pool. Value: ${JSON.stringify(pool)}. ${JSON.stringify(pool)} is not of type 'string', 'null'`);
    // The pool by name or id; without one, the cloud's first external network.
    const nets = await externalNetworks(req);
    const net = pool === null ? nets[0] : nets.find((n) => n.name === pool) ?? nets.find((n) => n.id === pool);
    if (!net) throw notFound('Floating IP pool not found.');
    const where = pool === null ? '' : ` in pool ${pool}`;
    const made = await deps.network.floatingIps.create(req.ctx, net.id).catch((err: ApiError) => {
      if (err.type === 'OverQuota') throw forbidden(`IP allocation over quota${where}.`);
      if (err.type === 'IpAddressGenerationFailure' || err.type === 'IpAddressGenerationFailureNoMatchingSubnet') throw notFound(pool === null ? 'No more floating IPs available.' : `No more floating IPs in pool ${pool}.`);
      if (err.status === 400) throw badRequest(err.message);
      throw err;
    });
    return { floating_ip: fipView(made) };
  });
  app.delete('/v2.1/os-floating-ips/:id', async (req, reply) => {
    proxy(req);
    const id = fipId(req);
    requireMember(req, 'os_compute_api:os-floating-ips:delete');
    await deps.network.floatingIps.delete(req.ctx, id).catch(fipNotFound(id));
    reply.status(202).send();
  });
  app.get('/v2.1/os-floating-ip-pools', async (req) => {
    proxy(req);
    return { floating_ip_pools: (await externalNetworks(req)).map((n) => ({ name: n.name || n.id })) };
  });

  // ---- os-networks, os-tenant-networks ----------------------------------------------------
  const FIELDS = ['id', 'cidr', 'netmask', 'gateway', 'broadcast', 'dns1', 'dns2', 'cidr_v6', 'gateway_v6', 'label', 'netmask_v6'];
  const ADMIN_FIELDS = ['created_at', 'updated_at', 'deleted_at', 'deleted', 'injected', 'bridge', 'vlan', 'vpn_public_address', 'vpn_public_port',
    'vpn_private_address', 'dhcp_start', 'project_id', 'host', 'bridge_interface', 'multi_host', 'priority', 'rxtx_base', 'mtu', 'dhcp_server',
    'enable_dhcp', 'share_address'];
  // What Nova's neutron-backed proxy shows: the id and the name as label; nova-network's other fields are null.
  const networkDict = (req: FastifyRequest, n: { id: string; name: string }) =>
    Object.fromEntries([...FIELDS, ...(req.ctx.isAdmin ? ADMIN_FIELDS : [])].map((f) => [f, f === 'id' ? n.id : f === 'label' ? n.name : null]));
  const tenantNetworkDict = (n: { id: string; name: string }) => ({ id: n.id, cidr: 'None', label: n.name });
  const network = (req: FastifyRequest) => {
    const id = (req.params as { id: string }).id;
    return deps.network.getNetwork(req.ctx, id).catch(() => { throw notFound('Network not found'); });
  };
  app.get('/v2.1/os-networks', async (req) => {
    proxy(req);
    return { networks: (await deps.network.allNetworks(req.ctx)).map((n) => networkDict(req, n)) };
  });
  app.get('/v2.1/os-networks/:id', async (req) => {
    proxy(req);
    return { network: networkDict(req, await network(req)) };
  });
  app.get('/v2.1/os-tenant-networks', async (req) => {
    proxy(req);
    return { networks: (await deps.network.allNetworks(req.ctx)).map(tenantNetworkDict) };
  });
  app.get('/v2.1/os-tenant-networks/:id', async (req) => {
    proxy(req);
    return { network: tenantNetworkDict(await network(req)) };
  });
  // nova-network's operations: removed upstream (410 Gone).
  app.post('/v2.1/os-networks', resourceGone);
  app.post('/v2.1/os-networks/add', resourceGone);
  app.post('/v2.1/os-networks/:id/action', resourceGone);
  app.delete('/v2.1/os-networks/:id', resourceGone);
  app.post('/v2.1/os-tenant-networks', resourceGone);
  app.delete('/v2.1/os-tenant-networks/:id', resourceGone);
}
