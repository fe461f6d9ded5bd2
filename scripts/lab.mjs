#!/usr/bin/env node
// `npm run lab`: the lab, a simulated
// Synod cluster (real Raft core and KV state machine on simulated disks and network) under a
// nemesis, shown live in the terminal. Extra arguments pass through: npm run lab -- --nodes 5 --speed 2
import { spawn } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const child = spawn(
  process.execPath,
  ['--import', 'tsx', 'packages/sim/src/live.ts', ...process.argv.slice(2)],
  {
    cwd: root,
    stdio: 'inherit',
  },
);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
