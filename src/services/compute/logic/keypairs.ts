import { execFile } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPair, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * Key pairs as Nova makes and checks them. An SSH key's fingerprint is the MD5 of its
 * key blob in colon-separated lowercase hex (what `ssh-keygen -l -E md5` prints); an
 * x509 certificate's is the SHA-1 of its DER form. Generated private keys are handed back
 * once and never kept.
 */
export class InvalidKeypair extends Error {}

const colonHex = (buf: Buffer): string => buf.toString('hex').replace(/(..)(?!$)/g, '$1:');

/** Reads the length-prefixed fields of an SSH public key blob (RFC 4253 §6.6). */
function sshFields(blob: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at < blob.length) {
    if (at + 4 > blob.length) throw new InvalidKeypair('truncated key');
    const n = blob.readUInt32BE(at);
    at += 4;
    if (at + n > blob.length) throw new InvalidKeypair('truncated key');
    out.push(blob.subarray(at, at + n));
    at += n;
  }
  return out;
}

/** An SSH mpint as unsigned big-endian bytes (base64url for a JWK). */
const mpint = (b: Buffer): string => {
  if (b.length === 0 || (b[0]! & 0x80) !== 0) throw new InvalidKeypair('negative integer');
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i).toString('base64url');
};

const CURVES: Record<string, { nist: string; jwk: string; size: number }> = {
  'ecdsa-sha2-nistp256': { nist: 'nistp256', jwk: 'P-256', size: 32 },
  'ecdsa-sha2-nistp384': { nist: 'nistp384', jwk: 'P-384', size: 48 },
  'ecdsa-sha2-nistp521': { nist: 'nistp521', jwk: 'P-521', size: 66 },
};

/** Checks an OpenSSH public key line as the cryptography library loads it: the blob must be a whole, valid key of the named type. */
export function checkSshPublicKey(publicKey: string): Buffer {
  const parts = publicKey.split(' ');
  const type = parts[0] ?? '';
  const b64 = parts[1] ?? '';
  if (!b64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) throw new InvalidKeypair('bad base64');
  const blob = Buffer.from(b64, 'base64');
  const f = sshFields(blob);
  if (f[0]?.toString('latin1') !== type) throw new InvalidKeypair('key type mismatch');
  try {
    if (type === 'ssh-rsa') {
      if (f.length !== 3) throw new InvalidKeypair('bad rsa key');
      const k = createPublicKey({ key: { kty: 'RSA', e: mpint(f[1]!), n: mpint(f[2]!) }, format: 'jwk' });
      const bits = k.asymmetricKeyDetails?.modulusLength ?? 0;
      if (bits < 512 || bits > 16384) throw new InvalidKeypair('bad rsa key size');
    } else if (type === 'ssh-ed25519') {
      if (f.length !== 2 || f[1]!.length !== 32) throw new InvalidKeypair('bad ed25519 key');
      createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: f[1]!.toString('base64url') }, format: 'jwk' });
    } else if (CURVES[type]) {
      const c = CURVES[type]!;
      if (f.length !== 3 || f[1]!.toString('latin1') !== c.nist) throw new InvalidKeypair('bad ecdsa key');
      const q = f[2]!;
      if (q.length !== 1 + 2 * c.size || q[0] !== 4) throw new InvalidKeypair('bad ecdsa point');
      createPublicKey({ key: { kty: 'EC', crv: c.jwk, x: q.subarray(1, 1 + c.size).toString('base64url'), y: q.subarray(1 + c.size).toString('base64url') }, format: 'jwk' });
    } else if (type === 'ssh-dss') {
      if (f.length !== 5) throw new InvalidKeypair('bad dss key');
      for (const x of f.slice(1)) mpint(x);
    } else {
      throw new InvalidKeypair('unsupported key type');
    }
  } catch (err) {
    if (err instanceof InvalidKeypair) throw err;
    throw new InvalidKeypair('bad key');
  }
  return blob;
}

/** Nova's SSH fingerprint, or InvalidKeypair('failed to generate fingerprint'). */
export function sshFingerprint(publicKey: string): string {
  let blob: Buffer;
  try { blob = checkSshPublicKey(publicKey); } catch { throw new InvalidKeypair('failed to generate fingerprint'); }
  return colonHex(createHash('md5').update(blob).digest());
}

/** Nova's x509 fingerprint: SHA-1 of the certificate's DER form. */
export function x509Fingerprint(pem: string): string {
  try {
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error('Unable to load PEM file. No certificate found.');
    const cert = new X509Certificate(pem);
    return colonHex(createHash('sha1').update(cert.raw).digest());
  } catch (err) {
    throw new InvalidKeypair(`failed to generate X509 fingerprint. Error message: ${(err as Error).message}`);
  }
}

export function fingerprintOf(publicKey: string, type: 'ssh' | 'x509'): string {
  return type === 'x509' ? x509Fingerprint(publicKey) : sshFingerprint(publicKey);
}

const sshString = (b: Buffer): Buffer => { const len = Buffer.alloc(4); len.writeUInt32BE(b.length); return Buffer.concat([len, b]); };
const sshMpint = (b64url: string): Buffer => {
  let b = Buffer.from(b64url, 'base64url');
  if (b.length && (b[0]! & 0x80)) b = Buffer.concat([Buffer.from([0]), b]);
  return sshString(b);
};

export interface GeneratedKey { publicKey: string; privateKey: string; fingerprint: string }

/** A new RSA 2048 SSH key, as Nova's generate_key_pair: PKCS#1 PEM private key, `ssh-rsa ... Generated-by-Nova`. */
export async function generateSshKey(): Promise<GeneratedKey> {
  const { publicKey, privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
  const jwk = publicKey.export({ format: 'jwk' });
  const blob = Buffer.concat([sshString(Buffer.from('ssh-rsa')), sshMpint(jwk.e!), sshMpint(jwk.n!)]);
  const line = `ssh-rsa ${blob.toString('base64')} Generated-by-Nova`;
  return {
    publicKey: line,
    privateKey: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    fingerprint: colonHex(createHash('md5').update(blob).digest()),
  };
}

const run = promisify(execFile);

/**
 * A self-signed client certificate for WinRM, as Nova's generate_winrm_x509_cert: the
 * certificate is the public key; the private key comes back as a base64 PKCS#12 bundle
 * with an empty password.
 */
export async function generateX509(userId: string): Promise<GeneratedKey> {
  const dir = await mkdtemp(join(tmpdir(), 'stratus-x509-'));
  try {
    const conf = join(dir, 'temp.conf');
    const key = join(dir, 'temp.key');
    const crt = join(dir, 'temp.crt');
    const p12 = join(dir, 'temp.p12');
    await writeFile(conf, 'distinguished_name  = req_distinguished_name\n[req_distinguished_name]\n[v3_req_client]\n'
      + `extendedKeyUsage = clientAuth\nsubjectAltName = otherName:1.3.6.1.4.1.311.20.2.3;UTF8:${userId}@localhost\n`);
    await run('openssl', ['req', '-x509', '-nodes', '-days', '3650', '-config', conf, '-newkey', 'rsa:2048', '-outform', 'PEM',
      '-keyout', key, '-out', crt, '-subj', `/CN=${userId}`, '-extensions', 'v3_req_client'], { timeout: 60_000 });
    await run('openssl', ['pkcs12', '-export', '-inkey', key, '-in', crt, '-out', p12, '-password', 'pass:'], { timeout: 60_000 });
    const certificate = await readFile(crt, 'utf8');
    return { publicKey: certificate, privateKey: (await readFile(p12)).toString('base64'), fingerprint: x509Fingerprint(certificate) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
