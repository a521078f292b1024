import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A key repository laid out as Keystone's fernet-keys: files named 0..N in a directory.
 * The highest number is the primary key (encrypts); 0 is the staged key (decrypts only,
 * becomes primary at the next rotation, so every process can read tokens from it first);
 * the rest are secondary keys kept to decrypt tokens issued before a rotation.
 */
export class KeyRepository {
  private keys: { index: number; key: Buffer }[] = [];
  private listing = '';
  private checkedAt = 0;

  constructor(private dir: string, private maxActive = 3) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (this.indexes().length === 0) {
      this.write(0, randomBytes(32));
      this.rotate();
    }
    this.load();
  }

  /** Staged key becomes primary, a new staged key appears, the oldest beyond maxActive go. */
  rotate(): void {
    const idx = this.indexes();
    const next = Math.max(0, ...idx) + 1;
    renameSync(join(this.dir, '0'), join(this.dir, String(next)));
    this.write(0, randomBytes(32));
    const secondary = this.indexes().filter((i) => i !== 0 && i !== next).sort((a, b) => a - b);
    while (secondary.length + 2 > this.maxActive && secondary.length > 0) {
      const drop = secondary.shift()!;
      rmSync(join(this.dir, String(drop)));
    }
    this.load();
  }

  /** AES-256-GCM with the primary key; output is iv | ciphertext | tag. */
  encrypt(plain: Buffer): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.primary(), iv);
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([iv, body, cipher.getAuthTag()]);
  }

  /**
   * Another process (`stratus rotate-keys`) may rotate the files under us: look at the
   * directory at most every few seconds and reload when it changed.
   */
  refresh(): void {
    const t = Date.now();
    if (t - this.checkedAt < 5000) return;
    this.checkedAt = t;
    const listing = this.indexes().sort().join(',');
    if (listing !== this.listing) this.load();
  }

  /** Tries every active key, newest first; null when none authenticates the data. */
  decrypt(data: Buffer): Buffer | null {
    this.refresh();
    if (data.length < 12 + 16) return null;
    const iv = data.subarray(0, 12);
    const tag = data.subarray(data.length - 16);
    const body = data.subarray(12, data.length - 16);
    for (const { key } of this.keys) {
      try {
        const d = createDecipheriv('aes-256-gcm', key, iv);
        d.setAuthTag(tag);
        return Buffer.concat([d.update(body), d.final()]);
      } catch { /* not this key */ }
    }
    return null;
  }

  private primary(): Buffer { this.refresh(); return this.keys[0]!.key; }

  private load(): void {
    this.listing = this.indexes().sort().join(',');
    this.keys = this.indexes().sort((a, b) => {
      // primary (highest) first, then staged (0), then older secondaries
      if (a === 0) return b === 0 ? 0 : 1;
      if (b === 0) return -1;
      return b - a;
    }).map((index) => ({ index, key: Buffer.from(readFileSync(join(this.dir, String(index)), 'utf8').trim(), 'base64') }));
    // order: primary, secondaries newest→oldest, staged last
    const staged = this.keys.findIndex((k) => k.index === 0);
    if (staged >= 0) this.keys.push(...this.keys.splice(staged, 1));
  }

  private indexes(): number[] {
    return readdirSync(this.dir).filter((f) => /^\d+$/.test(f)).map(Number);
  }

  private write(index: number, key: Buffer): void {
    const tmp = join(this.dir, `.tmp-${index}`);
    writeFileSync(tmp, key.toString('base64'), { mode: 0o600 });
    renameSync(tmp, join(this.dir, String(index)));
  }
}
