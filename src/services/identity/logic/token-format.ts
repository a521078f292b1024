import type { KeyRepository } from './keys.js';

/**
 * Tokens carry everything needed to validate them, encrypted and authenticated, so there
 * is no token table (Keystone's Fernet design). Receipts (the half-finished MFA login)
 * use the same sealing with another kind tag, so one can never pass for the other.
 */
export type Scope =
  | { kind: 'project'; id: string }
  | { kind: 'domain'; id: string }
  | { kind: 'system' }
  | { kind: 'unscoped' };

export interface TokenPayload {
  userId: string;
  methods: string[];
  scope: Scope;
  issuedAt: number;   // ms
  expiresAt: number;  // ms
  auditIds: string[]; // [own, chain parent...]
  appCredId: string | null;
  /** The EC2 credential a token was minted from, so deleting it revokes exactly those tokens. */
  credentialId?: string | null;
}

export interface ReceiptPayload { userId: string; methods: string[]; issuedAt: number; expiresAt: number }

const TOKEN = 1;
const RECEIPT = 2;

export function sealToken(keys: KeyRepository, p: TokenPayload): string {
  const scope = p.scope.kind === 'project' || p.scope.kind === 'domain' ? [p.scope.kind[0], p.scope.id] : [p.scope.kind[0]];
  const body = [TOKEN, p.userId, p.methods, scope, p.issuedAt, p.expiresAt, p.auditIds, p.appCredId, p.credentialId ?? null];
  return keys.encrypt(Buffer.from(JSON.stringify(body))).toString('base64url');
}

export function openToken(keys: KeyRepository, token: string): TokenPayload | null {
  const a = open(keys, token, TOKEN);
  if (!a) return null;
  const [, userId, methods, scope, issuedAt, expiresAt, auditIds, appCredId, credentialId] = a as [number, string, string[], string[], number, number, string[], string | null, string | null];
  const kind = ({ p: 'project', d: 'domain', s: 'system', u: 'unscoped' } as const)[scope[0] as 'p' | 'd' | 's' | 'u'];
  const s: Scope = kind === 'project' || kind === 'domain' ? { kind, id: scope[1]! } : { kind };
  return { userId, methods, scope: s, issuedAt, expiresAt, auditIds, appCredId, credentialId: credentialId ?? null };
}

export function sealReceipt(keys: KeyRepository, p: ReceiptPayload): string {
  return keys.encrypt(Buffer.from(JSON.stringify([RECEIPT, p.userId, p.methods, p.issuedAt, p.expiresAt]))).toString('base64url');
}

export function openReceipt(keys: KeyRepository, receipt: string): ReceiptPayload | null {
  const a = open(keys, receipt, RECEIPT);
  if (!a) return null;
  const [, userId, methods, issuedAt, expiresAt] = a as [number, string, string[], number, number];
  return { userId, methods, issuedAt, expiresAt };
}

function open(keys: KeyRepository, text: string, kind: number): unknown[] | null {
  if (text.length > 4096 || !/^[A-Za-z0-9_-]+$/.test(text)) return null;
  const plain = keys.decrypt(Buffer.from(text, 'base64url'));
  if (!plain) return null;
  try {
    const a = JSON.parse(plain.toString('utf8'));
    return Array.isArray(a) && a[0] === kind ? a : null;
  } catch { return null; }
}
