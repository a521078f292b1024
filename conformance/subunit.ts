// Decoder for subunit v2, the binary result stream stestr stores for every run
// (`stestr last --subunit`). Only Python's subunit library reads it on this machine and no npm
// package is installed, so this small reader follows the published v2 framing:
//   0xB3 | flags u16 | length varint | [timestamp] [test id] [tags] [mime] [file] [route] | crc32
// It yields one event per packet; results.ts folds them into per-test outcomes.

import { crc32 } from 'node:zlib';

export type SubunitStatus =
  | 'undefined'
  | 'exists'
  | 'inprogress'
  | 'success'
  | 'uxsuccess'
  | 'skip'
  | 'fail'
  | 'xfail';

export interface SubunitEvent {
  testId: string | null;
  status: SubunitStatus;
  tags: string[];
  timestamp: Date | null;
  fileName: string | null;
  fileBytes: Buffer | null;
  mimeType: string | null;
  eof: boolean;
}

const SIGNATURE = 0xb3;
const STATUSES: SubunitStatus[] = ['undefined', 'exists', 'inprogress', 'success', 'uxsuccess', 'skip', 'fail', 'xfail'];
const FLAG_TEST_ID = 0x0800;
const FLAG_ROUTE_CODE = 0x0400;
const FLAG_TIMESTAMP = 0x0200;
const FLAG_TAGS = 0x0080;
const FLAG_MIME_TYPE = 0x0020;
const FLAG_EOF = 0x0010;
const FLAG_FILE_CONTENT = 0x0040;

export function decodeSubunit(stream: Buffer): SubunitEvent[] {
  const events: SubunitEvent[] = [];
  let pos = 0;
  while (pos < stream.length) {
    // Anything that is not a packet (stray output interleaved by a worker) is skipped up to
    // the next signature byte, as the reference parser passes such bytes through.
    if (stream[pos] !== SIGNATURE) {
      pos += 1;
      continue;
    }
    const packet = readPacket(stream, pos);
    if (packet === null) {
      pos += 1;
      continue;
    }
    events.push(packet.event);
    pos = packet.end;
  }
  return events;
}

function readPacket(buf: Buffer, start: number): { event: SubunitEvent; end: number } | null {
  if (start + 6 > buf.length) return null;
  const flags = buf.readUInt16BE(start + 1);
  if (flags >> 12 !== 0x2) return null; // version nibble must be 2
  const [length] = readVarint(buf, start + 3);
  const end = start + length;
  if (length < 10 || end > buf.length) return null;
  if (crc32(buf.subarray(start, end - 4)) !== buf.readUInt32BE(end - 4)) return null;

  let pos = start + 3 + varintSize(buf[start + 3]!);
  const bodyEnd = end - 4;
  const readString = (): string => {
    const [len, size] = readVarint(buf, pos);
    const text = buf.toString('utf8', pos + size, pos + size + len);
    pos += size + len;
    return text;
  };

  let timestamp: Date | null = null;
  if (flags & FLAG_TIMESTAMP) {
    const seconds = buf.readUInt32BE(pos);
    const [nanos, size] = readVarint(buf, pos + 4);
    timestamp = new Date(seconds * 1000 + Math.floor(nanos / 1e6));
    pos += 4 + size;
  }
  const testId = flags & FLAG_TEST_ID ? readString() : null;
  const tags: string[] = [];
  if (flags & FLAG_TAGS) {
    const [count, size] = readVarint(buf, pos);
    pos += size;
    for (let i = 0; i < count; i++) tags.push(readString());
  }
  const mimeType = flags & FLAG_MIME_TYPE ? readString() : null;
  let fileName: string | null = null;
  let fileBytes: Buffer | null = null;
  if (flags & FLAG_FILE_CONTENT) {
    fileName = readString();
    const [len, size] = readVarint(buf, pos);
    fileBytes = Buffer.from(buf.subarray(pos + size, pos + size + len));
    pos += size + len;
  }
  if (flags & FLAG_ROUTE_CODE) readString();
  if (pos > bodyEnd) return null;

  const status = STATUSES[flags & 0x7]!;
  return { event: { testId, status, tags, timestamp, fileName, fileBytes, mimeType, eof: (flags & FLAG_EOF) !== 0 }, end };
}

/** Subunit numbers: the top two bits of the first byte say how many more bytes follow. */
function readVarint(buf: Buffer, pos: number): [value: number, size: number] {
  const first = buf[pos]!;
  const size = varintSize(first);
  let value = first & 0x3f;
  for (let i = 1; i < size; i++) value = value * 256 + buf[pos + i]!;
  return [value, size];
}

function varintSize(first: number): number {
  return (first >> 6) + 1;
}
