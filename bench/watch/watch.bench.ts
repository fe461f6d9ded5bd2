// `npm run bench -- watch`: Synod against etcd 3.4 in the same run, the same loads, 3-member
// clusters of real processes on 127.0.0.1, one system running at a time:
//   fanout  1,000 watchers on one prefix (10 HTTP/2 connections round-robin over the members, raw
//           gRPC Watch streams), one writer putting to the leader at 200/s then 1,000/s for 10 s:
//           put-to-delivery p50/p99 (send time stamped in the value, one monotonic clock), delivered
//           events/s, members' CPU; every watcher must get every event exactly once, in order
//   leases  10,000 leases (TTL 30 s) renewed every TTL/3 over a few LeaseKeepAlive streams for
//           30 s: CPU (user + sys from /proc, % of one core) and RSS of the leader and followers,
//           against the idle cluster's
// Every figure comes with the direction that is better and a ratio, > 1 meaning "Synod better".
// Results (JSON) go to bench/watch/results/. See options.ts for flags.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  EXIT_USAGE,
  loadAverageNow,
  machineBasics,
  progress,
  readBenchOptions,
  report,
  secondsSinceStart,
} from '../bench-console.js';
import { installCleanup, makeTempDir, removeTempDir } from '../kv/cleanup.js';
import type { WatchBenchContext } from './context.js';
import { runFanoutPart } from './fanout-part.js';
import { formatSummary, ratioOf, writeResults } from './figures.js';
import { runLeasePart } from './lease-part.js';
import { type BenchOptions, OptionsError, parseOptions, USAGE } from './options.js';
import { VALUE_BYTES } from './stamped-value.js';

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
const NOISE_CAVEAT =
  'caveat: this machine is shared with other work; absolute figures move with its load (see the load ' +
  'averages), ratios from one run are indicative, not precise.';

function readOptions(): BenchOptions {
  return readBenchOptions('watch', USAGE, parseOptions, OptionsError);
}

/** "etcd 3.4.23", or undefined when etcd does not run. */
function etcdVersion(): string | undefined {
  try {
    const output = execFileSync('etcd', ['--version'], { encoding: 'utf8' });
    return `etcd ${/\d+\.\d+\.\d+/.exec(output)?.[0] ?? 'unknown version'}`;
  } catch {
    return undefined;
  }
}

/** What is missing, each with how to get it. */
function missingPrerequisites(options: BenchOptions): string[] {
  const missing: string[] = [];
  if (options.systems.includes('etcd') && etcdVersion() === undefined)
    missing.push('etcd 3.4 (the reference server) on PATH: apt-get install -y etcd-server');
  if (!existsSync(`/proc/${process.pid}/stat`))
    missing.push('Linux /proc (CPU and RSS are read from /proc/<pid>/stat)');
  return missing;
}

function machineInfo() {
  return {
    ...machineBasics(),
    etcd: etcdVersion() ?? 'not installed',
  };
}

function printHeader(context: WatchBenchContext, machine: ReturnType<typeof machineInfo>): void {
  const { options } = context;
  const { fanout, leases } = options.plan;
  report(
    `watch bench: synod vs ${machine.etcd}, 3 members each on 127.0.0.1 · ${machine.cpus} × ${machine.cpuModel} · ` +
      `node ${machine.node} · load average ${machine.loadAverage.join(' ')}`,
  );
  report(
    `plan: ${options.quick ? 'quick' : 'full'}; parts ${options.parts.join(', ')}; systems ${options.systems.join(', ')}`,
  );
  report(
    `fan-out: ${fanout.watchers} watchers on one prefix over ${fanout.connections} connections (round-robin over the ` +
      `members, ${fanout.watchers / fanout.connections} watches on one stream each, ${fanout.clientThreads} client threads); ` +
      `one writer to the leader at ${fanout.putsPerSecond.join(', then ')} puts/s for ${fanout.writeSeconds} s each, ` +
      `${VALUE_BYTES}-byte values`,
  );
  report(
    `leases: ${leases.leases.toLocaleString('en-US')} leases, TTL ${leases.ttlSeconds} s, one keep-alive each every ` +
      `${leases.ttlSeconds / 3} s over ${leases.keepAliveStreams} streams (round-robin over the members) for ` +
      `${leases.measureSeconds} s; idle baseline ${leases.idleSeconds} s`,
  );
  report(
    'ratios: > 1 always means synod did better (synod ÷ etcd where higher is better, etcd ÷ synod where lower is)',
  );
  report(NOISE_CAVEAT);
}

async function main(): Promise<void> {
  const options = readOptions();
  installCleanup();
  const missing = missingPrerequisites(options);
  if (missing.length > 0) {
    process.stderr.write(`bench watch: missing prerequisites:\n  ${missing.join('\n  ')}\n`);
    process.exit(EXIT_USAGE);
  }
  const rootDir = makeTempDir('synod-bench-watch-');
  const context: WatchBenchContext = {
    options,
    rootDir,
    figures: [],
    runs: {},
    failures: [],
    progress,
    report,
  };
  const machine = machineInfo();
  printHeader(context, machine);
  try {
    if (options.parts.includes('fanout')) await runFanoutPart(context);
    if (options.parts.includes('leases')) await runLeasePart(context);
  } finally {
    removeTempDir(rootDir);
  }
  finish(context, machine);
}

function finish(context: WatchBenchContext, machine: ReturnType<typeof machineInfo>): void {
  const failed = context.failures.length > 0 || context.figures.some((figure) => figure.failure);
  const loadAverageAtEnd = loadAverageNow();
  report('');
  report(
    'Summary (ratio > 1 = synod better; synod ÷ etcd where higher is better, etcd ÷ synod where lower is)',
  );
  for (const line of formatSummary(context.figures)) report(line);
  for (const failure of context.failures) report(`FAILED: ${failure}`);
  report(
    `load average at start ${machine.loadAverage.join(' ')}, at end ${loadAverageAtEnd.join(' ')}; ${NOISE_CAVEAT}`,
  );
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = writeResults(RESULTS_DIR, stamp, {
    bench: 'watch',
    date: new Date().toISOString(),
    options: context.options,
    machine: { ...machine, loadAverageAtEnd },
    caveat: NOISE_CAVEAT,
    figures: context.figures.map((figure) => ({ ...figure, ratio: ratioOf(figure) })),
    runs: context.runs,
    failures: context.failures,
  });
  report(`results: ${file}`);
  progress(`done in ${secondsSinceStart().toFixed(0)} s${failed ? ' with failures' : ''}`);
  process.exitCode = failed ? 1 : 0;
}

await main();
