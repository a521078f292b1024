import { expect } from 'vitest';
import type { TestCloud } from './cloud.js';

/**
 * Calls to a test cloud's Block Storage API (v3, under the caller's project): `cinder`
 * answers as it comes, `ok` asserts the status and returns the body, `waitFor` polls a
 * resource until its status is one of `want`.
 */
export function volumeClient(c: () => TestCloud) {
  const cinder = (method: string, path: string, token: string, body?: unknown, version?: string) =>
    c().api(method, `/volume/v3${path}`, { token, body, headers: version ? { 'OpenStack-API-Version': `volume ${version}` } : {} });
  const ok = async (method: string, path: string, token: string, body?: unknown, status = 200, version?: string) => {
    const r = await cinder(method, path, token, body, version);
    expect(r.status, `${method} ${path}: ${r.text}`).toBe(status);
    return r.body;
  };
  const waitFor = async (path: string, key: string, token: string, want: string[], timeoutMs = 20_000) => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const r = await cinder('GET', path, token);
      if (r.status === 404 && want.includes('deleted')) return null;
      expect(r.status, `GET ${path}: ${r.text}`).toBe(200);
      if (want.includes(r.body[key].status)) return r.body[key];
      if (Date.now() > until) throw new Error(`${path} stayed ${r.body[key].status}, wanted ${want.join('/')}`);
      await new Promise((res) => setTimeout(res, 50));
    }
  };
  return { cinder, ok, waitFor };
}

/** A user message about a resource, written the way the volume manager writes one when an operation fails. */
export async function userMessage(c: TestCloud, projectId: string, resourceId: string, text = 'schedule allocate volume:Could not find any available weighted backend.'): Promise<void> {
  const { VolumeManager } = await import('../../src/services/volume/logic/manager.js');
  const { volumeDb } = await import('../../src/services/volume/store.js');
  await new VolumeManager(volumeDb(c.platform.db), c.platform, null as never, null as never).message(projectId, 'VOLUME', resourceId, '001', '001', text);
}

