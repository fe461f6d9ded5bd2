// `npm run sim -- --scenario lock ...`: the lock scenario's side of the simulator's command line
// (cli.ts parses the flags and hands them here).
import type { Mutation } from '@synod/raft';
import type { TraceEvent } from '../cluster/run.js';
import type { NemesisKind } from '../engine/nemesis.js';
import { type LockRunOptions, runLockSeedsInParallel } from './lock-parallel.js';
import { allLockMutations, type LockMutation, runLockSimulation } from './lock-run.js';

/** The flags cli.ts has parsed, as they matter here. */
export interface LockFlags {
  readonly nodes: number;
  readonly clients: number;
  readonly nemesis: readonly NemesisKind[] | 'all' | 'none';
  readonly mutationNames: readonly string[];
  readonly intensity?: number;
  readonly durationMs?: number;
}

export const LOCK_CLIENTS_MAX = 9;

export function lockRunOptions(flags: LockFlags): LockRunOptions {
  const lockMutations = flags.mutationNames.filter((name): name is LockMutation =>
    allLockMutations.includes(name as LockMutation),
  );
  const mutations = flags.mutationNames.filter((name) => !allLockMutations.includes(name as LockMutation));
  return {
    nodes: flags.nodes,
    clients: flags.clients,
    nemesis: flags.nemesis,
    lockMutations,
    mutations: mutations as Mutation[],
    ...(flags.intensity === undefined ? {} : { intensity: flags.intensity }),
    ...(flags.durationMs === undefined ? {} : { durationMs: flags.durationMs }),
  };
}

/** The command that replays `seed` with these options. */
export function lockReplayCommand(options: LockRunOptions, seed: number): string {
  let command = `npm run sim -- --scenario lock --seed ${seed} --nodes ${options.nodes ?? 5}`;
  if (options.clients !== undefined) command += ` --clients ${options.clients}`;
  const { nemesis } = options;
  if (nemesis !== undefined && nemesis !== 'all')
    command += ` --nemesis ${Array.isArray(nemesis) ? nemesis.join(',') : nemesis}`;
  if (options.intensity !== undefined) command += ` --intensity ${options.intensity}`;
  if (options.durationMs !== undefined) command += ` --duration-ms ${options.durationMs}`;
  for (const mutation of [...(options.mutations ?? []), ...(options.lockMutations ?? [])])
    command += ` --mutation ${mutation}`;
  return command;
}

/** Replays one seed; prints a summary (and the trace when asked). Returns whether it passed. */
export function replayLockSeed(
  options: LockRunOptions,
  seed: number,
  printTrace: ((event: TraceEvent) => void) | undefined,
): boolean {
  const result = runLockSimulation({ ...options, seed, ...(printTrace ? { trace: printTrace } : {}) });
  const violations = result.violations.map(
    (v) => `${v.kind} at t=${v.atMs.toFixed(1)}ms${v.node ? ` on ${v.node}` : ''}: ${v.message}`,
  );
  console.log(
    JSON.stringify(
      { scenario: 'lock', seed, ops: result.operations, ...result.figures, violations },
      null,
      2,
    ),
  );
  return violations.length === 0;
}

/** Runs many seeds on worker threads; progress on stderr, one JSON line on stdout. */
export async function runManyLockSeeds(
  options: LockRunOptions,
  firstSeed: number,
  seeds: number,
  workers: number,
): Promise<boolean> {
  const started = performance.now();
  const interactive = process.stderr.isTTY === true;
  let lastReportMs = 0;
  const summary = await runLockSeedsInParallel(options, firstSeed, seeds, workers, (done, total, failed) => {
    const now = performance.now();
    if (!interactive && done !== total && now - lastReportMs < 5_000) return;
    lastReportMs = now;
    const line = `${done}/${total} lock runs, ${failed.length} failing, ${((now - started) / 1000).toFixed(1)}s`;
    process.stderr.write(interactive ? `\r${line}` : `${line}\n`);
  });
  if (interactive) process.stderr.write('\n');
  for (const failure of summary.failures.slice(0, 5)) {
    process.stderr.write(`seed ${failure.seed}: ${failure.firstViolation}\n`);
    process.stderr.write(`  replay: ${lockReplayCommand(options, failure.seed)} --trace\n`);
  }
  console.log(
    JSON.stringify({
      scenario: 'lock',
      runs: summary.runs,
      ops: summary.ops,
      violations: summary.violations,
      failedSeeds: summary.failures.map((failure) => failure.seed),
      seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
      totals: summary.totals,
    }),
  );
  return summary.violations === 0;
}
