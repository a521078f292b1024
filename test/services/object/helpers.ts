import type { TestCloud } from '../../helpers/cloud.js';

/** Raw Swift calls against a test cloud: status, headers and the body as bytes and text. */
export interface SwiftResponse { status: number; headers: Headers; body: Buffer; text: string; json: any }

export function swiftClient(c: () => TestCloud) {
  const call = async (method: string, path: string, opts: { token?: string | null; headers?: Record<string, string>; body?: Buffer | string | Uint8Array | ReadableStream } = {}): Promise<SwiftResponse> => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers['x-auth-token'] = opts.token;
    const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : opts.body instanceof ReadableStream ? opts.body : new Uint8Array(opts.body);
    const res = await fetch(`${c().url}/object-store${path}`, { method, headers, body, ...(body instanceof ReadableStream ? { duplex: 'half' } : {}) } as RequestInit);
    const buf = Buffer.from(await res.arrayBuffer());
    let json: unknown = null;
    try { json = JSON.parse(buf.toString('utf8')); } catch { json = null; }
    return { status: res.status, headers: res.headers, body: buf, text: buf.toString('utf8'), json };
  };
  return { call };
}

/** The id of a project by name (admin token). */
export async function projectId(c: TestCloud, name: string): Promise<string> {
  return (await c.api('GET', `/identity/v3/projects?name=${name}`, { token: c.adminToken })).body.projects[0].id;
}

