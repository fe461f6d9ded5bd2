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

export function runOneSeed(options: Omit<Partial<SimulationOptions>, 'seed'>, seed: number): SeedOutcome {
  const result = runSimulation({ ...options, seed });
  const first = result.violations[0];
  return {
    seed,
    ops: result.operations,
    violations: result.violations.length,
    firstViolation: first ? `${first.kind}: ${first.message.split('\n').slice(0, 6).join('\n  ')}` : '',
  };
}

export async function runSeedsInParallel(
  options: Omit<Partial<SimulationOptions>, 'seed'>,
  firstSeed: number,
  seeds: number,
  workers: number,
  onProgress: ProgressCallback = () => {},
): Promise<ManyRunsSummary> {
  const outcomes: SeedOutcome[] = [];
  const failed: number[] = [];
  const record = (outcome: SeedOutcome) => {
    outcomes.push(outcome);
    if (outcome.violations > 0) failed.push(outcome.seed);
    onProgress(outcomes.length, seeds, failed);
  };
  if (workers <= 1 || seeds < 4) {
    for (let seed = firstSeed; seed < firstSeed + seeds; seed++) record(runOneSeed(options, seed));
  } else {
    await runInWorkers(options, firstSeed, seeds, workers, record);
  }
  outcomes.sort((a, b) => a.seed - b.seed);
  return {
    runs: outcomes.length,
    ops: outcomes.reduce((sum, outcome) => sum + outcome.ops, 0),
    violations: outcomes.reduce((sum, outcome) => sum + outcome.violations, 0),
    failures: outcomes.filter((outcome) => outcome.violations > 0),
  };
}

function runInWorkers(
  options: Omit<Partial<SimulationOptions>, 'seed'>,
  firstSeed: number,
  seeds: number,
  workers: number,
  record: (outcome: SeedOutcome) => void,
): Promise<void> {
  let nextSeed = firstSeed;
  const lastSeed = firstSeed + seeds - 1;
  let finished = 0;
  const count = Math.min(workers, seeds);
  return new Promise((resolve, reject) => {
    for (let w = 0; w < count; w++) {
      const worker = new Worker(new URL('./sim-worker.mjs', import.meta.url));
      const sendNext = () => {
        if (nextSeed > lastSeed) {
          void worker.terminate();
          if (++finished === count) resolve();
          return;
        }
        worker.postMessage({ options, seed: nextSeed++ });
      };
      worker.on('message', (message: { ready?: true; outcome?: SeedOutcome }) => {
        if (message.outcome) record(message.outcome);
        sendNext();
      });
      worker.on('error', reject);
    }
  });
}
