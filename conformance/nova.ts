// What the runner prepares in Compute and Image before writing tempest.conf: two public
// flavors and two public images for [compute] flavor_ref/_alt and image_ref/_alt. The
// documented flavor catalogue has no root disk (servers boot from volumes there), and Tempest
// boots from images, so the runner makes small flavors of its own (as an operator would for a
// CI project) with the admin token. Plain fetch, like keystone.ts and neutron.ts.

export interface ComputeFacts {
  flavorRef: string;
  flavorRefAlt: string;
  imageRef: string;
  imageRefAlt: string;
}

const TIMEOUT_MS = 15_000;
/** Names the runner looks for first, so a cloud given with --auth-url is not filled with copies. */
export const TEMPEST_FLAVORS = [
  { name: 'tempest.small', vcpus: 1, ram: 512, disk: 1 },
  { name: 'tempest.medium', vcpus: 1, ram: 1024, disk: 2 },
];
export const TEMPEST_IMAGES = ['tempest-image', 'tempest-image-alt'];

async function call(url: string, token: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    headers: { 'x-auth-token': token, accept: 'application/json', ...(init.body !== undefined && !(init.body instanceof Uint8Array) ? { 'content-type': 'application/json' } : {}), ...init.headers },
    body: init.body === undefined ? undefined : init.body instanceof Uint8Array ? Buffer.from(init.body) : JSON.stringify(init.body),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const text = await res.text();
  let body: unknown = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = text; }
  return { status: res.status, body };
}

export async function prepareCompute(computeUrl: string, imageUrl: string, token: string): Promise<ComputeFacts> {
  const compute = computeUrl.replace(/\/+$/, '');
  const image = imageUrl.replace(/\/+$/, '').replace(/\/v2$/, '');
  const flavors: string[] = [];
  const existing = (await call(`${compute}/flavors/detail?is_public=None`, token)).body?.flavors ?? [];
  for (const f of TEMPEST_FLAVORS) {
    const found = existing.find((x: { name: string }) => x.name === f.name);
    if (found) { flavors.push(found.id); continue; }
    const r = await call(`${compute}/flavors`, token, { method: 'POST', body: { flavor: { name: f.name, vcpus: f.vcpus, ram: f.ram, disk: f.disk } } });
    if (r.status !== 200) throw new Error(`creating flavor ${f.name}: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
    flavors.push(r.body.flavor.id);
  }
  const images: string[] = [];
  for (const name of TEMPEST_IMAGES) {
    const list = (await call(`${image}/v2/images?name=${encodeURIComponent(name)}&status=active`, token)).body?.images ?? [];
    if (list[0]) { images.push(list[0].id); continue; }
    const created = await call(`${image}/v2/images`, token, { method: 'POST', body: { name, disk_format: 'raw', container_format: 'bare', visibility: 'public' } });
    if (created.status !== 201) throw new Error(`creating image ${name}: HTTP ${created.status} ${JSON.stringify(created.body).slice(0, 200)}`);
    // A tiny raw disk: the fake hypervisor boots anything.
    const data = new Uint8Array(64 * 1024);
    const up = await call(`${image}/v2/images/${created.body.id}/file`, token, { method: 'PUT', body: data, headers: { 'content-type': 'application/octet-stream' } });
    if (up.status !== 204) throw new Error(`uploading image ${name}: HTTP ${up.status}`);
    images.push(created.body.id);
  }
  return { flavorRef: flavors[0]!, flavorRefAlt: flavors[1]!, imageRef: images[0]!, imageRefAlt: images[1]! };
}
