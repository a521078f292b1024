/**
 * Runs every benchmark file in bench/ (each in its own process, one after another) and
 * passes the arguments on, e.g. `npm run bench -- --write` rewrites docs/benchmarks.md.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const args = process.argv.slice(2);
const only = args.filter((a) => !a.startsWith('--'));
const files = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .filter((f) => only.length === 0 || only.includes(f.replace(/\.ts$/, '')))
  .sort();

if (files.length === 0) {
  process.stderr.write(`no bench files matched ${only.join(', ')}\n`);
  process.exit(1);
}

const failed: string[] = [];
for (const f of files) {
  process.stdout.write(`\n=== bench/${f} ===\n`);
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join('bench', f), ...args.filter((a) => a.startsWith('--'))], { cwd: root, stdio: 'inherit' });
    child.on('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0)));
  });
  if (code !== 0) failed.push(f);
}
if (failed.length) {
  process.stderr.write(`\nbench failed: ${failed.join(', ')}\n`);
  process.exit(1);
}
