import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Checks responses against Tempest 33's own response schemas (additionalProperties false
 * everywhere) of `compute` or `volume`: the errors found.
 */
export function tempestErrors(checks: Array<[module: string, schema: string, status: number, body: unknown]>, service: 'compute' | 'volume' = 'compute'): string[] {
  if (!existsSync('/usr/lib/python3/dist-packages/tempest')) return [];
  const script = [
    'import importlib, json, sys',
    'from tempest.lib.common.rest_client import RestClient',
    'class R:',
    '    def __init__(self, status): self.status = status',
    'errors = []',
    'for mod, name, status, body in json.load(sys.stdin):',
    '    try:',
    `        RestClient.validate_response(getattr(importlib.import_module("tempest.lib.api_schema.response.${service}." + mod), name), R(status), body)`,
    '    except Exception as e:',
    '        errors.append("%s.%s: %s" % (mod, name, e))',
    'print(json.dumps(errors))',
  ].join('\n');
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', script], { input: JSON.stringify(checks) }).toString());
}
