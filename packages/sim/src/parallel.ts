// Runs many seeds across worker threads (one simulation per message), so a 2-core machine runs
// two simulations at once. Results are collected per seed; the order of completion does not matter.
import { Worker } from 'node:worker_threads';
import type { SimulationOptions } from './cluster/run.js';
import { runSimulation } from './cluster/run.js';

export interface SeedOutcome {
  readonly seed: number;
  readonly ops: number;
  readonly violations: number;
  readonly firstViolation: string;
}

export interface ManyRunsSummary {
  readonly runs: number;
  readonly ops: number;
  readonly violations: number;
  readonly failures: readonly SeedOutcome[];
}

export type ProgressCallback = (done: number, total: number, failedSeeds: readonly number[]) => void;

/** Lines of a violation's message kept in a one-line summary. */
const SUMMARY_MESSAGE_LINES = 6;

/** The first violation in a few lines, or '' when there is none. */
export function firstViolationSummary(violations: readonly { kind: string; message: string }[]): string {
  const first = violations[0];
  if (first === undefined) return '';
  return `${first.kind}: ${first.message.split('\n').slice(0, SUMMARY_MESSAGE_LINES).join('\n  ')}`;
}

export function runOneSeed(options: Omit<Partial<SimulationOptions>, 'seed'>, seed: number): SeedOutcome {
  const result = runSimulation({ ...options, seed });
  return {
    seed,
    ops: result.operations,
    violations: result.violations.length,
    firstViolation: firstViolationSummary(result.violations),
  };
}

export async function runSeedsInParallel(
  options: Omit<Partial<SimulationOptions>, 'seed'>,
  firstSeed: number,
  seeds: number,
  workers: number,
  onProgress: ProgressCallback = () => {},
): Promise<ManyRunsSummary> {
  const runner = { runOne: runOneSeed, workerUrl: new URL('./sim-worker.mjs', import.meta.url) };
  return summarizeOutcomes(await runSeedRange(runner, options, firstSeed, seeds, workers, onProgress));
}

/** How one scenario runs a seed here, and the worker module that runs one per message. */
export interface SeedRunner<Options, Outcome extends SeedOutcome> {
  readonly runOne: (options: Options, seed: number) => Outcome;
  readonly workerUrl: URL;
}

/**
 * Runs seeds `firstSeed … firstSeed + seeds − 1` on `workers` threads (in this thread when
 * `workers` is 1 or the batch is tiny); the outcomes come back in seed order.
 */
export async function runSeedRange<Options, Outcome extends SeedOutcome>(
  runner: SeedRunner<Options, Outcome>,
  options: Options,
  firstSeed: number,
  seeds: number,
  workers: number,
  onProgress: ProgressCallback,
): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const failed: number[] = [];
  const record = (outcome: Outcome): void => {
    outcomes.push(outcome);
    if (outcome.violations > 0) failed.push(outcome.seed);
    onProgress(outcomes.length, seeds, failed);
  };
  if (workers <= 1 || seeds < 4) {
    for (let seed = firstSeed; seed < firstSeed + seeds; seed++) record(runner.runOne(options, seed));
  } else {
    await runInWorkers(runner.workerUrl, options, firstSeed, seeds, workers, record);
  }
  return outcomes.sort((a, b) => a.seed - b.seed);
}

export function summarizeOutcomes<Outcome extends SeedOutcome>(
  outcomes: readonly Outcome[],
): { runs: number; ops: number; violations: number; failures: Outcome[] } {
  return {
    runs: outcomes.length,
    ops: outcomes.reduce((sum, outcome) => sum + outcome.ops, 0),
    violations: outcomes.reduce((sum, outcome) => sum + outcome.violations, 0),
    failures: outcomes.filter((outcome) => outcome.violations > 0),
  };
}

function runInWorkers<Options, Outcome>(
  workerUrl: URL,
  options: Options,
  firstSeed: number,
  seeds: number,
  workers: number,
  record: (outcome: Outcome) => void,
): Promise<void> {
  let nextSeed = firstSeed;
  const lastSeed = firstSeed + seeds - 1;
  let finished = 0;
  const count = Math.min(workers, seeds);
  return new Promise((resolve, reject) => {
    for (let w = 0; w < count; w++) {
      const worker = new Worker(workerUrl);
      const sendNext = (): void => {
        if (nextSeed > lastSeed) {
          void worker.terminate();
          if (++finished === count) resolve();
          return;
        }
        worker.postMessage({ options, seed: nextSeed++ });
      };
      worker.on('message', (message: { ready?: true; outcome?: Outcome }) => {
        if (message.outcome) record(message.outcome);
        sendNext();
      });
      worker.on('error', reject);
    }
  });
}
