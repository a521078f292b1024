import { expect } from 'vitest';
import type { TestCloud } from './cloud.js';

/** Calls to a test cloud's Compute API: `nova` answers as it comes, `ok` asserts the status and returns the body. */
export function computeClient(c: () => TestCloud) {
  const nova = (method: string, path: string, token: string, body?: unknown, version?: string) =>
    c().api(method, `/compute/v2.1${path}`, { token, body, headers: version ? { 'X-OpenStack-Nova-API-Version': version } : {} });
  const ok = async (method: string, path: string, token: string, body?: unknown, status = 200, version?: string) => {
    const r = await nova(method, path, token, body, version);
    expect(r.status, `${method} ${path}: ${r.text}`).toBe(status);
    return r.body;
  };
  return { nova, ok };
}
