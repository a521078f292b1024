// The OpenStack services Tempest's own tree can test, and how each one shows up in a Keystone
// catalog and in tempest.conf. A service is "present" when one of its catalog types is in the
// catalog; Tempest is then told it is available, and the matching type is written as the
// service's catalog_type because clouds differ (e.g. volumev3 vs block-storage).

export interface TempestService {
  /** Our name for it; also the list file name (conformance/lists/<name>.txt). */
  name: string;
  /** Package under tempest.api (third dotted component of a test id). */
  tempestModule: string;
  /** Catalog types that mean the service is deployed, preferred first. */
  catalogTypes: string[];
  /** Key in tempest.conf [service_available]; identity has none (always required). */
  availableKey: string | null;
  /** tempest.conf section holding this service's catalog_type. */
  confSection: string;
}

export const tempestServices: readonly TempestService[] = [
  { name: 'identity', tempestModule: 'identity', catalogTypes: ['identity'], availableKey: null, confSection: 'identity' },
  { name: 'compute', tempestModule: 'compute', catalogTypes: ['compute'], availableKey: 'nova', confSection: 'compute' },
  { name: 'image', tempestModule: 'image', catalogTypes: ['image'], availableKey: 'glance', confSection: 'image' },
  { name: 'network', tempestModule: 'network', catalogTypes: ['network'], availableKey: 'neutron', confSection: 'network' },
  {
    name: 'volume',
    tempestModule: 'volume',
    catalogTypes: ['block-storage', 'volumev3', 'volume'],
    availableKey: 'cinder',
    confSection: 'volume',
  },
  {
    name: 'object-storage',
    tempestModule: 'object_storage',
    catalogTypes: ['object-store'],
    availableKey: 'swift',
    confSection: 'object-storage',
  },
];

export function serviceByName(name: string): TempestService | undefined {
  return tempestServices.find((s) => s.name === name);
}

/**
 * Service a test belongs to: tempest.api.<module>… → our service name. Tests outside
 * tempest.api (scenario, plugins) are grouped by their second component, e.g. "scenario".
 */
export function serviceOfTest(testId: string): string {
  const [root, kind, module] = testId.split('.');
  if (root !== 'tempest' || kind === undefined) return root ?? 'unknown';
  if (kind !== 'api' || module === undefined) return kind;
  return tempestServices.find((s) => s.tempestModule === module)?.name ?? module;
}
