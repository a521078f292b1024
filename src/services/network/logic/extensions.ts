/**
 * The API extensions this service implements, by the aliases clients and Tempest look for.
 * Parts of the service that land separately add theirs through NetworkHooks.extensions.
 */
export const CORE_EXTENSIONS = [
  'agent', 'allowed-address-pairs', 'availability_zone', 'binding', 'default-subnetpools', 'dns-domain-ports', 'dns-integration',
  'external-net', 'extra_dhcp_opt', 'ip-substring-filtering', 'multi-provider', 'net-mtu', 'net-mtu-writable', 'network_availability_zone',
  'network-ip-availability', 'pagination', 'port-security', 'project-id', 'provider', 'quotas', 'quota_details', 'sorting',
  'standard-attr-description', 'standard-attr-revisions', 'standard-attr-tag', 'standard-attr-timestamp', 'subnet-service-types', 'tag', 'tag-ext',
];

// Clients find some extensions by their display name (the CLI's `availability zone list`
// looks for "Availability Zone"), so these are upstream's names.
const NAMES: Record<string, string> = {
  'external-net': 'Neutron external network', 'port-security': 'Port Security', binding: 'Port Binding', quotas: 'Quota management support',
  'security-group': 'security-group', router: 'Neutron L3 Router', extraroute: 'Neutron Extra Route', 'allowed-address-pairs': 'Allowed Address Pairs',
  availability_zone: 'Availability Zone', network_availability_zone: 'Network Availability Zone', router_availability_zone: 'Router Availability Zone',
  provider: 'Provider Network', 'net-mtu': 'Network MTU', 'dns-integration': 'DNS Integration', subnet_allocation: 'Subnet Allocation',
  'address-scope': 'Address scope', 'rbac-policies': 'RBAC Policies', extra_dhcp_opt: 'Neutron Extra DHCP options', 'l3-ha': 'HA Router extension',
  dvr: 'Distributed Virtual Router', 'ext-gw-mode': 'Neutron L3 Configurable external gateway mode', agent: 'agent',
  'network-ip-availability': 'Network IP Availability', 'quota_details': 'Quota details management support', 'multi-provider': 'Multi Provider Network',
};

export function describeExtension(alias: string) {
  return { alias, name: NAMES[alias] ?? alias, description: `The ${alias} extension.`, updated: '2013-01-01T10:00:00-00:00', links: [] };
}
