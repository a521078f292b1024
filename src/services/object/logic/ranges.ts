/**
 * HTTP byte ranges (RFC 9110) as Swift applies them: a header it cannot parse is ignored
 * (the whole object is returned), a parsable one with no satisfiable range is a 416.
 */
export interface ByteRange { start: number; end: number }

export function parseRanges(header: string | undefined, size: number): ByteRange[] | 'unsatisfiable' | null {
  if (!header) return null;
  const m = /^\s*bytes\s*=\s*(.+)$/i.exec(header);
  if (!m) return null;
  const specs = m[1]!.split(',').map((s) => s.trim());
  if (specs.length > 100) return null;
  const out: ByteRange[] = [];
  for (const spec of specs) {
    const r = /^(\d*)-(\d*)$/.exec(spec);
    if (!r || (r[1] === '' && r[2] === '')) return null;
    if (r[1] === '') {
      const n = Number(r[2]);
      if (n === 0) continue;
      out.push({ start: Math.max(0, size - n), end: size - 1 });
    } else {
      const start = Number(r[1]);
      const end = r[2] === '' ? size - 1 : Math.min(Number(r[2]), size - 1);
      if (r[2] !== '' && Number(r[2]) < start) return null;
      if (start >= size) continue;
      out.push({ start, end });
    }
  }
  if (out.length === 0) return 'unsatisfiable';
  return out.filter((r) => r.start <= r.end && size > 0);
}
