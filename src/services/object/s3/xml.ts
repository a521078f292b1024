import { S3Error, errors } from './errors.js';

/**
 * XML in and out. Responses are built as strings from small element helpers; request
 * bodies (bucket configuration, versioning, multi-delete, multipart completion, lock and
 * retention settings) are small, attribute-free documents read into a tree of elements.
 * The reader refuses DTDs and entities beyond XML's five, so nothing expands.
 */
export const escape = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

/** An element with text or children; undefined and null children are left out. */
export function el(name: string, ...content: (string | number | boolean | undefined | null | string[])[]): string {
  const inner = content.flat().filter((c) => c !== undefined && c !== null).map((c) => (typeof c === 'string' && c.startsWith('<') ? c : escape(String(c)))).join('');
  return `<${name}>${inner}</${name}>`;
}
/** A leaf whose text is always escaped (for user data that may start with '<'). */
export const text = (name: string, value: string | number | boolean): string => `<${name}>${escape(String(value))}</${name}>`;

export const NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
export const doc = (root: string, body: string[]): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${NS}">${body.join('')}</${root}>`;

export interface XmlNode { name: string; text: string; children: XmlNode[] }

const unescape = (s: string): string => s.replace(/&(lt|gt|amp|quot|apos|#x[0-9a-fA-F]+|#\d+);/g, (_m, e: string) => {
  if (e === 'lt') return '<'; if (e === 'gt') return '>'; if (e === 'amp') return '&'; if (e === 'quot') return '"'; if (e === 'apos') return "'";
  return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
});

/** Parses a small XML document; MalformedXML on anything unexpected. */
export function parseXml(input: string): XmlNode {
  const src = input.replace(/^\uFEFF/, '');
  let i = 0;
  const fail = (): S3Error => errors.malformedXml();
  const skipMisc = () => {
    for (;;) {
      while (i < src.length && /\s/.test(src[i]!)) i++;
      if (src.startsWith('<?', i)) { const e = src.indexOf('?>', i); if (e < 0) throw fail(); i = e + 2; continue; }
      if (src.startsWith('<!--', i)) { const e = src.indexOf('-->', i); if (e < 0) throw fail(); i = e + 3; continue; }
      if (src.startsWith('<!', i)) throw fail();
      return;
    }
  };
  const nameAt = (): string => {
    const m = /^[A-Za-z_][\w.:-]*/.exec(src.slice(i, i + 256));
    if (!m) throw fail();
    i += m[0].length;
    return m[0];
  };
  const element = (depth: number): XmlNode => {
    if (depth > 32 || src[i] !== '<') throw fail();
    i++;
    const qname = nameAt();
    const name = qname.includes(':') ? qname.slice(qname.indexOf(':') + 1) : qname;
    // Attributes (namespace declarations) are skipped.
    const close = src.indexOf('>', i);
    if (close < 0) throw fail();
    const attrs = src.slice(i, close);
    i = close + 1;
    if (attrs.endsWith('/')) return { name, text: '', children: [] };
    const node: XmlNode = { name, text: '', children: [] };
    let txt = '';
    for (;;) {
      if (i >= src.length) throw fail();
      if (src.startsWith('</', i)) {
        i += 2;
        const end = nameAt();
        if (end !== qname) throw fail();
        while (/\s/.test(src[i] ?? '')) i++;
        if (src[i] !== '>') throw fail();
        i++;
        node.text = unescape(txt);
        return node;
      }
      if (src.startsWith('<!--', i)) { const e = src.indexOf('-->', i); if (e < 0) throw fail(); i = e + 3; continue; }
      if (src.startsWith('<![CDATA[', i)) { const e = src.indexOf(']]>', i); if (e < 0) throw fail(); txt += src.slice(i + 9, e).replace(/&/g, '&amp;').replace(/</g, '&lt;'); i = e + 3; continue; }
      if (src[i] === '<') { node.children.push(element(depth + 1)); continue; }
      const next = src.indexOf('<', i);
      if (next < 0) throw fail();
      txt += src.slice(i, next);
      i = next;
    }
  };
  skipMisc();
  const root = element(0);
  skipMisc();
  if (i !== src.length) throw fail();
  return root;
}

export const child = (n: XmlNode | undefined, name: string): XmlNode | undefined => n?.children.find((c) => c.name === name);
export const children = (n: XmlNode | undefined, name: string): XmlNode[] => n?.children.filter((c) => c.name === name) ?? [];
export const textOf = (n: XmlNode | undefined, name: string): string | undefined => child(n, name)?.text.trim();
