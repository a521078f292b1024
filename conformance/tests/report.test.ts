import { describe, expect, it } from 'vitest';
import { mergeReport, renderSection, type SectionData } from '../report.js';
import type { TestResult } from '../results.js';

const result = (id: string, outcome: TestResult['outcome'], detail: string | null = null, service = 'identity'): TestResult => ({
  id,
  service,
  outcome,
  detail,
  traceback: null,
});

const section = (key: string, results: TestResult[]): SectionData => ({
  key,
  date: new Date('2026-01-02T03:04:05Z'),
  commit: 'abc123',
  tempestVersion: '33.0.0',
  includeFiles: [`conformance/lists/${key}.txt`],
  excludeFiles: [],
  results,
  exclusions: [{ pattern: '^x\\.trusts|y', reason: 'not implemented', origin: 'identity-exclude.txt:3', count: 6 }],
});

describe('conformance report', () => {
  const identity = renderSection(
    section('identity', [
      result('tempest.api.identity.v3.A.test_a[id-1]', 'passed'),
      result('tempest.api.identity.v3.A.test_b[id-2]', 'failed', 'tempest.lib.exceptions.NotFound: Object not found\nDetails: 1'),
      result('tempest.api.identity.v3.A.test_c[id-3]', 'failed', 'tempest.lib.exceptions.NotFound: Object not found\nDetails: 2'),
      result('tempest.api.identity.v3.A.test_d[id-4]', 'skipped', 'Security compliance not available.'),
    ]),
  );

  it('shows counts, exclusions with reasons, grouped failures and skip reasons', () => {
    expect(identity).toContain('| identity | 1 | 2 | 1 | 4 |');
    expect(identity).toContain('| `^x\\.trusts\\|y` | 6 | not implemented |');
    expect(identity).toContain('#### 2 × `tempest.lib.exceptions.NotFound: Object not found Details: N`');
    expect(identity).toContain('- `tempest.api.identity.v3.A.test_b`');
    expect(identity).toContain('| `tempest.api.identity.v3.A.test_d` | Security compliance not available. |');
  });

  it('replaces only the sections that ran and rebuilds the summary', () => {
    const compute = renderSection(section('compute', [result('tempest.api.compute.X.test_x[id-9]', 'passed', null, 'compute')]));
    const first = mergeReport(null, [identity, compute]);
    const newer = renderSection(section('identity', [result('tempest.api.identity.v3.A.test_a[id-1]', 'passed')]));
    const second = mergeReport(first, [newer]);
    expect(second).toContain(compute);
    expect(second).toContain(newer);
    expect(second).not.toContain('test_b');
    expect(second).toMatch(/\| \[compute\]\(#compute\) \| 1 \| 0 \| 0 \| 1 \| 100\.0 % \|/);
    expect(second).toMatch(/\| \[identity\]\(#identity\) \| 1 \| 0 \| 0 \| 1 \|/);
    expect(mergeReport(second, [])).toBe(second);
  });
});
