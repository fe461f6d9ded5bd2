// Many seeds of the lock scenario across worker threads, through parallel.ts's runner (as the KV
// scenario), with the figures summed for the report.
import {
  firstViolationSummary,
  type ProgressCallback,
  runSeedRange,
  summarizeOutcomes,
} from '../parallel.js';
import type { LockRunFigures, LockSimulationOptions } from './lock-run.js';
import { runLockSimulation } from './lock-run.js';

/** Options a worker can receive: everything but the trace callback. */
export type LockRunOptions = Omit<Partial<LockSimulationOptions>, 'seed' | 'trace'>;

export interface LockSeedOutcome {
  readonly seed: number;
  readonly ops: number;
  readonly violations: number;
  readonly firstViolation: string;
  readonly figures: LockRunFigures;
}

export interface LockManyRunsSummary {
  readonly runs: number;
  readonly ops: number;
  readonly violations: number;
  readonly failures: readonly LockSeedOutcome[];
  /** Each figure summed over the runs. */
  readonly totals: Readonly<Record<keyof LockRunFigures, number>>;
}

export type LockProgressCallback = ProgressCallback;

export function runOneLockSeed(options: LockRunOptions, seed: number): LockSeedOutcome {
  const result = runLockSimulation({ ...options, seed });
  return {
    seed,
    ops: result.operations,
    violations: result.violations.length,
    firstViolation: firstViolationSummary(result.violations),
    figures: result.figures,
  };
}

/**
 * Runs seeds `firstSeed … firstSeed + seeds − 1` on `workers` threads (in this thread when
 * `workers` is 1 or the batch is tiny).
 *
 * @example
 * const summary = await runLockSeedsInParallel({ nodes: 3 }, 1, 100, 2);
 * console.log(summary.runs, summary.violations);
 */
export async function runLockSeedsInParallel(
  options: LockRunOptions,
  firstSeed: number,
  seeds: number,
  workers: number,
  onProgress: LockProgressCallback = () => {},
): Promise<LockManyRunsSummary> {
  const runner = { runOne: runOneLockSeed, workerUrl: new URL('./lock-worker.mjs', import.meta.url) };
  const outcomes = await runSeedRange(runner, options, firstSeed, seeds, workers, onProgress);
  return { ...summarizeOutcomes(outcomes), totals: sumFigures(outcomes.map((outcome) => outcome.figures)) };
}

function sumFigures(all: readonly LockRunFigures[]): Record<keyof LockRunFigures, number> {
  const totals = {} as Record<keyof LockRunFigures, number>;
  for (const figures of all) {
    for (const name of Object.keys(figures) as (keyof LockRunFigures)[]) {
      totals[name] = (totals[name] ?? 0) + figures[name];
    }
  }
  return totals;
}
