#!/usr/bin/env node
import { Command } from 'commander';
import { join } from 'node:path';
import { startCloud } from './cloud.js';
import { DEFAULT_PORT, defaultConfig } from './platform/config.js';

/** The `stratus` command. `start` is what `npm start` runs. */
const program = new Command('stratus').description('An OpenStack-compatible cloud in one process');

program.command('start')
  .description('start every service and agent in this process')
  .option('--data-dir <dir>', 'data directory (database, keys, blobs)', process.env.STRATUS_DATA_DIR ?? './data')
  .option('--port <port>', 'listen port (0 picks a free one)', process.env.STRATUS_PORT ?? String(DEFAULT_PORT))
  .option('--host <addr>', 'listen address', process.env.STRATUS_HOST ?? '127.0.0.1')
  .option('--database <url>', "'sqlite' (in the data directory) or postgres://user@host/db", process.env.STRATUS_DATABASE ?? 'sqlite')
  .option('--public-url <url>', 'base URL clients use, if not http://host:port')
  .option('--log-level <level>', 'pino log level', process.env.STRATUS_LOG_LEVEL ?? 'warn')
  .action(async (opts) => {
    const base = defaultConfig({ dataDir: opts.dataDir });
    let cloud: Awaited<ReturnType<typeof startCloud>>;
    try {
      cloud = await startCloud({
        dataDir: base.dataDir, port: Number(opts.port), host: opts.host, database: opts.database,
        publicUrl: opts.publicUrl ?? null, logLevel: opts.logLevel,
      });
    } catch (err) {
      process.stderr.write(`stratus: ${(err as Error).message}\n`);
      process.exit(1);
    }
    const dir = cloud.config.dataDir;
    process.stdout.write([
      `Stratus ready at ${cloud.authUrl} (region ${cloud.config.region}, data in ${dir})`,
      `  export OS_CLIENT_CONFIG_FILE=${join(dir, 'clouds.yaml')}`,
      '  export OS_CLOUD=stratus-admin',
      '',
    ].join('\n'));
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      process.stdout.write(`stratus: ${signal}, draining requests and stopping\n`);
      await cloud.close();
      process.exit(0);
    };
    process.on('SIGTERM', () => void stop('SIGTERM'));
    process.on('SIGINT', () => void stop('SIGINT'));
  });

program.command('rotate-keys')
  .description('rotate the token keys (as keystone-manage fernet_rotate); a running cloud picks them up within seconds')
  .option('--data-dir <dir>', 'data directory', process.env.STRATUS_DATA_DIR ?? './data')
  .option('--max-active <n>', 'keys kept: primary, staged and secondaries', '3')
  .action(async (opts) => {
    const { KeyRepository } = await import('./services/identity/logic/keys.js');
    new KeyRepository(join(opts.dataDir, 'fernet-keys'), Number(opts.maxActive)).rotate();
    process.stdout.write(`stratus: token keys rotated in ${join(opts.dataDir, 'fernet-keys')}\n`);
  });

program.command('openrc')
  .description('print the export lines for a user of a started cloud')
  .option('--data-dir <dir>', 'data directory', './data')
  .argument('[user]', 'admin or demo', 'admin')
  .action(async (user: string, opts) => {
    const { readFileSync } = await import('node:fs');
    process.stdout.write(readFileSync(join(opts.dataDir, `${user}-openrc.sh`), 'utf8'));
  });

await program.parseAsync(process.argv);
