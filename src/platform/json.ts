/** JSON columns: parse leniently so one bad row cannot break a list. */
export function json<T = Record<string, unknown>>(text: string | null | undefined, fallback: T): T {
  if (!text) return fallback;
  try { return JSON.parse(text) as T; } catch { return fallback; }
}
