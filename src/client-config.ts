import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What a user needs to point the openstack CLI at this cloud: clouds.yaml with
 * `stratus-admin` and `stratus-demo`, and an openrc per user. Rewritten at every start
 * because the address may change (ephemeral ports).
 */
export interface ClientConfig { authUrl: string; region: string; adminPassword: string; demoPassword: string }

const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

export function cloudsYaml(c: ClientConfig): string {
  const cloud = (user: string, password: string) => [
    `  stratus-${user}:`,
    '    auth:',
    `      auth_url: ${c.authUrl}`,
    `      username: ${user}`,
    `      password: ${JSON.stringify(password)}`,
    `      project_name: ${user}`,
    '      user_domain_name: Default',
    '      project_domain_name: Default',
    `    region_name: ${c.region}`,
    '    interface: public',
    '    identity_api_version: 3',
  ].join('\n');
  return `clouds:\n${cloud('admin', c.adminPassword)}\n${cloud('demo', c.demoPassword)}\n`;
}

export function openrc(c: ClientConfig, user: string, password: string): string {
  return [
    `export OS_AUTH_URL=${c.authUrl}`,
    `export OS_USERNAME=${user}`,
    `export OS_PASSWORD=${q(password)}`,
    `export OS_PROJECT_NAME=${user}`,
    'export OS_USER_DOMAIN_NAME=Default',
    'export OS_PROJECT_DOMAIN_NAME=Default',
    `export OS_REGION_NAME=${c.region}`,
    'export OS_INTERFACE=public',
    'export OS_IDENTITY_API_VERSION=3',
    '',
  ].join('\n');
}

export function writeClientConfig(dataDir: string, c: ClientConfig): void {
  writeFileSync(join(dataDir, 'clouds.yaml'), cloudsYaml(c), { mode: 0o600 });
  writeFileSync(join(dataDir, 'admin-openrc.sh'), openrc(c, 'admin', c.adminPassword), { mode: 0o600 });
  writeFileSync(join(dataDir, 'demo-openrc.sh'), openrc(c, 'demo', c.demoPassword), { mode: 0o600 });
}
