// What every part of the kv bench shares: options, plan, where files go, and where results are
// collected.
import type { BenchOptions, BenchPlan } from './options.js';
import type { Figure } from './report.js';

export interface BenchContext {
  readonly options: BenchOptions;
  readonly plan: BenchPlan;
  /** As configured for this run (Synod's may come from --synod-env SYNOD_ELECTION_TIMEOUT). */
  readonly electionTimeoutMs: { readonly synod: number; readonly etcd: number };
  readonly rootDir: string;
  readonly resultsDir: string;
  readonly stamp: string;
  /** The request body file h2load sends. */
  readonly putBody: string;
  readonly figures: Figure[];
  /** Every individual measurement, for the JSON file. */
  readonly runs: Record<string, unknown[]>;
  readonly failures: string[];
  /** Prints a progress line (stderr) with the time since the start. */
  progress(message: string): void;
  /** Prints a result line (stdout). */
  report(message: string): void;
}
