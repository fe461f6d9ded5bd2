// What the parts of the watch bench share: options, where clusters keep their data, where results
// are collected, and how progress and results are printed.
import { MemberCluster, type System } from '../kv/member-cluster.js';
import { type Figure, formatFigure } from './figures.js';
import type { BenchOptions, Part } from './options.js';

/** Both systems run as 3 members on 127.0.0.1, as the comparison asks. */
export const CLUSTER_SIZE = 3;

export interface WatchBenchContext {
  readonly options: BenchOptions;
  readonly rootDir: string;
  readonly figures: Figure[];
  /** Every run's full measurement, for the JSON file. */
  readonly runs: Record<string, unknown[]>;
  readonly failures: string[];
  /** A progress line (stderr) with the time since the start. */
  progress(message: string): void;
  /** A result line (stdout). */
  report(message: string): void;
}

export function addFigure(context: WatchBenchContext, figure: Figure): void {
  context.figures.push(figure);
  context.report(formatFigure(figure));
}

export function record(context: WatchBenchContext, part: Part, entry: Record<string, unknown>): void {
  context.runs[part] ??= [];
  context.runs[part].push(entry);
}

/**
 * Starts a fresh cluster of `system` (only one system runs at a time, so neither's CPU figures
 * carry the other's idle load), runs `body`, and stops it whatever happens. A failure is
 * recorded and the bench goes on.
 */
export async function withCluster(
  context: WatchBenchContext,
  part: Part,
  system: System,
  body: (cluster: MemberCluster) => Promise<void>,
): Promise<void> {
  const cluster = await MemberCluster.create({ system, size: CLUSTER_SIZE, rootDir: context.rootDir });
  try {
    context.progress(`${part}: starting ${system}, ${CLUSTER_SIZE} members`);
    await cluster.startAll();
    await body(cluster);
  } catch (error) {
    context.failures.push(`${part}, ${system}: ${(error as Error).message}`);
    context.progress(`${part} ${system} FAILED: ${(error as Error).message}`);
  } finally {
    context.progress(`${part}: stopping ${system}`);
    await cluster.stop();
  }
}
