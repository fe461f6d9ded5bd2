// `npm run sim -- --seeds 1000 --nodes 5 --nemesis all`: many seeded runs in parallel workers,
// progress on stderr, one JSON summary line on stdout.
// `npm run sim -- --seed N [--trace] [--out FILE]`: replays one run; `--trace` prints a readable
// trace, `--out` writes the run's SimTrace JSON (the replay view's format, see trace/README.md).
// `--scenario lock` runs the lock scenario instead (lock/README.md): same seeds/seed/trace flags.
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import type { Mutation } from '@synod/raft';
import { replayFlags, type SimOptionsInput } from './cli-flags.js';
import type { SimulationOptions, TraceEvent } from './cluster/run.js';
import { runSimulation } from './cluster/run.js';
import type { NemesisKind } from './engine/nemesis.js';
import { allNemesisKinds } from './engine/nemesis.js';
import { LOCK_CLIENTS_MAX, lockRunOptions, replayLockSeed, runManyLockSeeds } from './lock/lock-cli.js';
import { allLockMutations } from './lock/lock-run.js';
import { runSeedsInParallel } from './parallel.js';
import type { TraceVerdict } from './trace/sim-trace.js';
import { traceSimulation } from './trace/traced-run.js';

const USAGE = `Usage:
  npm run sim -- --seeds N [--first-seed S] [--nodes 5] [--nemesis all|none|kind,kind] [--workers W]
  npm run sim -- --seed N [--trace] [--out trace.json]
  npm run sim -- --scenario lock --seeds N | --seed N [--trace] [--nodes 5] [--clients 4]
Options:
  --scenario NAME    kv (default: a linearizable register) or lock (leases, locks, fencing tokens)
  --clients N        lock clients (lock scenario; default 4)
  --trace            print the run as readable lines
  --out FILE         write the run's SimTrace JSON (what the dashboard's replay view loads)
  --nodes N          cluster size (default 5)
  --nemesis SPEC     'all', 'none', or a comma list of: ${allNemesisKinds.join(', ')}
  --intensity X      faults per kind every ~2 s / X (default 2)
  --duration-ms MS   virtual time per run (default 15000)
  --reads MODE       read-index (default) or lease
  --pipelined        drive Raft with pipelined Readys, as the server does
  --mutation NAME    run a deliberately broken core (tests only): vote-without-log-check,
                     commit-previous-term-by-counting, truncate-without-conflict,
                     read-index-without-quorum, commit-quorum-off-by-one; lock scenario also:
                     ${allLockMutations.join(', ')}
  --workers W        parallel worker threads (default: available cores, at most 8)`;

function main(): void {
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine();
  } catch (error) {
    fail(`${(error as Error).message}\n${USAGE}`);
  }
  runFromValues(parsed.values);
}

function parseCommandLine() {
  return parseArgs({
    options: {
      scenario: { type: 'string', default: 'kv' },
      clients: { type: 'string', default: '4' },
      seeds: { type: 'string' },
      'first-seed': { type: 'string', default: '1' },
      seed: { type: 'string' },
      nodes: { type: 'string', default: '5' },
      nemesis: { type: 'string', default: 'all' },
      intensity: { type: 'string' },
      'duration-ms': { type: 'string' },
      reads: { type: 'string', default: 'read-index' },
      pipelined: { type: 'boolean', default: false },
      mutation: { type: 'string', multiple: true, default: [] },
      trace: { type: 'boolean', default: false },
      out: { type: 'string' },
      workers: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
}

function runFromValues(values: ReturnType<typeof parseCommandLine>['values']): void {
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values.scenario === 'lock') {
    runLockScenario(values);
    return;
  }
  if (values.scenario !== 'kv') fail(`unknown scenario "${values.scenario}"\n${USAGE}`);
  const base = simulationOptions(values);
  if (values.seed !== undefined) {
    replay(Number(values.seed), base, values.trace, values.out);
    return;
  }
  const seeds = integerFlag('seeds', values.seeds ?? '100', 1);
  const firstSeed = integerFlag('first-seed', values['first-seed'], 0);
  const workers = integerFlag(
    'workers',
    values.workers ?? String(Math.max(1, Math.min(availableParallelism(), 8))),
    1,
  );
  void runMany(base, firstSeed, seeds, workers);
}

function runLockScenario(values: ReturnType<typeof parseCommandLine>['values']): void {
  const base = simulationOptions(values);
  if (base.readMode === 'lease') fail('--reads lease: the lock scenario reads through ReadIndex only');
  if (values.out !== undefined)
    fail("--out writes the KV scenario's trace JSON; use --trace with --scenario lock");
  const clients = integerFlag('clients', values.clients, 1);
  if (clients > LOCK_CLIENTS_MAX) fail(`--clients must be at most ${LOCK_CLIENTS_MAX}`);
  const options = lockRunOptions({
    nodes: base.nodes ?? 5,
    clients,
    nemesis: base.nemesis ?? 'all',
    mutationNames: values.mutation,
    ...(base.intensity === undefined ? {} : { intensity: base.intensity }),
    ...(base.durationMs === undefined ? {} : { durationMs: base.durationMs }),
  });
  if (values.seed !== undefined) {
    const print = values.trace ? (event: TraceEvent) => console.log(formatTraceEvent(event)) : undefined;
    if (!replayLockSeed(options, integerFlag('seed', values.seed, 0), print)) process.exitCode = 1;
    return;
  }
  const seeds = integerFlag('seeds', values.seeds ?? '100', 1);
  const firstSeed = integerFlag('first-seed', values['first-seed'], 0);
  const workers = integerFlag(
    'workers',
    values.workers ?? String(Math.max(1, Math.min(availableParallelism(), 8))),
    1,
  );
  void runManyLockSeeds(options, firstSeed, seeds, workers).then((passed) => {
    if (!passed) process.exitCode = 1;
  });
}

function simulationOptions(values: Record<string, string | boolean | string[] | undefined>): SimOptionsInput {
  const nodes = Number(values.nodes);
  if (!Number.isSafeInteger(nodes) || nodes < 1 || nodes > 9) fail('--nodes must be between 1 and 9');
  const nemesisSpec = String(values.nemesis);
  let nemesis: SimulationOptions['nemesis'];
  if (nemesisSpec === 'all' || nemesisSpec === 'none') nemesis = nemesisSpec;
  else {
    const kinds = nemesisSpec.split(',').map((kind) => kind.trim());
    for (const kind of kinds) {
      if (!allNemesisKinds.includes(kind as NemesisKind)) fail(`unknown nemesis kind "${kind}"\n${USAGE}`);
    }
    nemesis = kinds as NemesisKind[];
  }
  const reads = String(values.reads);
  if (reads !== 'read-index' && reads !== 'lease') fail('--reads must be read-index or lease');
  const options: SimOptionsInput = {
    nodes,
    nemesis,
    readMode: reads,
    mutations: (values.mutation as string[]).map((name) => name as Mutation),
    ...(values.pipelined ? { pipelined: true } : {}),
  };
  const extra: { intensity?: number; durationMs?: number } = {};
  if (values.intensity !== undefined) {
    extra.intensity = Number(values.intensity);
    if (!(extra.intensity >= 0 && extra.intensity <= 10)) fail('--intensity must be between 0 and 10');
  }
  if (values['duration-ms'] !== undefined)
    extra.durationMs = integerFlag('duration-ms', String(values['duration-ms']), 2_000);
  return { ...options, ...extra };
}

function replay(seed: number, base: SimOptionsInput, trace: boolean, out: string | undefined): void {
  const options = {
    ...base,
    seed,
    ...(trace ? { trace: (event: TraceEvent) => console.log(formatTraceEvent(event)) } : {}),
  };
  let summary: { ops: number; ok: number; elections: number; committed: number };
  let violations: TraceVerdict['violations'];
  if (out === undefined) {
    const result = runSimulation(options);
    summary = {
      ops: result.operations,
      ok: result.okOperations,
      elections: result.leaderElections,
      committed: result.committedEntries,
    };
    violations = result.violations;
  } else {
    const simTrace = traceSimulation(options);
    const json = JSON.stringify(simTrace);
    writeFileSync(out, json);
    const truncated = simTrace.truncated ? ', truncated' : '';
    console.error(
      `trace written to ${out} (${simTrace.records.length} records, ${json.length} bytes${truncated})`,
    );
    const { operations, okOperations, leaderElections, committedEntries } = simTrace.summary;
    summary = { ops: operations, ok: okOperations, elections: leaderElections, committed: committedEntries };
    violations = simTrace.verdict.violations;
  }
  const lines = violations.map(
    (v) => `${v.kind} at t=${v.atMs.toFixed(1)}ms${v.node ? ` on ${v.node}` : ''}: ${v.message}`,
  );
  console.log(JSON.stringify({ seed, ...summary, violations: lines }, null, 2));
  if (violations.length > 0) process.exitCode = 1;
}

export function formatTraceEvent(event: TraceEvent): string {
  const time = `t=${event.atMs.toFixed(3).padStart(10)}`;
  const node = (event.node ?? '').padEnd(4);
  return `${time} ${node} ${event.kind.padEnd(9)} ${event.text}`;
}

async function runMany(
  base: SimOptionsInput,
  firstSeed: number,
  seeds: number,
  workers: number,
): Promise<void> {
  const started = performance.now();
  const interactive = process.stderr.isTTY === true;
  let lastReportMs = 0;
  const summary = await runSeedsInParallel(base, firstSeed, seeds, workers, (done, total, failedSeeds) => {
    const now = performance.now();
    // A live counter on a terminal; otherwise a line every few seconds (CI logs stay short).
    if (!interactive && done !== total && now - lastReportMs < 5_000) return;
    lastReportMs = now;
    const seconds = ((now - started) / 1000).toFixed(1);
    const line = `${done}/${total} runs, ${failedSeeds.length} failing, ${seconds}s`;
    process.stderr.write(interactive ? `\r${line}` : `${line}\n`);
  });
  if (interactive) process.stderr.write('\n');
  for (const failure of summary.failures.slice(0, 5)) {
    process.stderr.write(`seed ${failure.seed}: ${failure.firstViolation}\n`);
    process.stderr.write(
      `  replay: npm run sim -- --seed ${failure.seed} --nodes ${base.nodes ?? 5} --trace${replayFlags(base)}\n`,
    );
  }
  console.log(
    JSON.stringify({
      runs: summary.runs,
      ops: summary.ops,
      violations: summary.violations,
      failedSeeds: summary.failures.map((failure) => failure.seed),
    }),
  );
  if (summary.violations > 0) process.exitCode = 1;
}

function integerFlag(name: string, text: string, minimum: number): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < minimum)
    fail(`--${name} must be an integer ≥ ${minimum}, got "${text}"\n${USAGE}`);
  return value;
}

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

main();
