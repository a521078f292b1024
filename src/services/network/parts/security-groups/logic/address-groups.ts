import { neutronError } from '../../../api/common.js';
import { parsePrefix } from './rules.js';

/**
 * Address group members as Neutron takes them: each a CIDR with its prefix length written
 * out (an IPv4 one exactly as it would be printed), kept as the network it names.
 */
export function normaliseAddresses(v: unknown): string[] {
  if (!Array.isArray(v)) throw neutronError(400, 'HTTPBadRequest', `Invalid input for addresses. Reason: '${JSON.stringify(v)}' is not a list.`);
  const out = new Set<string>();
  for (const a of v) {
    const p = typeof a === 'string' && a.trim() === a ? parsePrefix(a) : null;
    if (!p) throw neutronError(400, 'HTTPBadRequest', `Invalid input for addresses. Reason: '${String(a)}' is not a valid IP subnet.`);
    if (!a.includes('/') || (p.version === 4 && p.text !== a)) {
      throw neutronError(400, 'HTTPBadRequest', `Invalid input for addresses. Reason: '${a}' isn't a recognized IP subnet cidr, '${p.network}' is recommended.`);
    }
    out.add(p.network);
  }
  return [...out];
}
