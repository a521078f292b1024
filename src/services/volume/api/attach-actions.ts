import type { FastifyInstance, FastifyReply } from 'fastify';
import { badRequest, isUuid, requireAdmin, requireMember, type VolumeDeps } from './common.js';
import { actionArgs, registerVolumeAction } from './volume-actions.js';
import {
  attach, beginDetaching, connectionInfo, detach, reserve, rollDetaching, unreserve, type AttachMode, type Connector,
} from '../logic/attachments.js';

/**
 * The legacy attach actions on POST /volumes/{id}/action, as a hypervisor's compute service
 * calls them: os-reserve/os-unreserve, os-initialize_connection, os-attach,
 * os-begin_detaching/os-roll_detaching, os-terminate_connection, os-detach, and the admin's
 * os-force_detach. The rules live in logic/attachments.ts.
 */

const connectorOf = (a: Record<string, unknown>, action: string): Connector => {
  const c = a.connector;
  if (c === undefined || c === null) throw badRequest("Must specify 'connector'");
  if (typeof c !== 'object' || Array.isArray(c)) throw badRequest(`Invalid input for field/attribute ${action}. Value: ${JSON.stringify(c)}. ${JSON.stringify(c)} is not of type 'object'`);
  return c as Connector;
};

const optText = (v: unknown, field: string): string | null => {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not of type 'string'`);
  return v;
};

/** 202 with no body at all: Cinder's actions answer so, and Tempest refuses even a `null`. */
const accepted = (reply: FastifyReply) => reply.status(202).send();

registerVolumeAction('os-reserve', async (req, reply, vol, _raw, d) => {
  requireMember(req.ctx, 'volume_extension:volume_actions:reserve');
  await reserve(d, vol.id);
  return accepted(reply);
});

registerVolumeAction('os-unreserve', async (req, reply, vol, _raw, d) => {
  requireMember(req.ctx, 'volume_extension:volume_actions:unreserve');
  await unreserve(d, vol.id);
  return accepted(reply);
});

registerVolumeAction('os-attach', async (req, reply, vol, raw, d) => {
  requireMember(req.ctx, 'volume_extension:volume_actions:attach');
  const a = actionArgs(raw, 'os-attach');
  const instanceId = optText(a.instance_uuid, 'instance_uuid');
  const host = optText(a.host_name, 'host_name');
  if (!instanceId && !host) throw badRequest('Invalid request to attach volume to an invalid target');
  if (instanceId && !isUuid(instanceId)) throw badRequest(`Invalid request to attach volume with an invalid instance_uuid ${instanceId}`);
  const mountpoint = optText(a.mountpoint, 'mountpoint');
  if (!mountpoint) throw badRequest("Invalid input for field/attribute os-attach. 'mountpoint' is a required property");
  const mode = a.mode === undefined || a.mode === null ? null : a.mode;
  if (mode !== null && mode !== 'rw' && mode !== 'ro') throw badRequest('Invalid request to attach volume with an invalid mode. Attaching mode should be \'rw\' or \'ro\'');
  await attach(d, vol.id, { instanceId, host, mountpoint, mode: mode as AttachMode | null });
  return accepted(reply);
});

registerVolumeAction('os-begin_detaching', async (req, reply, vol, _raw, d) => {
  requireMember(req.ctx, 'volume_extension:volume_actions:begin_detaching');
  await beginDetaching(d, vol.id);
  return accepted(reply);
});

registerVolumeAction('os-roll_detaching', async (req, reply, vol, _raw, d) => {
  requireMember(req.ctx, 'volume_extension:volume_actions:roll_detaching');
  await rollDetaching(d, vol.id);
  return accepted(reply);
});

registerVolumeAction('os-detach', async (req, reply, vol, raw, d) => {
  requireMember(req.ctx, 'volume_extension:volume_actions:detach');
  const a = actionArgs(raw, 'os-detach');
  const attachmentId = optText(a.attachment_id, 'attachment_id');
  await detach(d, vol.id, attachmentId);
  return accepted(reply);
});

registerVolumeAction('os-force_detach', async (req, reply, vol, raw, d) => {
  requireAdmin(req.ctx, 'volume_extension:volume_admin_actions:force_detach');
  const a = actionArgs(raw, 'os-force_detach');
  await detach(d, vol.id, optText(a.attachment_id, 'attachment_id'), true);
  return accepted(reply);
});

registerVolumeAction('os-initialize_connection', async (req, _reply, vol, raw, d) => {
  requireMember(req.ctx, 'volume_extension:volume_actions:initialize_connection');
  const connector = connectorOf(actionArgs(raw, 'os-initialize_connection'), 'os-initialize_connection');
  if (['error', 'creating', 'deleting', 'maintenance'].includes(vol.status)) {
    throw badRequest(`Invalid volume: Volume ${vol.id} status must not be ${vol.status} to initialize a connection.`);
  }
  const att = await d.db.selectFrom('volume_attachment').selectAll().where('volume_id', '=', vol.id).orderBy('created_at', 'desc').executeTakeFirst();
  return { connection_info: connectionInfo(d, vol, att ?? null, connector) };
});

registerVolumeAction('os-terminate_connection', async (req, reply, _vol, raw) => {
  requireMember(req.ctx, 'volume_extension:volume_actions:terminate_connection');
  connectorOf(actionArgs(raw, 'os-terminate_connection'), 'os-terminate_connection');
  // A file needs no export to tear down; os-detach records the detach.
  return accepted(reply);
});

/** The actions register themselves on import; nothing to add to the app. */
export async function attachActionRoutes(_app: FastifyInstance, _d: VolumeDeps): Promise<void> {}
