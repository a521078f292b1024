import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KeyRepository } from '../../src/services/identity/logic/keys.js';
import { openToken, sealToken, openReceipt, sealReceipt } from '../../src/services/identity/logic/token-format.js';
import { totpAt, verifyTotp, base32Encode } from '../../src/services/identity/logic/totp.js';
import { hashSecret, verifySecret } from '../../src/services/identity/logic/passwords.js';
import { negotiate } from '../../src/platform/http/microversion.js';
import { page, parseSort, sortRows, nextLink } from '../../src/platform/http/pagination.js';
import { ApiError } from '../../src/platform/http/errors.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'stratus-unit-'));

describe('token keys', () => {
  const payload = { userId: 'u', methods: ['password'], scope: { kind: 'project' as const, id: 'p' }, issuedAt: 1, expiresAt: 2, auditIds: ['a'], appCredId: null, credentialId: 'c' };

  it('opens what it sealed, and nothing tampered or foreign', () => {
    const keys = new KeyRepository(tmp());
    const t = sealToken(keys, payload);
    expect(openToken(keys, t)).toEqual(payload);
    const flipped = t.slice(0, 40) + (t[40] === 'A' ? 'B' : 'A') + t.slice(41);
    expect(openToken(keys, flipped)).toBeNull();
    expect(openToken(new KeyRepository(tmp()), t)).toBeNull();
    // A receipt is not a token and vice versa.
    expect(openToken(keys, sealReceipt(keys, { userId: 'u', methods: [], issuedAt: 1, expiresAt: 2 }))).toBeNull();
    expect(openReceipt(keys, t)).toBeNull();
  });

  it('keeps tokens valid across rotations until their key is retired', () => {
    const dir = tmp();
    const keys = new KeyRepository(dir, 3);
    const t = sealToken(keys, payload);
    keys.rotate();
    expect(openToken(keys, t)).toEqual(payload);
    expect(openToken(new KeyRepository(dir, 3), t)).toEqual(payload); // another process reads the same keys
    keys.rotate();
    keys.rotate();
    expect(openToken(keys, t)).toBeNull();
    expect(readdirSync(dir).filter((f) => /^\d+$/.test(f))).toHaveLength(3);
  });
});

describe('TOTP', () => {
  it('matches the RFC 6238 SHA-1 test vectors (last six digits)', () => {
    const secret = Buffer.from('12345678901234567890');
    expect(totpAt(secret, 59_000, 30, 8)).toBe('94287082');
    expect(totpAt(secret, 1111111109_000, 30, 8)).toBe('07081804');
    expect(totpAt(secret, 20000000000_000, 30, 8)).toBe('65353130');
    expect(verifyTotp(base32Encode(secret), totpAt(secret, 1111111109_000), 1111111109_000 + 30_000)).toBe(true);
    expect(verifyTotp(base32Encode(secret), totpAt(secret, 1111111109_000), 1111111109_000 + 90_000)).toBe(false);
  });
});

describe('password hashing', () => {
  it('uses scrypt at full cost and verifies only the right secret', async () => {
    const h = await hashSecret('correct horse', 14);
    expect(h).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(await verifySecret('correct horse', h)).toBe(true);
    expect(await verifySecret('wrong horse', h)).toBe(false);
    expect(await hashSecret('correct horse', 14)).not.toBe(h);
  });
});

describe('microversions', () => {
  const range = { service: 'compute', min: '2.1', max: '2.96', legacyHeader: 'X-OpenStack-Nova-API-Version' };
  it('negotiates like Nova', () => {
    expect(negotiate({}, range)).toEqual({ major: 2, minor: 1 });
    expect(negotiate({ 'openstack-api-version': 'compute 2.47' }, range)).toEqual({ major: 2, minor: 47 });
    expect(negotiate({ 'openstack-api-version': 'compute latest' }, range)).toEqual({ major: 2, minor: 96 });
    expect(negotiate({ 'x-openstack-nova-api-version': '2.26' }, range)).toEqual({ major: 2, minor: 26 });
    expect(() => negotiate({ 'openstack-api-version': 'compute 2.97' }, range)).toThrow(ApiError);
    try { negotiate({ 'openstack-api-version': 'compute 3.0' }, range); } catch (e) { expect((e as ApiError).status).toBe(406); }
    expect(() => negotiate({ 'openstack-api-version': 'compute x' }, range)).toThrow(/Invalid API version/);
  });
});

describe('pagination and sorting', () => {
  const rows = [{ id: 'a', n: 3 }, { id: 'b', n: 1 }, { id: 'c', n: 2 }];
  it('pages after a marker with a next link and rejects unknown markers', () => {
    const sorted = sortRows(rows, parseSort({ sort_key: 'n', sort_dir: 'desc' }, ['n'], { key: 'id', dir: 'asc' }));
    expect(sorted.map((r) => r.id)).toEqual(['a', 'c', 'b']);
    const p1 = page(sorted, { limit: 2 }, (r) => r.id);
    expect(p1).toEqual({ items: [rows[0], rows[2]], more: true });
    const p2 = page(sorted, { limit: 2, marker: 'c' }, (r) => r.id);
    expect(p2).toEqual({ items: [rows[1]], more: false });
    expect(() => page(sorted, { marker: 'zz' }, (r) => r.id)).toThrow(/marker/);
    expect(nextLink('http://h/v2/images?limit=2', 'c')).toBe('http://h/v2/images?limit=2&marker=c');
    expect(() => parseSort({ sort_key: 'secret' }, ['n'], { key: 'id', dir: 'asc' })).toThrow(/sort key/);
    expect(parseSort({ sort: 'n:desc,id' }, ['n', 'id'], { key: 'id', dir: 'asc' })).toEqual([{ key: 'n', dir: 'desc' }, { key: 'id', dir: 'asc' }]);
  });
});
