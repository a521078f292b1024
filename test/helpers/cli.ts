import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * Running the Debian clients (`openstack`, `glance`, ...) against a test cloud: the cloud's
 * own clouds.yaml, and none of the caller's OS_* variables leaking in.
 */
const run = promisify(execFile);

export interface CliResult { code: number; stdout: string; stderr: string }

export function clients(dataDir: string, defaultCloud = 'stratus-demo') {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OS_')));
  const env: NodeJS.ProcessEnv = { ...clean, OS_CLIENT_CONFIG_FILE: join(dataDir, 'clouds.yaml') };
  const sh = async (cmd: string, args: string[], extra: NodeJS.ProcessEnv = {}): Promise<CliResult> => {
    const r = await run(cmd, args, { env: { ...env, ...extra }, timeout: 120_000, maxBuffer: 1 << 24 }).catch((e) => e);
    return { code: r.code ?? 0, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
  };
  /** `openstack` on a cloud of the clouds.yaml; with cloud '' the extra OS_* variables alone say how to authenticate. */
  const os = (args: string[], cloud = defaultCloud, extra: NodeJS.ProcessEnv = {}) =>
    sh('openstack', [...(cloud ? ['--os-cloud', cloud] : []), ...args], extra);
  /** `openstack ... -f json`, parsed; a failing command throws with its stderr. */
  const json = async (args: string[], cloud = defaultCloud, extra: NodeJS.ProcessEnv = {}) => {
    const r = await os([...args, '-f', 'json'], cloud, extra);
    if (r.code !== 0) throw new Error(`openstack ${args.join(' ')} failed: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };
  /** A command that must succeed; its output. */
  const must = async (args: string[], cloud = defaultCloud) => {
    const r = await os(args, cloud);
    if (r.code !== 0) throw new Error(`openstack ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  };
  return { env, sh, os, json, must };
}
