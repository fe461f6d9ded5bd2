// `npm run bench -- kv`: Synod against etcd 3.4, side by side in the same run with the same loads,
// on 1- and 3-member clusters of real processes on 127.0.0.1:
//   put       peak put throughput (h2load, 16×8 and 64×8 streams, 256-byte values, every put
//             verified by the key's version), to the leader; on 3 nodes also to a follower
//   latency   p50/p99 and ops/s of puts, linearizable and serializable gets through the etcd3
//             npm client, 16 and 128 concurrent closed-loop clients
//   failover  SIGKILL the leader: time to the first acknowledged write on the new leader (3 nodes)
//   profile   a CPU profile of Synod's leader under the 16×8 put load, summarised
// Every figure comes with its ratio, > 1 meaning "Synod better" (Synod ÷ etcd for rates, etcd ÷
// Synod for times). Results (JSON, .cpuprofile) go to bench/kv/results/. See options.ts for flags.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SERVER_FLAGS } from '../../packages/server/src/config/server-config.js';
import {
  EXIT_USAGE,
  loadAverageNow,
  machineBasics,
  progress,
  readBenchOptions,
  report,
  secondsSinceStart,
} from '../bench-console.js';
import { installCleanup, makeTempDir, removeTempDir } from './cleanup.js';
import type { BenchContext } from './context.js';
import { WRITE_DEADLINE_MS, WRITE_INTERVAL_MS } from './failover.js';
import { VALUE_BYTES, writePutBody } from './h2load-put.js';
import { ETCD_ELECTION_TIMEOUT_MS, MemberCluster, type System } from './member-cluster.js';
import {
  type BenchOptions,
  FULL_PLAN,
  OptionsError,
  type Part,
  parseOptions,
  QUICK_PLAN,
  USAGE,
} from './options.js';
import { runFailoverPart, runLatencyPart, runProfilePart, runPutPart } from './parts.js';
import { formatSummary, ratioOf, writeResults } from './report.js';

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));

function readOptions(): BenchOptions {
  return readBenchOptions('kv', USAGE, parseOptions, OptionsError);
}

/** Returns what is missing and how to install it. */
function missingPrerequisites(): string[] {
  const missing: string[] = [];
  const runs = (command: string) => {
    try {
      execFileSync(command, ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  if (!runs('etcd')) missing.push('etcd (the reference server): apt-get install -y etcd-server');
  if (!runs('h2load')) missing.push('h2load (the put load): apt-get install -y nghttp2-client');
  return missing;
}

/** "etcd 3.4.23" from "etcd Version: 3.4.23", "h2load 1.52.0" from "h2load nghttp2/1.52.0". */
function versionOf(command: string): string {
  try {
    const output = execFileSync(command, ['--version'], { encoding: 'utf8' });
    return `${command} ${/\d+\.\d+\.\d+/.exec(output)?.[0] ?? 'unknown version'}`;
  } catch {
    return `${command} unknown version`;
  }
}

function machineInfo() {
  return {
    ...machineBasics(),
    etcd: versionOf('etcd'),
    h2load: versionOf('h2load'),
  };
}

function configInfo(options: BenchOptions) {
  const synodDefault = Number(SERVER_FLAGS['election-timeout']!.defaultValue);
  const synodGiven = options.synodEnv.SYNOD_ELECTION_TIMEOUT;
  return {
    electionTimeoutMs: {
      synod: synodGiven === undefined ? synodDefault : Number(synodGiven),
      etcd: ETCD_ELECTION_TIMEOUT_MS,
    },
    synodElectionTimeoutIsDefault: synodGiven === undefined,
    valueBytes: VALUE_BYTES,
    failoverWriter: { intervalMs: WRITE_INTERVAL_MS, deadlineMs: WRITE_DEADLINE_MS },
    synodEnv: options.synodEnv,
  };
}

/**
 * Each part that compares the systems gets fresh clusters: what one part leaves behind (history of
 * hundreds of thousands of puts, snapshots, restarted members) must not weigh on the next.
 */
async function runParts(context: BenchContext): Promise<void> {
  const { options } = context;
  const mainSize = options.clusterSizes.includes(3) ? 3 : 1;
  if (options.parts.includes('put')) {
    for (const size of options.clusterSizes) {
      await withClusters(context, 'put', size, (clusters) => runPutPart(context, size, clusters));
    }
  }
  if (options.parts.includes('latency')) {
    await withClusters(context, 'latency', mainSize, (clusters) => runLatencyPart(context, clusters));
  }
  if (options.parts.includes('failover')) {
    if (mainSize === 3)
      await withClusters(context, 'failover', 3, (clusters) => runFailoverPart(context, clusters));
    else context.report('failover: skipped (it needs 3 nodes; --nodes 1 was given)');
  }
  if (options.parts.includes('profile')) {
    await guarded(context, 'profile', () => runProfilePart(context, mainSize));
  }
}

/** Starts a Synod and an etcd cluster of `size` members, runs `body`, stops both, drops their data. */
async function withClusters(
  context: BenchContext,
  part: Part,
  size: number,
  body: (clusters: Record<System, MemberCluster>) => Promise<void>,
): Promise<void> {
  const synod = await MemberCluster.create({
    system: 'synod',
    size,
    rootDir: context.rootDir,
    memberEnv: () => context.options.synodEnv,
  });
  const etcd = await MemberCluster.create({ system: 'etcd', size, rootDir: context.rootDir });
  try {
    context.progress(`starting synod and etcd, ${size} member${size > 1 ? 's' : ''} each`);
    await Promise.all([synod.startAll(), etcd.startAll()]);
    await body({ synod, etcd });
  } catch (error) {
    context.failures.push(`${part}, ${size} nodes: ${(error as Error).message}`);
    context.progress(`${part} FAILED: ${(error as Error).message}`);
  } finally {
    context.progress(`stopping the ${size}-member clusters`);
    await Promise.all([synod.stop(), etcd.stop()]);
    synod.removeData();
    etcd.removeData();
  }
}

/** Runs one part; its failure is reported and the bench goes on with the next. */
async function guarded(context: BenchContext, part: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    context.failures.push(`${part}: ${(error as Error).message}`);
    context.progress(`${part} FAILED: ${(error as Error).message}`);
  }
}

function printHeader(context: BenchContext, machine: ReturnType<typeof machineInfo>): void {
  const config = configInfo(context.options);
  context.report(
    `kv bench: synod vs ${machine.etcd} (load: ${machine.h2load}, etcd3 client) · ${machine.cpus} × ${machine.cpuModel} · node ${machine.node} · ` +
      `load average ${machine.loadAverage.join(' ')}`,
  );
  context.report(
    `plan: ${context.options.quick ? 'quick' : 'full'}; parts ${context.options.parts.join(', ')}; ` +
      `cluster sizes ${context.options.clusterSizes.join(', ')}; election timeout synod ` +
      `${config.electionTimeoutMs.synod} ms${config.synodElectionTimeoutIsDefault ? ' (default)' : ''}, ` +
      `etcd ${config.electionTimeoutMs.etcd} ms (default)` +
      (Object.keys(context.options.synodEnv).length > 0
        ? `; synod env ${JSON.stringify(context.options.synodEnv)}`
        : ''),
  );
  context.report('ratios: synod ÷ etcd for rates, etcd ÷ synod for times: > 1 always means synod is better');
  context.report(
    `put runs: h2load, every run verified by the key's version; history compacted after each run, outside the timing; ` +
      `each system warmed up for ${context.plan.putWarmupSeconds} s per load before ${context.plan.putRounds} measured round(s), median reported`,
  );
}

async function main(): Promise<void> {
  const options = readOptions();
  installCleanup();
  const missing = missingPrerequisites();
  if (missing.length > 0) {
    process.stderr.write(`bench kv: missing prerequisites:\n  ${missing.join('\n  ')}\n`);
    process.exit(EXIT_USAGE);
  }
  const rootDir = makeTempDir('synod-bench-kv-');
  const context: BenchContext = {
    options,
    plan: options.quick ? QUICK_PLAN : FULL_PLAN,
    electionTimeoutMs: configInfo(options).electionTimeoutMs,
    rootDir,
    resultsDir: RESULTS_DIR,
    stamp: new Date().toISOString().replace(/[:.]/g, '-'),
    putBody: writePutBody(rootDir),
    figures: [],
    runs: {},
    failures: [],
    progress,
    report,
  };
  const machine = machineInfo();
  printHeader(context, machine);
  try {
    await runParts(context);
  } finally {
    removeTempDir(rootDir);
  }
  finish(context, machine);
}

function finish(context: BenchContext, machine: ReturnType<typeof machineInfo>): void {
  const failed = context.failures.length > 0 || context.figures.some((figure) => figure.failure);
  report('');
  report('Summary (ratio > 1 = synod better; synod ÷ etcd for rates, etcd ÷ synod for times)');
  for (const line of formatSummary(context.figures)) report(line);
  for (const failure of context.failures) report(`FAILED: ${failure}`);
  const file = writeResults(context.resultsDir, context.stamp, {
    bench: 'kv',
    date: new Date().toISOString(),
    options: context.options,
    plan: context.plan,
    machine: { ...machine, loadAverageAtEnd: loadAverageNow() },
    config: configInfo(context.options),
    figures: context.figures.map((figure) => ({ ...figure, ratio: ratioOf(figure) })),
    runs: context.runs,
    failures: context.failures,
  });
  report(`results: ${file}`);
  progress(`done in ${secondsSinceStart().toFixed(0)} s${failed ? ' with failures' : ''}`);
  process.exitCode = failed ? 1 : 0;
}

await main();
