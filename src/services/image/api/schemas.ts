/**
 * The JSON-Schema documents served under /v2/schemas/{image,images,member,members}.
 *
 * These are not decoration: python-glanceclient (and anything built on warlock) downloads
 * the image schema and uses it as the model for every image it handles.
 *   - `glance image-create/image-update` validate the request they are about to send, and
 *     `image-update` validates the image it just fetched, against `imageSchema()`. So the
 *     image view must conform to it: declared properties with the declared types, and every
 *     undeclared (custom) property a string (`additionalProperties: {type: string}`), never
 *     null or a number.
 *   - `readOnly: true` properties get no CLI flag, and Glance rejects writes to them.
 *   - When building a PATCH, the client assumes a property is "base" unless it carries
 *     `is_base: false`: a base property missing from the image is diffed as `replace`, a
 *     non-base one as `add`. Glance answers `replace` on an absent custom property with
 *     409, so the optional, operator-declared properties (kernel_id, os_distro, ...) must be
 *     marked `is_base: false`, or setting them for the first time fails.
 *   - Property types drive CLI argument parsing: the first non-null entry of `type` picks
 *     int/bool/string/list conversion, and `enum` is shown as the valid choices.
 *
 * The shape follows Glance's own construction: the image schema is "permissive" (it carries
 * `additionalProperties` and `links`); the images collection wraps it whole; the member
 * schemas are served in their minimal form (no `additionalProperties`, no item links).
 * Descriptions are our own words; no client reads them except as help text.
 *
 * Every function returns a fresh object, so callers may adapt it (e.g. drop `locations`
 * when location access is disabled) without touching the next response.
 */

/** Any JSON value; the schema documents are plain data. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** Glance's defaults for [image_format] container_formats and disk_formats. */
export const DEFAULT_CONTAINER_FORMATS: readonly string[] = [
  'ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed',
];
export const DEFAULT_DISK_FORMATS: readonly string[] = [
  'ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso', 'ploop',
];

/** Every state an image can be in; the list and show views never emit anything else. */
export const IMAGE_STATUSES: readonly string[] = [
  'queued', 'saving', 'active', 'killed', 'deleted', 'uploading', 'importing',
  'pending_delete', 'deactivated',
];

export const IMAGE_VISIBILITIES: readonly string[] = ['community', 'public', 'private', 'shared'];

export const MEMBER_STATUSES: readonly string[] = ['pending', 'accepted', 'rejected'];

/** Glance validates ids (image id, kernel_id, ramdisk_id) with this exact pattern. */
export const UUID_PATTERN =
  '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$';

export interface ImageSchemaOptions {
  /** Allowed container_format values (null is always allowed in addition). */
  containerFormats?: readonly string[];
  /** Allowed disk_format values (null is always allowed in addition). */
  diskFormats?: readonly string[];
}

/**
 * The properties every Glance image schema has (Glance calls them base properties; they
 * carry no `is_base` marker, which clients read as "base").
 */
function baseProperties(options: ImageSchemaOptions): JsonObject {
  const containerFormats = options.containerFormats ?? DEFAULT_CONTAINER_FORMATS;
  const diskFormats = options.diskFormats ?? DEFAULT_DISK_FORMATS;
  return {
    // Writable only at creation (a caller may choose the id); PATCH on /id is 403.
    id: {
      type: 'string',
      description: 'Unique identifier (UUID) of the image.',
      pattern: UUID_PATTERN,
    },
    // Nullable: an image created without a name shows `"name": null`.
    name: {
      type: ['null', 'string'],
      description: 'Human-readable name of the image; need not be unique.',
      maxLength: 255,
    },
    status: {
      type: 'string',
      readOnly: true,
      description: 'Lifecycle state of the image.',
      enum: [...IMAGE_STATUSES],
    },
    // No null here: the view always emits one of the four values.
    visibility: {
      type: 'string',
      description: 'Who may see the image.',
      enum: [...IMAGE_VISIBILITIES],
    },
    protected: {
      type: 'boolean',
      description: 'When true the image cannot be deleted.',
    },
    os_hidden: {
      type: 'boolean',
      description: 'When true the image is left out of image lists unless asked for.',
    },
    // The hash fields are null until data has been uploaded.
    checksum: {
      type: ['null', 'string'],
      readOnly: true,
      description: 'MD5 digest of the image data.',
      maxLength: 32,
    },
    os_hash_algo: {
      type: ['null', 'string'],
      readOnly: true,
      description: 'Name of the algorithm used to compute os_hash_value.',
      maxLength: 64,
    },
    os_hash_value: {
      type: ['null', 'string'],
      readOnly: true,
      description: 'Hex digest of the image data computed with os_hash_algo.',
      maxLength: 128,
    },
    // Writable (admins may move an image to another project); a project id string.
    owner: {
      type: ['null', 'string'],
      description: 'Project that owns the image.',
      maxLength: 255,
    },
    size: {
      type: ['null', 'integer'],
      readOnly: true,
      description: 'Size of the stored image data in bytes.',
    },
    virtual_size: {
      type: ['null', 'integer'],
      readOnly: true,
      description: 'Size of the virtual disk the image describes, in bytes.',
    },
    // Both formats start as null on a fresh image and must be set before data is uploaded.
    // The null inside the enum is what lets the client validate such an image.
    container_format: {
      type: ['null', 'string'],
      description: 'Container format of the image data.',
      enum: [null, ...containerFormats],
    },
    disk_format: {
      type: ['null', 'string'],
      description: 'Disk format of the image data.',
      enum: [null, ...diskFormats],
    },
    // Timestamps are strings such as 2024-01-31T12:00:00Z; never null.
    created_at: {
      type: 'string',
      readOnly: true,
      description: 'When the image was created.',
    },
    updated_at: {
      type: 'string',
      readOnly: true,
      description: 'When the image was last changed.',
    },
    // Always an array in views (empty when untagged); replaced whole by PATCH /tags.
    tags: {
      type: 'array',
      description: 'Free-form labels attached to the image.',
      items: { type: 'string', maxLength: 255 },
    },
    // Only emitted when the deployment exposes backend locations; a string when present,
    // so omit it rather than send null.
    direct_url: {
      type: 'string',
      readOnly: true,
      description: 'Backend address of the image data.',
    },
    // Integers, default 0; never null.
    min_ram: {
      type: 'integer',
      description: 'Minimum memory (MiB) needed to boot the image.',
    },
    min_disk: {
      type: 'integer',
      description: 'Minimum disk (GiB) needed to boot the image.',
    },
    // The three link properties are relative paths (/v2/images/{id}, .../file,
    // /v2/schemas/image); `links` below tells clients which is which.
    self: {
      type: 'string',
      readOnly: true,
      description: 'Path of this image resource.',
    },
    file: {
      type: 'string',
      readOnly: true,
      description: 'Path of the image data.',
    },
    // Multi-store deployments only: a comma-separated list of store ids.
    stores: {
      type: 'string',
      readOnly: true,
      description: 'Comma-separated ids of the stores holding the image data.',
    },
    schema: {
      type: 'string',
      readOnly: true,
      description: 'Path of the schema describing this document.',
    },
    // Emitted only when location access is enabled; each entry needs url and metadata.
    // validation_data is accepted on add and never shown back.
    locations: {
      type: 'array',
      description: 'Backend addresses of the image data, in order of preference.',
      items: {
        type: 'object',
        properties: {
          url: { type: 'string', maxLength: 255 },
          metadata: { type: 'object' },
          validation_data: {
            description:
              'Hashes to record on the image when adding a location; on an image that ' +
              'already has data they must equal the recorded ones.',
            type: 'object',
            writeOnly: true,
            additionalProperties: false,
            properties: {
              checksum: { type: 'string', minLength: 32, maxLength: 32 },
              os_hash_algo: { type: 'string', maxLength: 64 },
              os_hash_value: { type: 'string', maxLength: 128 },
            },
            required: ['os_hash_algo', 'os_hash_value'],
          },
        },
        required: ['url', 'metadata'],
      },
    },
  };
}

/**
 * The operator-declared properties a stock Glance ships (its schema-image.json). They are
 * optional, so each is marked `is_base: false`: see the file comment for why that matters.
 */
function commonProperties(): JsonObject {
  return {
    // Nullable UUIDs: AMI-style images point at their kernel and ramdisk images.
    kernel_id: {
      type: ['null', 'string'],
      pattern: UUID_PATTERN,
      description: 'Image to use as the kernel when booting this AMI-style image.',
      is_base: false,
    },
    ramdisk_id: {
      type: ['null', 'string'],
      pattern: UUID_PATTERN,
      description: 'Image to use as the ramdisk when booting this AMI-style image.',
      is_base: false,
    },
    // Set by compute on snapshots; informational.
    instance_uuid: {
      type: 'string',
      description: 'Server this image was taken from, for the record only.',
      is_base: false,
    },
    architecture: {
      type: 'string',
      description: 'CPU architecture the image is built for (e.g. x86_64, aarch64).',
      is_base: false,
    },
    os_distro: {
      type: 'string',
      description: 'Operating system distribution, in its common lower-case name (e.g. ubuntu).',
      is_base: false,
    },
    os_version: {
      type: 'string',
      description: 'Version of the operating system, as its distributor numbers it.',
      is_base: false,
    },
    description: {
      type: 'string',
      description: 'Free-text description of the image.',
      is_base: false,
    },
    cinder_encryption_key_id: {
      type: 'string',
      description: 'Key-manager id of the key that encrypts volumes made from this image.',
      is_base: false,
    },
    cinder_encryption_key_deletion_policy: {
      type: 'string',
      description: 'Whether deleting the image also deletes the key named by cinder_encryption_key_id.',
      enum: ['on_image_deletion', 'do_not_delete'],
      is_base: false,
    },
  };
}

/** Templated links: clients substitute the instance's own properties into the hrefs. */
function imageLinks(): Json[] {
  return [
    { rel: 'self', href: '{self}' },
    { rel: 'enclosure', href: '{file}' },
    { rel: 'describedby', href: '{schema}' },
  ];
}

/** GET /v2/schemas/image */
export function imageSchema(options: ImageSchemaOptions = {}): JsonObject {
  return {
    name: 'image',
    properties: { ...baseProperties(options), ...commonProperties() },
    // Custom properties are allowed, and their values are always strings: the view must
    // emit them as strings and requests that send anything else get 400.
    additionalProperties: { type: 'string' },
    links: imageLinks(),
  };
}

/** GET /v2/schemas/images: the list body, `{images: [...], first, next?, schema}`. */
export function imagesSchema(options: ImageSchemaOptions = {}): JsonObject {
  return {
    name: 'images',
    properties: {
      images: { type: 'array', items: imageSchema(options) },
      first: { type: 'string' },
      // Present in a list page only when there may be more; absent on the last page.
      next: { type: 'string' },
      schema: { type: 'string' },
    },
    links: [
      { rel: 'first', href: '{first}' },
      { rel: 'next', href: '{next}' },
      { rel: 'describedby', href: '{schema}' },
    ],
  };
}

function memberProperties(): JsonObject {
  return {
    // The project id the image is shared with.
    member_id: {
      type: 'string',
      description: 'Project the image is shared with.',
    },
    image_id: {
      type: 'string',
      description: 'Image being shared.',
      pattern: UUID_PATTERN,
    },
    created_at: {
      type: 'string',
      description: 'When the image was shared with this member.',
    },
    updated_at: {
      type: 'string',
      description: 'When this membership last changed.',
    },
    // New members start pending; only the member project changes it (PUT .../members/{id}).
    status: {
      type: 'string',
      description: 'Whether the member has accepted the shared image.',
      enum: [...MEMBER_STATUSES],
    },
    schema: {
      type: 'string',
      readOnly: true,
    },
  };
}

/** GET /v2/schemas/member: served minimal, so no additionalProperties and no links. */
export function memberSchema(): JsonObject {
  return {
    name: 'member',
    properties: memberProperties(),
  };
}

/** GET /v2/schemas/members: the member list body, `{members: [...], schema}` (no paging). */
export function membersSchema(): JsonObject {
  return {
    name: 'members',
    properties: {
      members: { type: 'array', items: memberSchema() },
      schema: { type: 'string' },
    },
    links: [{ rel: 'describedby', href: '{schema}' }],
  };
}
