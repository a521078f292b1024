import type { FastifyInstance } from 'fastify';
import { notFound, type ComputeDeps } from './common.js';

/**
 * /extensions: the list Nova keeps for clients written before microversions. Each entry
 * names an API this service serves (its alias, Nova's display name); nothing is loaded by
 * it, so it only ever describes.
 */
const EXTENSIONS: Array<[alias: string, name: string, description: string]> = [
  ['os-admin-actions', 'AdminActions', 'Enable admin-only server actions: resetState, migrate.'],
  ['os-aggregates', 'Aggregates', 'Admin-only aggregate administration.'],
  ['os-availability-zone', 'AvailabilityZone', 'Availability zones of servers and hosts.'],
  ['os-console-output', 'ConsoleOutput', 'Console log output of a server.'],
  ['os-consoles', 'Consoles', 'Interactive console support.'],
  ['os-extended-availability-zone', 'ExtendedAvailabilityZone', 'The availability zone in the server view.'],
  ['os-extended-server-attributes', 'ExtendedServerAttributes', 'Host and instance name in the server view.'],
  ['os-extended-status', 'ExtendedStatus', 'vm_state, task_state and power_state in the server view.'],
  ['os-extended-volumes', 'ExtendedVolumes', 'Attached volumes in the server view.'],
  ['os-flavor-access', 'FlavorAccess', 'Flavor access support: private flavors shared with projects.'],
  ['os-flavor-extra-specs', 'FlavorExtraSpecs', 'Flavor extra specs.'],
  ['os-flavor-manage', 'FlavorManage', 'Flavor create and delete.'],
  ['os-hosts', 'Hosts', 'Admin-only host administration.'],
  ['os-hypervisors', 'Hypervisors', 'Admin-only hypervisor administration.'],
  ['os-instance-actions', 'InstanceActions', 'The actions done on a server.'],
  ['os-keypairs', 'Keypairs', 'Key pair support.'],
  ['os-lock-server', 'LockServer', 'Lock and unlock a server.'],
  ['os-migrations', 'Migrations', 'In-progress and past migrations.'],
  ['os-multinic', 'Multinic', 'Add and remove fixed IPs of a server.'],
  ['os-pause-server', 'PauseServer', 'Pause and unpause a server.'],
  ['os-quota-sets', 'Quotas', 'Quota management support.'],
  ['os-rescue', 'Rescue', 'Rescue and unrescue a server.'],
  ['os-security-groups', 'SecurityGroups', 'Security group support.'],
  ['os-server-groups', 'ServerGroups', 'Server group support.'],
  ['os-services', 'Services', 'Compute services management.'],
  ['os-shelve', 'Shelve', 'Shelve and unshelve a server.'],
  ['os-simple-tenant-usage', 'SimpleTenantUsage', 'Simple tenant usage.'],
  ['os-suspend-server', 'SuspendServer', 'Suspend and resume a server.'],
];
const view = ([alias, name, description]: (typeof EXTENSIONS)[number]) => ({
  alias, name, description, namespace: `http://docs.openstack.org/compute/ext/fake_xml`, updated: '2014-12-03T00:00:00Z', links: [],
});

export async function extensionRoutes(app: FastifyInstance, _deps: ComputeDeps): Promise<void> {
  app.get('/v2.1/extensions', async () => ({ extensions: EXTENSIONS.map(view) }));
  app.get('/v2.1/extensions/:alias', async (req) => {
    const alias = (req.params as { alias: string }).alias;
    const e = EXTENSIONS.find((x) => x[0] === alias);
    if (!e) throw notFound(`Extension ${alias} could not be found.`);
    return { extension: view(e) };
  });
}
