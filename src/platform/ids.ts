import { randomBytes, randomUUID } from 'node:crypto';

/** Keystone-style id: 32 lowercase hex characters (a UUID without dashes). */
export const hexId = (): string => randomUUID().replaceAll('-', '');
/** Nova/Neutron-style id: a dashed UUID. */
export const uuid = (): string => randomUUID();
/** Request ids as every OpenStack service writes them. */
export const requestId = (): string => `req-${randomUUID()}`;
/** URL-safe random string, e.g. for audit ids and generated secrets. */
export const randomToken = (bytes: number): string => randomBytes(bytes).toString('base64url');
