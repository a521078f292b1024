/**
 * The one place time is read, so tests can move it (token expiry, lockout, TOTP windows).
 */
let offsetMs = 0;
export const now = (): number => Date.now() + offsetMs;
export const nowDate = (): Date => new Date(now());
export const advanceClock = (ms: number): void => { offsetMs += ms; };
export const resetClock = (): void => { offsetMs = 0; };

/** OpenStack's usual timestamp: ISO 8601 with microseconds and a Z. */
export function isoMicro(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
/** Timestamp without fraction, as Keystone writes created_at on some resources. */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
