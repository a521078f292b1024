import type { FastifyInstance } from 'fastify';
import { route, type VolumeDeps } from './common.js';

/**
 * GET /extensions: the Cinder API extensions Stratus serves, by Cinder's aliases and names
 * (clients and Tempest look them up by those). Descriptions are ours. Left out because
 * Stratus does not offer them: volume encryption types and metadata, manage/unmanage of
 * volumes and snapshots, consistency groups and their snapshots, scheduler hints.
 */
const EXTENSIONS: Array<[alias: string, name: string, updated: string, description: string]> = [
  ['os-admin-actions', 'AdminActions', '2012-08-25T00:00:00+00:00', 'Admin actions on volumes, snapshots and backups: reset status, force delete.'],
  ['os-availability-zone', 'AvailabilityZones', '2013-06-27T00:00:00+00:00', 'Lists the availability zones volumes can be created in.'],
  ['backups', 'Backups', '2012-12-12T00:00:00+00:00', 'Volume backups: create, restore, export and import.'],
  ['capabilities', 'Capabilities', '2015-08-31T00:00:00+00:00', 'Shows what a storage backend offers.'],
  ['os-extended-services', 'ExtendedServices', '2014-01-10T00:00:00-00:00', 'Disabled reasons and freeze state in the services list.'],
  ['os-extended-snapshot-attributes', 'ExtendedSnapshotAttributes', '2012-06-19T00:00:00+00:00', 'Project and progress attributes of snapshots.'],
  ['os-hosts', 'Hosts', '2011-06-29T00:00:00+00:00', 'Storage hosts and their usage, for admins.'],
  ['qos-specs', 'Qos_specs_manage', '2013-08-02T00:00:00+00:00', 'Quality of service specifications and their volume types.'],
  ['os-quota-class-sets', 'QuotaClasses', '2012-03-12T00:00:00+00:00', 'Default quotas for every project.'],
  ['os-quota-sets', 'Quotas', '2011-08-08T00:00:00+00:00', 'Per-project quotas and their usage.'],
  ['scheduler-stats', 'Scheduler_stats', '2014-09-07T00:00:00+00:00', 'Capacity of the storage pools the scheduler places volumes in.'],
  ['os-services', 'Services', '2012-10-28T00:00:00-00:00', 'Lists and enables or disables the block storage services.'],
  ['os-snapshot-actions', 'SnapshotActions', '2013-07-16T00:00:00+00:00', 'Snapshot status updates.'],
  ['os-types-extra-specs', 'TypesExtraSpecs', '2011-08-24T00:00:00+00:00', 'Extra specifications of volume types.'],
  ['os-types-manage', 'TypesManage', '2011-08-24T00:00:00+00:00', 'Creates, updates and deletes volume types.'],
  ['os-used-limits', 'UsedLimits', '2013-10-03T00:00:00+00:00', 'Usage next to the absolute limits.'],
  ['os-vol-host-attr', 'VolumeHostAttribute', '2011-11-03T00:00:00+00:00', 'The backend host of a volume, for admins.'],
  ['os-vol-image-meta', 'VolumeImageMetadata', '2012-12-07T00:00:00+00:00', 'Image properties of volumes created from images.'],
  ['os-vol-mig-status-attr', 'VolumeMigStatusAttribute', '2013-08-08T00:00:00+00:00', 'Migration status of a volume, for admins.'],
  ['os-vol-tenant-attr', 'VolumeTenantAttribute', '2011-11-03T00:00:00+00:00', 'The project a volume belongs to.'],
  ['os-volume-actions', 'VolumeActions', '2012-05-31T00:00:00+00:00', 'Volume actions: attach, detach, extend, upload to image, retype and more.'],
  ['os-volume-transfer', 'VolumeTransfer', '2013-05-29T00:00:00+00:00', 'Transfers of volumes between projects.'],
  ['os-volume-type-access', 'VolumeTypeAccess', '2014-06-26T00:00:00Z', 'Private volume types and the projects that may use them.'],
];

export async function extensionRoutes(app: FastifyInstance, _d: VolumeDeps): Promise<void> {
  route(app, 'get', '/extensions', async () => ({
    extensions: EXTENSIONS.map(([alias, name, updated, description]) => ({ alias, name, updated, description, links: [] })),
  }));
}
