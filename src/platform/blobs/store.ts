import type { Readable } from 'node:stream';

/**
 * Where bytes live: images now, objects and backups later. Writes are all-or-nothing
 * (a failed or interrupted write leaves nothing behind), reads stream, and every write
 * reports the digests OpenStack services publish (Glance's md5 checksum and sha512 hash).
 */
export interface BlobInfo {
  size: number;
  md5: string;
  /** Empty when the write asked for md5 only (PutOptions.hashes). */
  sha512: string;
  /** The first bytes, for format sniffing (qcow2 header and such). */
  head: Buffer;
}

export interface PutOptions {
  /** Stop with BlobTooLarge once more than this many bytes arrived. */
  maxBytes?: number;
  /** Digests to compute; both by default (Glance publishes both), Swift's ETag needs md5 only. */
  hashes?: ('md5' | 'sha512')[];
}

export class BlobTooLarge extends Error {
  constructor(readonly limit: number) { super(`blob exceeds ${limit} bytes`); }
}

export interface BlobStore {
  put(key: string, data: Readable, opts?: PutOptions): Promise<BlobInfo>;
  /** A stream of the bytes [start, end] inclusive, or all of them. */
  open(key: string, range?: { start: number; end: number }): Promise<Readable>;
  size(key: string): Promise<number | null>;
  delete(key: string): Promise<void>;
  /** Moves a blob to another key without copying (staging → final). */
  move(from: string, to: string): Promise<void>;
}
