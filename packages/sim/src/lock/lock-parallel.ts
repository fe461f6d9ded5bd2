// Many seeds of the lock scenario across worker threads, one run per message (as parallel.ts
// does for the KV scenario), with the figures summed for the report.
import { Worker } from 'node:worker_threads';
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

export type LockProgressCallback = (done: number, total: number, failedSeeds: readonly number[]) => void;

/** Lines of a violation's message kept in a one-line summary. */
const SUMMARY_MESSAGE_LINES = 6;

export function runOneLockSeed(options: LockRunOptions, seed: number): LockSeedOutcome {
  const result = runLockSimulation({ ...options, seed });
  const first = result.violations[0];
  return {
    seed,
    ops: result.operations,
    violations: result.violations.length,
    firstViolation: first
      ? `${first.kind}: ${first.message.split('\n').slice(0, SUMMARY_MESSAGE_LINES).join('\n  ')}`
      : '',
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
  const outcomes: LockSeedOutcome[] = [];
  const failed: number[] = [];
  const record = (outcome: LockSeedOutcome): void => {
    outcomes.push(outcome);
    if (outcome.violations > 0) failed.push(outcome.seed);
    onProgress(outcomes.length, seeds, failed);
  };
  if (workers <= 1 || seeds < 4) {
    for (let seed = firstSeed; seed < firstSeed + seeds; seed++) record(runOneLockSeed(options, seed));
  } else {
    await runInWorkers(options, firstSeed, seeds, workers, record);
  }
  outcomes.sort((a, b) => a.seed - b.seed);
  return {
    runs: outcomes.length,
    ops: outcomes.reduce((sum, outcome) => sum + outcome.ops, 0),
    violations: outcomes.reduce((sum, outcome) => sum + outcome.violations, 0),
    failures: outcomes.filter((outcome) => outcome.violations > 0),
    totals: sumFigures(outcomes.map((outcome) => outcome.figures)),
  };
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

function runInWorkers(
  options: LockRunOptions,
  firstSeed: number,
  seeds: number,
  workers: number,
  record: (outcome: LockSeedOutcome) => void,
): Promise<void> {
  let nextSeed = firstSeed;
  const lastSeed = firstSeed + seeds - 1;
  let finished = 0;
  const count = Math.min(workers, seeds);
  return new Promise((resolve, reject) => {
    for (let w = 0; w < count; w++) {
      const worker = new Worker(new URL('./lock-worker.mjs', import.meta.url));
      const sendNext = (): void => {
        if (nextSeed > lastSeed) {
          void worker.terminate();
          if (++finished === count) resolve();
          return;
        }
        worker.postMessage({ options, seed: nextSeed++ });
      };
      worker.on('message', (message: { ready?: true; outcome?: LockSeedOutcome }) => {
        if (message.outcome) record(message.outcome);
        sendNext();
      });
      worker.on('error', reject);
    }
  });
}
