import type { IdentityDb } from '../store.js';
import { json } from '../store.js';

export interface CatalogEntry {
  id: string;
  type: string;
  name: string;
  endpoints: { id: string; interface: string; region: string | null; region_id: string | null; url: string }[];
}

/** The service catalog as tokens carry it: enabled services with their enabled endpoints. */
export async function buildCatalog(db: IdentityDb): Promise<CatalogEntry[]> {
  const services = await db.selectFrom('service').selectAll().where('enabled', '=', 1).orderBy('type').execute();
  const endpoints = await db.selectFrom('endpoint').selectAll().where('enabled', '=', 1).execute();
  return services.map((s) => ({
    id: s.id,
    type: s.type,
    name: String(json(s.extra, {} as Record<string, unknown>).name ?? ''),
    endpoints: endpoints.filter((e) => e.service_id === s.id)
      .map((e) => ({ id: e.id, interface: e.interface, region: e.region_id, region_id: e.region_id, url: e.url })),
  }));
}
