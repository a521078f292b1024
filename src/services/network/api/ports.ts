import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RequestContext } from '../../../platform/auth/context.js';
import { now } from '../../../platform/clock.js';
import type { NetDb, PortRow } from '../store.js';
import { portViews } from '../views.js';
import { createPort, deletePortRows, parseAddressPairs, parseDhcpOpts, portStatus, replaceFixedIps } from '../logic/ports.js';
import { getNetwork } from './networks.js';
import { listRows, pickFields, standardColumns, sameName, type ListSpec } from './listing.js';
import { badInput, boolValue, conflictError, neutronError, notFoundError, ownerOf, requireWriter, resourceBody, strValue, type NetDeps, createBodies } from './common.js';

/** /v2.0/ports, with fixed IPs, MACs, bindings, address pairs and security groups. */
const ATTRS = ['network_id', 'name', 'description', 'admin_state_up', 'mac_address', 'fixed_ips', 'device_id', 'device_owner', 'security_groups',
  'port_security_enabled', 'allowed_address_pairs', 'extra_dhcp_opts', 'binding:host_id', 'binding:profile', 'binding:vnic_type', 'dns_name',
  'tenant_id', 'project_id'];
const ADMIN_ONLY = ['binding:host_id', 'binding:profile'];

export const portList: ListSpec = {
  collection: 'ports', table: 'port', tagType: 'ports',
  columns: {
    ...standardColumns, ...sameName('str', ['network_id', 'mac_address', 'status', 'device_id', 'device_owner', 'dns_name']),
    ...sameName('bool', ['admin_state_up', 'port_security_enabled']), 'binding:host_id': { col: 'binding_host_id', kind: 'str' },
    'binding:vnic_type': { col: 'binding_vnic_type', kind: 'str' },
  },
  sortable: ['id', 'name', 'project_id', 'network_id', 'mac_address', 'status', 'device_id', 'device_owner', 'admin_state_up', 'created_at', 'updated_at'],
};

/** Ports a caller sees: its own and those on networks it owns (Neutron's network-owner rule). */
export function visiblePorts(db: NetDb, ctx: RequestContext) {
  let q = db.selectFrom('port').selectAll('port');
  if (!ctx.isAdmin) {
    const p = ctx.projectId ?? '';
    q = q.where((eb) => eb.or([eb('port.project_id', '=', p), eb('port.network_id', 'in', eb.selectFrom('network').select('id').where('project_id', '=', p))]));
  }
  return q;
}

export async function getPort(db: NetDb, ctx: RequestContext, id: string): Promise<PortRow> {
  const p = await visiblePorts(db, ctx).where('port.id', '=', id).executeTakeFirst();
  if (!p) throw notFoundError('Port', id);
  return p as PortRow;
}

export async function portRoutes(app: FastifyInstance, deps: NetDeps): Promise<void> {
  const { db, platform, hooks } = deps;
  const show = async (req: FastifyRequest, id: string) => pickFields(req, (await portViews(db, req.ctx, [(await db.selectFrom('port').selectAll().where('id', '=', id).executeTakeFirst())!]))[0]!);

  app.post('/v2.0/ports', async (req, reply) => {
    const ctx = req.ctx;
    requireWriter(ctx);
    const { items, bulk } = createBodies(req, 'port', 'ports', ATTRS);
    // A bulk create is all or nothing.
    const ids = await db.transaction().execute(async (trx) => {
      const out: string[] = [];
      for (const b of items) {
        if (typeof b.network_id !== 'string') throw badInput("'network_id' is required");
        for (const a of ADMIN_ONLY) if (b[a] !== undefined && !ctx.isAdmin) throw neutronError(403, 'HTTPForbidden', `(rule:create_port and rule:create_port:${a}) is disallowed by policy`);
        const network = await getNetwork(trx, ctx, b.network_id);
        const networkOwner = ctx.isAdmin || network.project_id === ctx.projectId;
        if (!networkOwner && Array.isArray(b.fixed_ips) && b.fixed_ips.some((f) => f && typeof f === 'object' && 'ip_address' in f)) {
          throw neutronError(403, 'HTTPForbidden', '(rule:create_port and rule:create_port:fixed_ips:ip_address) is disallowed by policy');
        }
        if (!networkOwner && b.mac_address !== undefined) throw neutronError(403, 'HTTPForbidden', '(rule:create_port and rule:create_port:mac_address) is disallowed by policy');
        const owner = ownerOf(ctx, b);
        out.push((await createPort(trx, platform.dialect, hooks, { network, projectId: owner, body: b, ctx })).port.id);
      }
      return out;
    });
    reply.status(201);
    const views = await Promise.all(ids.map((id) => show(req, id)));
    return bulk ? { ports: views } : { port: views[0] };
  });

  app.get('/v2.0/ports', async (req) => {
    const q = req.query as Record<string, unknown>;
    let base = visiblePorts(db, req.ctx);
    // fixed_ips=ip_address=X / subnet_id=Y, as the CLI's --fixed-ip filter sends it.
    for (const f of q.fixed_ips === undefined ? [] : (Array.isArray(q.fixed_ips) ? q.fixed_ips : [q.fixed_ips]).map(String)) {
      const [k, v] = f.split('=');
      if ((k !== 'ip_address' && k !== 'subnet_id' && k !== 'ip_address_substr') || v === undefined) throw badInput(`Invalid fixed_ips filter ${f}`);
      base = base.where('port.id', 'in', k === 'ip_address_substr'
        ? db.selectFrom('ip_allocation').select('port_id').where('ip_address', 'like', `%${v}%`)
        : db.selectFrom('ip_allocation').select('port_id').where(k, '=', v));
    }
    if (q.security_groups !== undefined) {
      const sgs = (Array.isArray(q.security_groups) ? q.security_groups : [q.security_groups]).map(String);
      base = base.where('port.id', 'in', db.selectFrom('port_security_group').select('port_id').where('security_group_id', 'in', sgs));
    }
    const { rows, links } = await listRows(req, db, base, portList);
    const views = await portViews(db, req.ctx, rows as PortRow[]);
    return { ports: views.map((v) => pickFields(req, v)), ...(links.length ? { ports_links: links } : {}) };
  });

  app.get('/v2.0/ports/:id', async (req) => {
    const p = await getPort(db, req.ctx, (req.params as { id: string }).id);
    return { port: pickFields(req, (await portViews(db, req.ctx, [p]))[0]!) };
  });

  app.put('/v2.0/ports/:id', async (req) => {
    const ctx = req.ctx;
    const id = (req.params as { id: string }).id;
    const port = await getPort(db, ctx, id);
    requireWriter(ctx);
    const b = resourceBody(req, 'port', ATTRS.filter((a) => !['network_id', 'tenant_id', 'project_id'].includes(a)));
    for (const a of [...ADMIN_ONLY, 'mac_address']) if (b[a] !== undefined && !ctx.isAdmin) throw neutronError(403, 'HTTPForbidden', `(rule:update_port:${a}) is disallowed by policy`);
    if (!ctx.isAdmin && port.project_id !== ctx.projectId) {
      // The network owner may see a port but only its own project may change it.
      throw neutronError(403, 'HTTPForbidden', '(rule:update_port) is disallowed by policy');
    }
    await db.transaction().execute(async (trx) => {
      const set: Partial<PortRow> = {};
      if (b.name !== undefined) set.name = strValue(b.name, 'name')!;
      if (b.description !== undefined) set.description = strValue(b.description, 'description')!;
      if (b.admin_state_up !== undefined) set.admin_state_up = boolValue(b.admin_state_up, 'admin_state_up') ? 1 : 0;
      if (b.device_id !== undefined) set.device_id = strValue(b.device_id, 'device_id')!;
      if (b.device_owner !== undefined) set.device_owner = strValue(b.device_owner, 'device_owner')!;
      if (b.dns_name !== undefined) set.dns_name = strValue(b.dns_name, 'dns_name')!;
      if (b['binding:host_id'] !== undefined) set.binding_host_id = strValue(b['binding:host_id'], 'binding:host_id')!;
      if (b['binding:profile'] !== undefined) set.binding_profile = JSON.stringify(b['binding:profile'] ?? {});
      if (b['binding:vnic_type'] !== undefined) set.binding_vnic_type = strValue(b['binding:vnic_type'], 'binding:vnic_type')!;
      if (b.mac_address !== undefined) {
        if (port.binding_host_id) throw conflictError('PortBound', `Unable to complete operation on port ${id}, port is already bound.`);
        set.mac_address = String(b.mac_address).toLowerCase();
      }
      if (b.extra_dhcp_opts !== undefined) set.extra_dhcp_opts = JSON.stringify(parseDhcpOpts(b.extra_dhcp_opts ?? []));
      const security = b.port_security_enabled === undefined ? port.port_security_enabled === 1 : boolValue(b.port_security_enabled, 'port_security_enabled');
      set.port_security_enabled = security ? 1 : 0;
      const pairs = b.allowed_address_pairs === undefined ? JSON.parse(port.allowed_address_pairs) : parseAddressPairs(b.allowed_address_pairs ?? []);
      if (b.allowed_address_pairs !== undefined) set.allowed_address_pairs = JSON.stringify(pairs);
      if (!security && pairs.length) throw conflictError('AddressPairAndPortSecurityRequired', 'Port Security must be enabled in order to have allowed address pairs on a port.');
      if (b.security_groups !== undefined) {
        const asked = b.security_groups === null ? [] : b.security_groups;
        if (!Array.isArray(asked)) throw badInput('security_groups must be a list');
        const groups = hooks.checkSecurityGroups ? await hooks.checkSecurityGroups(trx, port.project_id, asked as string[], ctx.isAdmin) : [];
        await trx.deleteFrom('port_security_group').where('port_id', '=', id).execute();
        if (groups.length) await trx.insertInto('port_security_group').values(groups.map((g) => ({ port_id: id, security_group_id: g }))).execute();
      }
      if (!security) {
        const still = await trx.selectFrom('port_security_group').select('security_group_id').where('port_id', '=', id).executeTakeFirst();
        if (still) throw conflictError('PortSecurityPortHasSecurityGroup', 'Port has security group associated. Cannot disable port security or IP address until security group is removed');
      }
      if (b.fixed_ips !== undefined) await replaceFixedIps(trx, platform.dialect, port, b.fixed_ips ?? []);
      const merged = { ...port, ...set };
      await trx.updateTable('port').set({ ...set, status: portStatus(merged), updated_at: now(), revision_number: port.revision_number + 1 }).where('id', '=', id).execute();
    });
    return { port: await show(req, id) };
  });

  app.delete('/v2.0/ports/:id', async (req, reply) => {
    const ctx = req.ctx;
    const id = (req.params as { id: string }).id;
    const port = await getPort(db, ctx, id);
    requireWriter(ctx);
    if (!ctx.isAdmin && port.project_id !== ctx.projectId) {
      const net = await db.selectFrom('network').select('project_id').where('id', '=', port.network_id).executeTakeFirst();
      if (net?.project_id !== ctx.projectId) throw neutronError(403, 'HTTPForbidden', '(rule:delete_port) is disallowed by policy');
    }
    await db.transaction().execute(async (trx) => {
      for (const h of hooks.beforePortDelete ?? []) await h(trx, id, port.device_owner, false);
      await deletePortRows(trx, [id]);
    });
    reply.status(204).send();
  });
}
