// `synod start …` runs one member; `synod dev` runs a local cluster; `synod --help` lists flags.
import { fileURLToPath } from 'node:url';
import { ConfigError, formatFlagHelp, loadServerConfig } from './config/server-config.js';
import { runDev } from './dev.js';

const USAGE = `Usage:
  synod start [flags]     run one cluster member (flags below, also SYNOD_<FLAG> variables or --config-file)
  synod dev [--nodes 3] [--base-port 2379] [--data-dir .synod] [--control-port <base+8>]
                          run a local cluster: client ports 2379, 22379, 32379; peers 2380, 22380, 32380;
                          dashboard and /metrics on 2381, 22381, 32381; fault controls on 2387
  synod snapshot status|restore FILE …
                          inspect a saved snapshot, or restore it into a new cluster (synod snapshot --help)
  synod --help

Flags of 'synod start':
${formatFlagHelp()}`;

async function main(argv: readonly string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return;
  }
  if (command === 'dev') {
    await runDev(rest, fileURLToPath(new URL('../bin/synod.mjs', import.meta.url)));
    return;
  }
  if (command === 'start') {
    const config = loadServerConfig(rest, process.env);
    const { runServer } = await import('./node/run-server.js');
    await runServer(config);
    return;
  }
  if (command === 'snapshot') {
    const { runSnapshotCommand } = await import('./node/snapshot-command.js');
    await runSnapshotCommand(rest, process.env);
    return;
  }
  throw new ConfigError(`unknown command "${command}"; run 'synod --help'`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(`synod: ${error.message}`);
    process.exit(2);
  }
  // Operating errors with a stable code (e.g. WAL_CORRUPT) carry a message that says what to do:
  // print it alone; a stack trace is only for bugs.
  const code = (error as { code?: unknown } | undefined)?.code;
  if (error instanceof Error && typeof code === 'string' && /^[A-Z_]+$/.test(code)) {
    console.error(`synod: ${error.message}`);
    process.exit(1);
  }
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
