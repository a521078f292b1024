import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Platform, ServiceModule } from '../../platform/service.js';
import { now } from '../../platform/clock.js';
import { hexId } from '../../platform/ids.js';
import type { IdentityDb } from './store.js';
import { ROOT } from './migrations.js';
import type { Identity } from './logic/identity.js';
import { setPassword } from './logic/security.js';

/**
 * First start: the Default domain, the admin ⊃ member ⊃ reader roles (and `creator`, which
 * the product documents name for secrets), the admin and demo projects and users, and the
 * region. Every start: the catalog is brought in line with the services this process runs.
 */
export const DEFAULT_DOMAIN_ID = 'default';

export interface BootstrapResult { adminPassword: string; demoPassword: string }

export async function bootstrap(identity: Identity, platform: Platform): Promise<BootstrapResult> {
  const db = identity.db;
  const dir = platform.config.dataDir;
  const adminPassword = secretFile(dir, 'admin-password', process.env.STRATUS_ADMIN_PASSWORD);
  const demoPassword = secretFile(dir, 'demo-password', process.env.STRATUS_DEMO_PASSWORD);
  const exists = await db.selectFrom('project').select('id').where('id', '=', DEFAULT_DOMAIN_ID).executeTakeFirst();
  if (exists) return { adminPassword, demoPassword };
  await db.transaction().execute(async (trx) => {
    const t = now();
    await trx.insertInto('project').values({
      id: DEFAULT_DOMAIN_ID, name: 'Default', domain_id: ROOT, parent_id: null, is_domain: 1, enabled: 1,
      description: 'The default domain', extra: '{}', options: '{}', created_at: t,
    }).execute();
    const roles: Record<string, string> = {};
    for (const name of ['admin', 'member', 'reader', 'creator']) {
      roles[name] = hexId();
      await trx.insertInto('role').values({ id: roles[name]!, name, domain_id: ROOT, description: null, extra: '{}', options: '{}' }).execute();
    }
    await trx.insertInto('implied_role').values([
      { prior_role_id: roles.admin!, implied_role_id: roles.member! },
      { prior_role_id: roles.member!, implied_role_id: roles.reader! },
    ]).execute();
    await trx.insertInto('region').values({ id: platform.config.region, description: '', parent_region_id: null, extra: '{}' }).execute();
    for (const [name, role, password] of [['admin', 'admin', adminPassword], ['demo', 'member', demoPassword]] as const) {
      const projectId = hexId();
      await trx.insertInto('project').values({
        id: projectId, name, domain_id: DEFAULT_DOMAIN_ID, parent_id: DEFAULT_DOMAIN_ID, is_domain: 0, enabled: 1,
        description: `Bootstrap project ${name}`, extra: '{}', options: '{}', created_at: t,
      }).execute();
      const user = {
        id: hexId(), name, domain_id: DEFAULT_DOMAIN_ID, enabled: 1, default_project_id: projectId, extra: '{}',
        // The bootstrap admin must never be locked out of its own cloud.
        options: name === 'admin' ? JSON.stringify({ ignore_lockout_failure_attempts: true, ignore_password_expiry: true }) : '{}',
        failed_auth_count: 0, failed_auth_at: null, last_active_at: null, created_at: t,
      };
      await trx.insertInto('identity_user').values(user).execute();
      await setPassword(trx, user, password, platform.config.identity.security, platform.config.identity.passwordHashCost, false);
      await trx.insertInto('assignment').values({ type: 'UserProject', actor_id: user.id, target_id: projectId, role_id: roles[role]!, inherited: 0 }).execute();
    }
  });
  identity.changed();
  return { adminPassword, demoPassword };
}

/** Adds or updates one service and its three endpoints per running service module. */
export async function syncCatalog(db: IdentityDb, region: string, baseUrl: string, services: ServiceModule[]): Promise<void> {
  for (const s of services.flatMap((m) => [m, ...(m.catalogAliases ?? []).map((a) => ({ ...m, ...a }))])) {
    const rows = await db.selectFrom('service').selectAll().where('type', '=', s.type).execute();
    let row = rows.find((r) => JSON.parse(r.extra).name === s.name);
    if (!row) {
      row = { id: hexId(), type: s.type, enabled: 1, extra: JSON.stringify({ name: s.name, description: `Stratus ${s.type} service` }) };
      await db.insertInto('service').values(row).execute();
    }
    const url = `${baseUrl}${s.endpointPath}`;
    const endpoints = await db.selectFrom('endpoint').selectAll().where('service_id', '=', row.id).where('region_id', '=', region).execute();
    for (const iface of ['public', 'internal', 'admin']) {
      const e = endpoints.find((x) => x.interface === iface);
      if (!e) await db.insertInto('endpoint').values({ id: hexId(), service_id: row.id, interface: iface, url, region_id: region, enabled: 1, extra: '{}' }).execute();
      else if (e.url !== url) await db.updateTable('endpoint').set({ url }).where('id', '=', e.id).execute();
    }
  }
}

/** A secret from the environment, else the one stored in the data directory, else a new one. */
function secretFile(dir: string, name: string, fromEnv: string | undefined): string {
  const path = join(dir, name);
  if (!fromEnv && existsSync(path)) return readFileSync(path, 'utf8').trim();
  const secret = fromEnv ?? randomBytes(18).toString('base64url');
  writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  return secret;
}
