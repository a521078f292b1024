import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCloud, type TestCloud } from '../../helpers/cloud.js';
import { userMessage, volumeClient } from '../../helpers/volume.js';
import { readerOf } from '../../helpers/compute.js';
import { outsider } from '../../helpers/compute.js';
import { tempestErrors } from '../../helpers/tempest-schemas.js';

/**
 * The block-storage catalogue around volumes: version discovery, volume types with their extra
 * specs and access lists, QoS specs, quotas and quota classes, limits, zones, services, pools,
 * hosts, capabilities, extensions and user messages. Each part checks its denials: members
 * cannot do an admin's work, readers cannot write, and no project sees another's quotas.
 */
let c: TestCloud;
let admin: string;
let demo: string;
let reader: string;
let other: string;
let demoProject: string;
let otherProject: string;
let adminProject: string;
const { cinder, ok } = volumeClient(() => c);
const projectOf = async (token: string) => (await c.api('GET', '/identity/v3/auth/tokens', { token, headers: { 'x-subject-token': token } })).body.token.project.id as string;

beforeAll(async () => {
  c = await testCloud();
  admin = c.adminToken;
  demo = await c.login('demo', 'demo-secret', 'demo');
  reader = await readerOf(c, 'demo');
  other = await outsider(c);
  [demoProject, otherProject, adminProject] = await Promise.all([projectOf(demo), projectOf(other), projectOf(admin)]);
}, 60_000);
afterAll(async () => { await c?.destroy(); });

describe('version discovery', () => {
  it('lists v3 at the root with 300 and describes it at /v3/, without a token', async () => {
    const root = await c.api('GET', '/volume/');
    expect(root.status).toBe(300);
    expect(root.body.versions).toHaveLength(1);
    expect(root.body.versions[0]).toMatchObject({ id: 'v3.0', status: 'CURRENT', min_version: '3.0', version: '3.71' });
    expect(root.body.versions[0].links).toContainEqual({ rel: 'self', href: `${c.url}/volume/v3/` });
    const v3 = await c.api('GET', '/volume/v3/');
    expect(v3.status).toBe(200);
    expect(v3.body.versions[0].id).toBe('v3.0');
    expect(tempestErrors([['versions', 'list_versions', 300, root.body], ['versions', 'volume_api_version_details', 200, v3.body]], 'volume')).toEqual([]);
  });
});

describe('volume types', () => {
  it('lists the documented public types to users and all four to admins; the default is ssd', async () => {
    const mine = (await ok('GET', `/${demoProject}/types`, demo)).volume_types;
    expect(mine.map((t: { name: string }) => t.name).sort()).toEqual(['hdd', 'ssd']);
    expect(mine[0]).not.toHaveProperty('qos_specs_id');
    // Users see only the specs Cinder lets them see; admins all.
    expect(mine.find((t: { name: string }) => t.name === 'ssd').extra_specs).toEqual({});
    const everyone = await ok('GET', `/${adminProject}/types?is_public=None`, admin);
    expect(everyone.volume_types.map((t: { name: string }) => t.name).sort()).toEqual(['hdd', 'hdd-multiattach', 'ssd', 'ssd-multiattach']);
    const privateOnly = await ok('GET', `/${adminProject}/types?is_public=false`, admin);
    expect(privateOnly.volume_types.map((t: { name: string }) => t.name).sort()).toEqual(['hdd-multiattach', 'ssd-multiattach']);
    // A user's is_public=false is ignored: still the public ones.
    expect((await ok('GET', `/${demoProject}/types?is_public=false`, demo)).volume_types).toHaveLength(2);
    expect((await cinder('GET', `/${adminProject}/types?is_public=maybe`, admin)).status).toBe(400);
    const def = await ok('GET', `/${demoProject}/types/default`, demo);
    expect(def.volume_type).toMatchObject({ name: 'ssd', is_public: true, 'os-volume-type-access:is_public': true });
    const ssdAdmin = await ok('GET', `/${adminProject}/types/${def.volume_type.id}`, admin);
    expect(ssdAdmin.volume_type).toMatchObject({ qos_specs_id: null, extra_specs: { volume_backend_name: 'file', 'storage:tier': 'ssd' } });
    const hiddenId = privateOnly.volume_types[0].id;
    expect((await cinder('GET', `/${demoProject}/types/${hiddenId}`, demo)).status).toBe(404);
    expect((await cinder('GET', `/${demoProject}/types/00000000-0000-0000-0000-000000000000`, demo)).status).toBe(404);
    // Readers read.
    expect((await cinder('GET', `/${demoProject}/types/${def.volume_type.id}`, reader)).status).toBe(200);
    expect(tempestErrors([
      ['volume_types', 'list_volume_types', 200, { volume_types: mine }], ['volume_types', 'list_volume_types', 200, everyone],
      ['volume_types', 'show_volume_type', 200, def], ['volume_types', 'show_volume_type', 200, ssdAdmin],
    ], 'volume')).toEqual([]);
  });

  it('lets admins create, update and delete types; members and readers get 403', async () => {
    const body = { volume_type: { name: 'gold', description: 'fast', extra_specs: { vendor_name: 'Stratus' }, 'os-volume-type-access:is_public': true } };
    for (const token of [demo, reader]) expect((await cinder('POST', `/${demoProject}/types`, token, body)).status).toBe(403);
    const created = await ok('POST', `/${adminProject}/types`, admin, body);
    expect(created.volume_type).toMatchObject({ name: 'gold', description: 'fast', is_public: true, extra_specs: { vendor_name: 'Stratus' } });
    expect(created.volume_type).not.toHaveProperty('qos_specs_id');
    const id = created.volume_type.id;
    expect((await cinder('POST', `/${adminProject}/types`, admin, body)).status).toBe(409);
    for (const bad of [{ volume_type: { name: '' } }, { volume_type: { name: '   ' } }, { volume_type: {} }, { volume_type: { name: 'x', bogus: 1 } },
      { volume_type: { name: 'x', 'os-volume-type-access:is_public': 'perhaps' } }, { volume_type: { name: 'x', extra_specs: { k: 5 } } }, {}]) {
      expect((await cinder('POST', `/${adminProject}/types`, admin, bad)).status, JSON.stringify(bad)).toBe(400);
    }
    for (const token of [demo, reader]) expect((await cinder('PUT', `/${demoProject}/types/${id}`, token, { volume_type: { name: 'x' } })).status).toBe(403);
    const updated = await ok('PUT', `/${adminProject}/types/${id}`, admin, { volume_type: { name: 'platinum', description: 'faster', is_public: false } });
    expect(updated.volume_type).toMatchObject({ id, name: 'platinum', description: 'faster', is_public: false });
    expect((await cinder('PUT', `/${adminProject}/types/${id}`, admin, { volume_type: {} })).status).toBe(400);
    expect((await cinder('PUT', `/${adminProject}/types/${id}`, admin, { volume_type: { name: 'ssd' } })).status).toBe(409);
    expect((await cinder('PUT', `/${adminProject}/types/00000000-0000-0000-0000-000000000000`, admin, { volume_type: { name: 'y' } })).status).toBe(404);
    // Private now: gone from the member's view.
    expect((await cinder('GET', `/${demoProject}/types/${id}`, demo)).status).toBe(404);
    for (const token of [demo, reader]) expect((await cinder('DELETE', `/${demoProject}/types/${id}`, token)).status).toBe(403);
    const def = (await ok('GET', `/${adminProject}/types/default`, admin)).volume_type;
    expect((await cinder('DELETE', `/${adminProject}/types/${def.id}`, admin)).status).toBe(400);
    expect((await cinder('DELETE', `/${adminProject}/types/${id}`, admin)).status).toBe(202);
    expect((await cinder('GET', `/${adminProject}/types/${id}`, admin)).status).toBe(404);
    expect((await cinder('DELETE', `/${adminProject}/types/${id}`, admin)).status).toBe(404);
    expect(tempestErrors([['volume_types', 'create_volume_type', 200, created], ['volume_types', 'update_volume_types', 200, updated]], 'volume')).toEqual([]);
  });

  it('gives a private type to the projects on its access list, by admins only', async () => {
    const t = (await ok('POST', `/${adminProject}/types`, admin, { volume_type: { name: 'shared', 'os-volume-type-access:is_public': false, extra_specs: { multiattach: '<is> True', secret: 'x' } } })).volume_type;
    const action = (a: string, project: string) => ({ [a]: { project } });
    for (const token of [demo, reader]) {
      expect((await cinder('POST', `/${demoProject}/types/${t.id}/action`, token, action('addProjectAccess', demoProject))).status).toBe(403);
      expect((await cinder('GET', `/${demoProject}/types/${t.id}/os-volume-type-access`, token)).status).toBe(403);
    }
    expect((await cinder('POST', `/${adminProject}/types/${t.id}/action`, admin, action('addProjectAccess', demoProject))).status).toBe(202);
    expect((await cinder('POST', `/${adminProject}/types/${t.id}/action`, admin, action('addProjectAccess', demoProject))).status).toBe(409);
    expect((await cinder('POST', `/${adminProject}/types/${t.id}/action`, admin, action('addProjectAccess', otherProject))).status).toBe(202);
    const access = await ok('GET', `/${adminProject}/types/${t.id}/os-volume-type-access`, admin);
    expect(access.volume_type_access.map((a: { project_id: string }) => a.project_id).sort()).toEqual([demoProject, otherProject].sort());
    const seen = await ok('GET', `/${demoProject}/types/${t.id}`, demo);
    // Only the user-visible spec shows.
    expect(seen.volume_type.extra_specs).toEqual({ multiattach: '<is> True' });
    expect((await ok('GET', `/${demoProject}/types`, demo)).volume_types.map((x: { name: string }) => x.name)).toContain('shared');
    expect((await cinder('POST', `/${adminProject}/types/${t.id}/action`, admin, action('removeProjectAccess', demoProject))).status).toBe(202);
    expect((await cinder('POST', `/${adminProject}/types/${t.id}/action`, admin, action('removeProjectAccess', demoProject))).status).toBe(404);
    expect((await cinder('GET', `/${demoProject}/types/${t.id}`, demo)).status).toBe(404);
    const ssd = (await ok('GET', `/${adminProject}/types/default`, admin)).volume_type;
    expect((await cinder('POST', `/${adminProject}/types/${ssd.id}/action`, admin, action('addProjectAccess', demoProject))).status).toBe(400);
    expect((await cinder('GET', `/${adminProject}/types/${ssd.id}/os-volume-type-access`, admin)).status).toBe(404);
    expect((await cinder('POST', `/${adminProject}/types/${t.id}/action`, admin, { frobnicate: {} })).status).toBe(400);
    expect((await cinder('POST', `/${adminProject}/types/${t.id}/action`, admin, { addProjectAccess: {} })).status).toBe(400);
    expect(tempestErrors([['volume_types', 'list_type_access', 200, access]], 'volume')).toEqual([]);
  });

  it('manages extra specs as admin; members read only the user-visible ones', async () => {
    const t = (await ok('POST', `/${adminProject}/types`, admin, { volume_type: { name: 'specs' } })).volume_type;
    const base = `/${adminProject}/types/${t.id}/extra_specs`;
    for (const token of [demo, reader]) expect((await cinder('POST', `/${demoProject}/types/${t.id}/extra_specs`, token, { extra_specs: { a: 'b' } })).status).toBe(403);
    const created = await ok('POST', base, admin, { extra_specs: { spec1: 'val1', multiattach: '<is> True' } });
    expect(created).toEqual({ extra_specs: { spec1: 'val1', multiattach: '<is> True' } });
    const listed = await ok('GET', base, admin);
    expect(listed.extra_specs).toEqual({ spec1: 'val1', multiattach: '<is> True' });
    expect((await ok('GET', `/${demoProject}/types/${t.id}/extra_specs`, demo)).extra_specs).toEqual({ multiattach: '<is> True' });
    expect((await cinder('GET', `/${demoProject}/types/${t.id}/extra_specs/spec1`, demo)).status).toBe(404);
    const shown = await ok('GET', `${base}/spec1`, admin);
    expect(shown).toEqual({ spec1: 'val1' });
    const updated = await ok('PUT', `${base}/spec1`, admin, { spec1: 'val2' });
    expect(updated).toEqual({ spec1: 'val2' });
    expect((await ok('GET', `${base}/spec1`, admin))).toEqual({ spec1: 'val2' });
    for (const [key, body] of [['spec1', null], ['other', { spec1: 'x' }], ['spec1', { spec1: 'x', spec2: 'y' }], ['spec1', {}]] as const) {
      expect((await cinder('PUT', `${base}/${key}`, admin, body === null ? 'null' : body)).status, JSON.stringify([key, body])).toBe(400);
    }
    expect((await cinder('POST', base, admin, { extra_specs: ['invalid'] })).status).toBe(400);
    expect((await cinder('POST', base, admin, 'null')).status).toBe(400);
    expect((await cinder('POST', base, admin, { extra_specs: { 'with space': 'x' } })).status).toBe(400);
    expect((await cinder('POST', base, admin, { extra_specs: { cacheable: '<is> True' } })).status).toBe(400);
    for (const token of [demo, reader]) expect((await cinder('DELETE', `/${demoProject}/types/${t.id}/extra_specs/spec1`, token)).status).toBe(403);
    expect((await cinder('DELETE', `${base}/spec1`, admin)).status).toBe(202);
    expect((await cinder('GET', `${base}/spec1`, admin)).status).toBe(404);
    expect((await cinder('DELETE', `${base}/spec1`, admin)).status).toBe(404);
    // Once a volume has the type, its specs and the type itself stay as they are.
    const third = await outsider(c, 'third');
    await ok('POST', `/${await projectOf(third)}/volumes`, third, { volume: { size: 1, volume_type: 'specs' } }, 202);
    expect((await cinder('POST', base, admin, { extra_specs: { spec9: 'x' } })).status).toBe(400);
    expect((await cinder('PUT', `${base}/multiattach`, admin, { multiattach: 'x' })).status).toBe(400);
    expect((await cinder('DELETE', `${base}/multiattach`, admin)).status).toBe(400);
    expect((await cinder('DELETE', `/${adminProject}/types/${t.id}`, admin)).status).toBe(400);
    const nope = `/${adminProject}/types/00000000-0000-0000-0000-000000000000/extra_specs`;
    expect((await cinder('GET', nope, admin)).status).toBe(404);
    expect((await cinder('POST', nope, admin, { extra_specs: { a: 'b' } })).status).toBe(404);
    expect((await cinder('PUT', `${nope}/a`, admin, { a: 'b' })).status).toBe(404);
    expect((await cinder('DELETE', `${nope}/a`, admin)).status).toBe(404);
    expect(tempestErrors([
      ['volume_types', 'create_volume_types_extra_specs', 200, created], ['volume_types', 'list_volume_types_extra_specs', 200, listed],
      ['volume_types', 'show_volume_types_extra_specs', 200, shown], ['volume_types', 'update_volume_type_extra_specs', 200, updated],
    ], 'volume')).toEqual([]);
  });
});

describe('QoS specs', () => {
  it('creates, lists, shows, sets and unsets keys, admin only', async () => {
    for (const token of [demo, reader]) {
      expect((await cinder('POST', `/${demoProject}/qos-specs`, token, { qos_specs: { name: 'q' } })).status).toBe(403);
      expect((await cinder('GET', `/${demoProject}/qos-specs`, token)).status).toBe(403);
    }
    const created = await ok('POST', `/${adminProject}/qos-specs`, admin, { qos_specs: { name: 'fast', consumer: 'front-end', read_iops_sec: '2000' } });
    expect(created.qos_specs).toMatchObject({ name: 'fast', consumer: 'front-end', specs: { read_iops_sec: '2000' } });
    expect(created.links[0].href).toContain(`/qos-specs/${created.qos_specs.id}`);
    const id = created.qos_specs.id;
    expect((await ok('POST', `/${adminProject}/qos-specs`, admin, { qos_specs: { name: 'plain' } })).qos_specs.consumer).toBe('back-end');
    expect((await cinder('POST', `/${adminProject}/qos-specs`, admin, { qos_specs: { name: 'fast' } })).status).toBe(409);
    for (const bad of [{ qos_specs: {} }, { qos_specs: { name: 'x', consumer: 'sideways' } }, { qos_specs: { name: 'x', iops: 5 } }, { nope: {} }]) {
      expect((await cinder('POST', `/${adminProject}/qos-specs`, admin, bad)).status, JSON.stringify(bad)).toBe(400);
    }
    const list = await ok('GET', `/${adminProject}/qos-specs`, admin);
    expect(list.qos_specs).toContainEqual(created.qos_specs);
    const shown = await ok('GET', `/${adminProject}/qos-specs/${id}`, admin);
    expect(shown.qos_specs).toEqual(created.qos_specs);
    const set = await ok('PUT', `/${adminProject}/qos-specs/${id}`, admin, { qos_specs: { iops_bytes: '500' } });
    expect(set).toEqual({ qos_specs: { iops_bytes: '500' } });
    expect((await ok('GET', `/${adminProject}/qos-specs/${id}`, admin)).qos_specs.specs).toEqual({ read_iops_sec: '2000', iops_bytes: '500' });
    expect((await cinder('PUT', `/${demoProject}/qos-specs/${id}`, demo, { qos_specs: { a: '1' } })).status).toBe(403);
    expect((await cinder('PUT', `/${adminProject}/qos-specs/${id}/delete_keys`, admin, { keys: ['iops_bytes'] })).status).toBe(202);
    expect((await ok('GET', `/${adminProject}/qos-specs/${id}`, admin)).qos_specs.specs).toEqual({ read_iops_sec: '2000' });
    expect((await cinder('PUT', `/${adminProject}/qos-specs/${id}/delete_keys`, admin, { keys: ['nope'] })).status).toBe(404);
    expect((await cinder('GET', `/${adminProject}/qos-specs/00000000-0000-0000-0000-000000000000`, admin)).status).toBe(404);
    expect(tempestErrors([
      ['qos', 'show_qos', 200, created], ['qos', 'list_qos', 200, list], ['qos', 'show_qos', 200, shown], ['qos', 'set_qos_key', 200, set],
    ], 'volume')).toEqual([]);
  });

  it('associates with types, shows it on the type, and deletes only when unused or forced', async () => {
    const qos = (await ok('POST', `/${adminProject}/qos-specs`, admin, { qos_specs: { name: 'assoc', total_iops_sec: '100' } })).qos_specs;
    const other = (await ok('POST', `/${adminProject}/qos-specs`, admin, { qos_specs: { name: 'assoc2' } })).qos_specs;
    const types = [];
    for (const name of ['q1', 'q2', 'q3']) types.push((await ok('POST', `/${adminProject}/types`, admin, { volume_type: { name } })).volume_type);
    expect((await cinder('GET', `/${demoProject}/qos-specs/${qos.id}/associate?vol_type_id=${types[0].id}`, demo)).status).toBe(403);
    for (const t of types) expect((await cinder('GET', `/${adminProject}/qos-specs/${qos.id}/associate?vol_type_id=${t.id}`, admin)).status).toBe(202);
    expect((await cinder('GET', `/${adminProject}/qos-specs/${other.id}/associate?vol_type_id=${types[0].id}`, admin)).status).toBe(400);
    expect((await cinder('GET', `/${adminProject}/qos-specs/${qos.id}/associate`, admin)).status).toBe(400);
    expect((await cinder('GET', `/${adminProject}/qos-specs/${qos.id}/associate?vol_type_id=00000000-0000-0000-0000-000000000000`, admin)).status).toBe(404);
    const assoc = await ok('GET', `/${adminProject}/qos-specs/${qos.id}/associations`, admin);
    expect(assoc.qos_associations.map((a: { id: string }) => a.id).sort()).toEqual(types.map((t) => t.id).sort());
    expect(assoc.qos_associations[0].association_type).toBe('volume_type');
    expect((await ok('GET', `/${adminProject}/types/${types[0].id}`, admin)).volume_type.qos_specs_id).toBe(qos.id);
    expect((await cinder('GET', `/${adminProject}/qos-specs/${qos.id}/disassociate?vol_type_id=${types[0].id}`, admin)).status).toBe(202);
    expect((await ok('GET', `/${adminProject}/qos-specs/${qos.id}/associations`, admin)).qos_associations).toHaveLength(2);
    expect((await cinder('DELETE', `/${adminProject}/qos-specs/${qos.id}?force=False`, admin)).status).toBe(400);
    expect((await cinder('GET', `/${adminProject}/qos-specs/${qos.id}/disassociate_all`, admin)).status).toBe(202);
    expect((await ok('GET', `/${adminProject}/qos-specs/${qos.id}/associations`, admin)).qos_associations).toEqual([]);
    await cinder('GET', `/${adminProject}/qos-specs/${qos.id}/associate?vol_type_id=${types[1].id}`, admin);
    expect((await cinder('DELETE', `/${demoProject}/qos-specs/${qos.id}`, demo)).status).toBe(403);
    expect((await cinder('DELETE', `/${adminProject}/qos-specs/${qos.id}?force=True`, admin)).status).toBe(202);
    expect((await cinder('GET', `/${adminProject}/qos-specs/${qos.id}`, admin)).status).toBe(404);
    expect((await ok('GET', `/${adminProject}/types/${types[1].id}`, admin)).volume_type.qos_specs_id).toBeNull();
    expect((await cinder('DELETE', `/${adminProject}/qos-specs/${other.id}`, admin)).status).toBe(202);
    expect(tempestErrors([['qos', 'show_association_qos', 200, assoc]], 'volume')).toEqual([]);
  });
});

describe('quotas, quota classes and limits', () => {
  it('shows a project its own quotas, defaults and usage; other projects get 403', async () => {
    const q = await ok('GET', `/${demoProject}/os-quota-sets/${demoProject}`, demo);
    expect(q.quota_set).toMatchObject({ id: demoProject, volumes: 20, snapshots: 10, gigabytes: 2000, backups: 250, backup_gigabytes: 20000, groups: 10, per_volume_gigabytes: -1, volumes_ssd: -1, gigabytes_hdd: -1 });
    expect((await cinder('GET', `/${demoProject}/os-quota-sets/${demoProject}`, reader)).status).toBe(200);
    expect((await cinder('GET', `/${demoProject}/os-quota-sets/${otherProject}`, demo)).status).toBe(403);
    expect((await cinder('GET', `/${demoProject}/os-quota-sets/${otherProject}/defaults`, reader)).status).toBe(403);
    expect((await cinder('GET', `/${otherProject}/os-quota-sets/${demoProject}`, other)).status).toBe(403);
    expect((await cinder('GET', `/${adminProject}/os-quota-sets/${demoProject}`, admin)).status).toBe(200);
    const defaults = await ok('GET', `/${demoProject}/os-quota-sets/${demoProject}/defaults`, demo);
    expect(defaults.quota_set).toEqual(q.quota_set);
    const usage = await ok('GET', `/${demoProject}/os-quota-sets/${demoProject}?usage=True`, demo);
    expect(usage.quota_set.volumes).toEqual({ limit: 20, in_use: 0, reserved: 0 });
    expect((await cinder('GET', `/${demoProject}/os-quota-sets/${demoProject}?usage=perhaps`, demo)).status).toBe(400);
    expect(tempestErrors([
      ['quotas', 'show_quota_set', 200, q], ['quotas', 'show_quota_set', 200, defaults], ['quotas', 'show_quota_set_usage', 200, usage],
    ], 'volume')).toEqual([]);
  });

  it('lets only admins update and delete quotas; a limit is never set below usage', async () => {
    for (const token of [demo, reader]) {
      expect((await cinder('PUT', `/${demoProject}/os-quota-sets/${demoProject}`, token, { quota_set: { volumes: 30 } })).status).toBe(403);
      expect((await cinder('DELETE', `/${demoProject}/os-quota-sets/${demoProject}`, token)).status).toBe(403);
    }
    const updated = await ok('PUT', `/${adminProject}/os-quota-sets/${otherProject}`, admin, { quota_set: { volumes: 11, gigabytes: '1009', per_volume_gigabytes: 100, volumes_hdd: 3 } });
    expect(updated.quota_set).toMatchObject({ volumes: 11, gigabytes: 1009, per_volume_gigabytes: 100, volumes_hdd: 3 });
    expect(updated.quota_set).not.toHaveProperty('id');
    expect((await ok('GET', `/${otherProject}/os-quota-sets/${otherProject}`, other)).quota_set.volumes).toBe(11);
    for (const bad of [{ quota_set: { bogus: 1 } }, { quota_set: { volumes: -2 } }, { quota_set: { volumes: 'many' } }, { quota_set: {} }, { quota: { volumes: 1 } }]) {
      expect((await cinder('PUT', `/${adminProject}/os-quota-sets/${otherProject}`, admin, bad)).status, JSON.stringify(bad)).toBe(400);
    }
    // Usage counts: a volume in the project makes 0 too low a limit.
    await ok('POST', `/${otherProject}/volumes`, other, { volume: { size: 1 } }, 202);
    expect((await cinder('PUT', `/${adminProject}/os-quota-sets/${otherProject}`, admin, { quota_set: { volumes: 0 } })).status).toBe(400);
    const used = (await ok('GET', `/${adminProject}/os-quota-sets/${otherProject}?usage=true`, admin)).quota_set;
    expect(used.volumes.in_use).toBe(1);
    expect(used.gigabytes.in_use).toBe(1);
    expect(used.volumes_ssd.in_use).toBe(1);
    const limits = await ok('GET', `/${otherProject}/limits`, other);
    expect(limits.limits.absolute).toMatchObject({ maxTotalVolumes: 11, maxTotalVolumeGigabytes: 1009, totalVolumesUsed: 1, totalGigabytesUsed: 1 });
    expect((await ok('GET', `/${adminProject}/limits?project_id=${otherProject}`, admin, undefined, 200, '3.39')).limits.absolute.totalVolumesUsed).toBe(1);
    // Below 3.39, or for a non-admin, the parameter is ignored.
    expect((await ok('GET', `/${adminProject}/limits?project_id=${otherProject}`, admin)).limits.absolute.totalVolumesUsed).toBe(0);
    expect((await ok('GET', `/${demoProject}/limits?project_id=${otherProject}`, demo, undefined, 200, '3.39')).limits.absolute.totalVolumesUsed).toBe(0);
    const del = await cinder('DELETE', `/${adminProject}/os-quota-sets/${otherProject}`, admin);
    expect(del.status).toBe(200);
    expect((await ok('GET', `/${otherProject}/os-quota-sets/${otherProject}`, other)).quota_set).toMatchObject({ volumes: 20, gigabytes: 2000, volumes_hdd: -1 });
    expect(tempestErrors([['quotas', 'update_quota_set', 200, updated], ['limits', 'show_limits', 200, limits]], 'volume')).toEqual([]);
  });

  it('shows and updates quota classes, admin only; the default class sets every project\'s defaults', async () => {
    for (const token of [demo, reader]) {
      expect((await cinder('GET', `/${demoProject}/os-quota-class-sets/default`, token)).status).toBe(403);
      expect((await cinder('PUT', `/${demoProject}/os-quota-class-sets/default`, token, { quota_class_set: { volumes: 5 } })).status).toBe(403);
    }
    const shown = await ok('GET', `/${adminProject}/os-quota-class-sets/default`, admin);
    expect(shown.quota_class_set).toMatchObject({ id: 'default', volumes: 20, gigabytes: 2000, snapshots: 10 });
    const updated = await ok('PUT', `/${adminProject}/os-quota-class-sets/default`, admin, { quota_class_set: { volumes: 21, snapshots_hdd: 4 } });
    expect(updated.quota_class_set).toMatchObject({ volumes: 21, snapshots_hdd: 4 });
    expect((await ok('GET', `/${demoProject}/os-quota-sets/${demoProject}/defaults`, demo)).quota_set).toMatchObject({ volumes: 21, snapshots_hdd: 4 });
    expect((await ok('GET', `/${demoProject}/limits`, demo)).limits.absolute.maxTotalVolumes).toBe(21);
    expect((await cinder('PUT', `/${adminProject}/os-quota-class-sets/default`, admin, { quota_class_set: { id: 'x' } })).status).toBe(400);
    expect((await cinder('PUT', `/${adminProject}/os-quota-class-sets/default`, admin, { quota_class_set: { volumes: -5 } })).status).toBe(400);
    await ok('PUT', `/${adminProject}/os-quota-class-sets/default`, admin, { quota_class_set: { volumes: 20, snapshots_hdd: -1 } });
    expect(tempestErrors([['quota_classes', 'show_quota_classes', 200, shown], ['quota_classes', 'update_quota_classes', 200, updated]], 'volume')).toEqual([]);
  });
});

describe('zones, services, pools, hosts, capabilities and extensions', () => {
  it('lists the two documented zones to anyone', async () => {
    const z = await ok('GET', `/${demoProject}/os-availability-zone`, reader);
    expect(z.availabilityZoneInfo).toEqual([
      { zoneName: 'europe-se-1a', zoneState: { available: true } }, { zoneName: 'europe-se-1b', zoneState: { available: true } },
    ]);
  });

  it('lists the services to admins, with host and binary filters, and cluster from 3.7', async () => {
    expect((await cinder('GET', `/${demoProject}/os-services`, demo)).status).toBe(403);
    const all = await ok('GET', `/${adminProject}/os-services`, admin);
    expect(all.services.map((s: { binary: string; host: string }) => `${s.binary} ${s.host}`).sort()).toEqual(['cinder-backup stratus', 'cinder-scheduler stratus', 'cinder-volume stratus@file']);
    expect(all.services.every((s: { state: string; status: string }) => s.state === 'up' && s.status === 'enabled')).toBe(true);
    expect((await ok('GET', `/${adminProject}/os-services?binary=cinder-volume`, admin)).services).toHaveLength(1);
    expect((await ok('GET', `/${adminProject}/os-services?host=stratus`, admin)).services).toHaveLength(3);
    expect((await ok('GET', `/${adminProject}/os-services?host=stratus&binary=cinder-volume`, admin)).services[0].host).toBe('stratus@file');
    expect((await ok('GET', `/${adminProject}/os-services?host=elsewhere`, admin)).services).toEqual([]);
    const v37 = await ok('GET', `/${adminProject}/os-services`, admin, undefined, 200, '3.7');
    expect(v37.services[0]).toHaveProperty('cluster', null);
    const v349 = await ok('GET', `/${adminProject}/os-services?binary=cinder-volume`, admin, undefined, 200, '3.49');
    expect(v349.services[0].backend_state).toBe('up');
    expect(tempestErrors([['services', 'list_services', 200, all], ['v3_7.services', 'list_services', 200, v37], ['v3_7.services', 'list_services', 200, v349]], 'volume')).toEqual([]);
  });

  it('disables, enables, freezes and thaws services as admin; refuses members and unknown services', async () => {
    const put = (action: string, body: unknown, token = admin) => cinder('PUT', `/${token === admin ? adminProject : demoProject}/os-services/${action}`, token, body);
    expect((await put('disable', { host: 'stratus', binary: 'cinder-scheduler' }, demo)).status).toBe(403);
    expect((await put('freeze', { host: 'stratus@file' }, reader)).status).toBe(403);
    const disabled = await put('disable', { host: 'stratus', binary: 'cinder-scheduler' });
    expect(disabled.status).toBe(200);
    expect(disabled.body).toEqual({ host: 'stratus', service: '', binary: 'cinder-scheduler', status: 'disabled', disabled: true });
    const reason = await put('disable-log-reason', { host: 'stratus', binary: 'cinder-scheduler', disabled_reason: 'maintenance' });
    expect(reason.body).toMatchObject({ status: 'disabled', disabled_reason: 'maintenance' });
    const listed = (await ok('GET', `/${adminProject}/os-services?binary=cinder-scheduler`, admin)).services[0];
    expect(listed).toMatchObject({ status: 'disabled', disabled_reason: 'maintenance' });
    // Disabled services leave the hosts list.
    expect((await ok('GET', `/${adminProject}/os-hosts`, admin)).hosts.map((h: { service: string }) => h.service)).not.toContain('cinder-scheduler');
    const enabled = await put('enable', { host: 'stratus', binary: 'cinder-scheduler' });
    expect(enabled.body).toMatchObject({ status: 'enabled', disabled: false });
    expect((await put('enable', { host: 'invalid_host', binary: 'cinder-volume' })).status).toBe(404);
    expect((await put('disable', { host: 'stratus', binary: 'invalid_binary' })).status).toBe(404);
    expect((await put('disable-log-reason', { host: 'stratus', binary: 'cinder-scheduler', disabled_reason: null })).status).toBe(400);
    expect((await put('disable', { host: 'stratus' })).status).toBe(400);
    expect((await put('freeze', { host: 'invalid_host' })).status).toBe(400);
    expect((await put('thaw', { host: 'invalid_host' })).status).toBe(400);
    expect((await put('freeze', { host: 'stratus@file' })).status).toBe(200);
    expect((await ok('GET', `/${adminProject}/os-services?binary=cinder-volume`, admin)).services[0].frozen).toBe(true);
    expect((await put('freeze', { host: 'stratus@file' })).status).toBe(400);
    expect((await put('thaw', { host: 'stratus' })).status).toBe(200);
    expect((await put('teleport', {})).status).toBe(400);
    expect(tempestErrors([
      ['services', 'disable_service', 200, disabled.body], ['services', 'disable_log_reason', 200, reason.body], ['services', 'enable_service', 200, enabled.body],
    ], 'volume')).toEqual([]);
  });

  it('shows the file pool, its capabilities and the hosts to admins', async () => {
    expect((await cinder('GET', `/${demoProject}/scheduler-stats/get_pools`, demo)).status).toBe(403);
    expect((await cinder('GET', `/${demoProject}/capabilities/stratus@file`, demo)).status).toBe(403);
    expect((await cinder('GET', `/${demoProject}/os-hosts`, demo)).status).toBe(403);
    const pools = await ok('GET', `/${adminProject}/scheduler-stats/get_pools`, admin);
    expect(pools).toEqual({ pools: [{ name: 'stratus@file#file' }] });
    const detail = await ok('GET', `/${adminProject}/scheduler-stats/get_pools?detail=True`, admin);
    expect(detail.pools[0].capabilities).toMatchObject({ vendor_name: 'Stratus', storage_protocol: 'file', volume_backend_name: 'file' });
    expect(detail.pools[0].capabilities.total_capacity_gb).toBeGreaterThan(0);
    expect((await ok('GET', `/${adminProject}/scheduler-stats/get_pools?name=other`, admin, undefined, 200, '3.28')).pools).toEqual([]);
    const caps = await ok('GET', `/${adminProject}/capabilities/stratus@file%23file`, admin);
    expect(caps).toMatchObject({ vendor_name: 'Stratus', storage_protocol: 'file', volume_backend_name: 'file', namespace: 'OS::Storage::Capabilities::stratus@file' });
    expect((await ok('GET', `/${adminProject}/capabilities/stratus@file`, admin)).volume_backend_name).toBe('file');
    expect((await cinder('GET', `/${adminProject}/capabilities/nowhere`, admin)).status).toBe(404);
    const hosts = await ok('GET', `/${adminProject}/os-hosts`, admin);
    expect(hosts.hosts.length).toBeGreaterThanOrEqual(2);
    const host = await ok('GET', `/${adminProject}/os-hosts/stratus@file`, admin);
    expect(host.host[0].resource).toMatchObject({ host: 'stratus@file', project: '(total)' });
    expect((await cinder('GET', `/${adminProject}/os-hosts/nowhere`, admin)).status).toBe(404);
    expect(tempestErrors([
      ['scheduler_stats', 'get_pools_no_detail', 200, pools], ['scheduler_stats', 'get_pools_with_detail', 200, detail],
      ['capabilities', 'show_backend_capabilities', 200, caps], ['hosts', 'list_hosts', 200, hosts], ['hosts', 'show_host', 200, host],
    ], 'volume')).toEqual([]);
  });

  it('lists the extensions offered', async () => {
    const ext = await ok('GET', `/${demoProject}/extensions`, reader);
    const aliases = ext.extensions.map((e: { alias: string }) => e.alias);
    expect(aliases).toContain('os-volume-type-access');
    expect(aliases).not.toContain('encryption');
    expect(ext.extensions.map((e: { name: string }) => e.name)).toContain('Hosts');
    expect(tempestErrors([['extensions', 'list_extensions', 200, ext]], 'volume')).toEqual([]);
  });
});

describe('user messages', () => {
  it('shows a project its messages from 3.3; members delete them, readers cannot; other projects see nothing', async () => {
    const resource = '11111111-2222-3333-4444-555555555555';
    await userMessage(c, demoProject, resource);
    expect((await cinder('GET', `/${demoProject}/messages`, demo)).status).toBe(404);
    const list = await ok('GET', `/${demoProject}/messages`, demo, undefined, 200, '3.3');
    expect(list.messages).toHaveLength(1);
    const m = list.messages[0];
    expect(m).toMatchObject({ resource_uuid: resource, resource_type: 'VOLUME', message_level: 'ERROR' });
    const shown = await ok('GET', `/${demoProject}/messages/${m.id}`, reader, undefined, 200, '3.3');
    expect(shown.message).toEqual(m);
    expect((await ok('GET', `/${otherProject}/messages`, other, undefined, 200, '3.3')).messages).toEqual([]);
    expect((await cinder('GET', `/${otherProject}/messages/${m.id}`, other, undefined, '3.3')).status).toBe(404);
    expect((await ok('GET', `/${adminProject}/messages`, admin, undefined, 200, '3.3')).messages.map((x: { id: string }) => x.id)).toContain(m.id);
    expect((await ok('GET', `/${demoProject}/messages?resource_uuid=${resource}`, demo, undefined, 200, '3.5')).messages).toHaveLength(1);
    expect((await ok('GET', `/${demoProject}/messages?resource_uuid=nope`, demo, undefined, 200, '3.5')).messages).toHaveLength(0);
    expect((await cinder('GET', `/${demoProject}/messages?bogus=1`, demo, undefined, '3.34')).status).toBe(400);
    expect((await cinder('DELETE', `/${demoProject}/messages/${m.id}`, reader, undefined, '3.3')).status).toBe(403);
    expect((await cinder('DELETE', `/${otherProject}/messages/${m.id}`, other, undefined, '3.3')).status).toBe(404);
    expect((await cinder('DELETE', `/${demoProject}/messages/${m.id}`, demo, undefined, '3.3')).status).toBe(204);
    expect((await cinder('GET', `/${demoProject}/messages/${m.id}`, demo, undefined, '3.3')).status).toBe(404);
    expect(tempestErrors([['messages', 'list_messages', 200, list], ['messages', 'show_message', 200, shown]], 'volume')).toEqual([]);
  });
});
