import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseList, readList, testIdToPattern } from '../lists.js';

const listsDir = new URL('../lists/', import.meta.url);
const listed = (name: string) => readList(new URL(name, listsDir).pathname);

describe('list files', () => {
  it('turns interop test ids into regexes that match the id whatever its other attributes', () => {
    const pattern = new RegExp(testIdToPattern('tempest.api.x.T.test_a[id-1234]')!);
    expect(pattern.test('tempest.api.x.T.test_a[id-1234]')).toBe(true);
    expect(pattern.test('tempest.api.x.T.test_a[id-1234,smoke]')).toBe(true);
    expect(pattern.test('tempest.api.x.T.test_a[smoke,id-1234]')).toBe(true);
    expect(pattern.test('tempest.api.x.T.test_ab[id-1234]')).toBe(false);
  });

  it('keeps the comment of an exclude line as its reason', () => {
    const [entry] = parseList('# header\n\n^a\\.b  # not implemented\n', 'x.txt');
    expect(entry).toEqual({ pattern: '^a\\.b', reason: 'not implemented', origin: 'x.txt:3' });
  });

  it('rejects a broken regex with its file and line', () => {
    expect(() => parseList('ok\n(unclosed\n', 'bad.txt')).toThrow(/bad\.txt:2/);
  });

  it('gives every exclusion a reason', () => {
    for (const file of readdirSync(listsDir).filter((f) => f.endsWith('-exclude.txt'))) {
      for (const entry of listed(file)) expect(entry.reason, entry.origin).toBeTruthy();
    }
  });

  it('holds exactly the 17 identity tests of the interop guideline', () => {
    const entries = listed('interop-identity.txt');
    expect(entries).toHaveLength(17);
    const guideline = readFileSync(new URL('interop-identity.txt', listsDir), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('tempest.'));
    guideline.forEach((id, i) => expect(new RegExp(entries[i]!.pattern).test(id)).toBe(true));
  });
});
