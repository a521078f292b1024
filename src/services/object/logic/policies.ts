/**
 * The storage policies this cloud offers (the product documents name exactly these four).
 * All of them land on the same blob store here; the name is kept per container, shown in
 * HEAD and listings, and fixed once the container exists.
 */
export interface StoragePolicy { name: string; description: string; default?: boolean }

export const STORAGE_POLICIES: readonly StoragePolicy[] = [
  { name: 'gp.archive', description: 'General purpose, for data that is rarely read back (archives, backups).' },
  { name: 'gp.intermittent', description: 'General purpose, for data read now and then.' },
  { name: 'gp.recurring', description: 'General purpose, for data read regularly.', default: true },
  { name: 'hp.intensive', description: 'High performance, for data read and written intensively.' },
];

export const DEFAULT_POLICY = STORAGE_POLICIES.find((p) => p.default)!.name;

/** The policy's canonical name, matched case-insensitively as Swift does; undefined when unknown. */
export function policyNamed(name: string): string | undefined {
  return STORAGE_POLICIES.find((p) => p.name.toLowerCase() === name.trim().toLowerCase())?.name;
}
