import { ApiError } from '../../../platform/http/errors.js';

/** Swift's default cluster constraints; /info publishes them and the API enforces them. */
export const CONSTRAINTS = {
  max_file_size: 5 * 1024 ** 3 + 2,
  max_meta_name_length: 128,
  max_meta_value_length: 256,
  max_meta_count: 90,
  max_meta_overall_size: 4096,
  max_header_size: 8192,
  max_object_name_length: 1024,
  container_listing_limit: 10000,
  account_listing_limit: 10000,
  max_account_name_length: 256,
  max_container_name_length: 256,
  extra_header_count: 0,
  valid_header_name_pattern: '^[!#$%&\'*+.^_`|~0-9A-Za-z-]+$',
} as const;

/** Static large objects: Swift's defaults. */
export const SLO_LIMITS = { max_manifest_segments: 1000, max_manifest_size: 8 * 1024 * 1024, min_segment_size: 1 };

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/**
 * The separator of hidden names (version containers, `name<SEP>timestamp` versions). It is
 * U+0001 rather than Swift's NUL because PostgreSQL text cannot hold NUL; user names may
 * contain neither.
 */
export const HIDDEN = '\u0001';
const reserved = (name: string) => name.includes('\u0000') || name.includes(HIDDEN);

export function checkContainerName(name: string): void {
  if (name === '' || name.includes('/')) throw new ApiError(400, 'Invalid container name');
  if (bytes(name) > CONSTRAINTS.max_container_name_length) {
    throw new ApiError(400, `Container name length of ${bytes(name)} longer than ${CONSTRAINTS.max_container_name_length}`);
  }
  if (reserved(name)) throw new ApiError(400, 'Invalid container name');
}

export function checkObjectName(name: string): void {
  if (name === '') throw new ApiError(400, 'Invalid object name');
  if (bytes(name) > CONSTRAINTS.max_object_name_length) {
    throw new ApiError(400, `Object name length of ${bytes(name)} longer than ${CONSTRAINTS.max_object_name_length}`);
  }
  if (reserved(name)) throw new ApiError(400, 'Invalid object name');
}

/** Checks the user metadata (`<prefix>*` entries) a resource would end up with. */
export function checkMetadata(headers: Record<string, string>, prefix: string): void {
  let count = 0;
  let size = 0;
  for (const [k, v] of Object.entries(headers)) {
    if (!k.startsWith(prefix)) continue;
    const key = k.slice(prefix.length);
    if (key === '') throw new ApiError(400, 'Metadata name cannot be empty');
    if (bytes(key) > CONSTRAINTS.max_meta_name_length) throw new ApiError(400, `Metadata name too long: ${k}`);
    if (bytes(v) > CONSTRAINTS.max_meta_value_length) throw new ApiError(400, `Metadata value longer than ${CONSTRAINTS.max_meta_value_length}: ${k}`);
    count++;
    size += bytes(key) + bytes(v);
  }
  if (count > CONSTRAINTS.max_meta_count) throw new ApiError(400, `Too many metadata items; max ${CONSTRAINTS.max_meta_count}`);
  if (size > CONSTRAINTS.max_meta_overall_size) throw new ApiError(400, `Total metadata too large; max ${CONSTRAINTS.max_meta_overall_size}`);
}
