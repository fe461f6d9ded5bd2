// What every side-by-side benchmark prints and how it reads its flags: progress lines on stderr
// stamped with the seconds since start, results on stdout, and a usage error (exit 2) for bad flags.
import { cpus, loadavg } from 'node:os';
import { commandLineFlags } from './kv/options.js';

/** Exit code for a command line or machine the benchmark cannot run with. */
export const EXIT_USAGE = 2;
const startedAt = performance.now();

/** Seconds since the benchmark started. */
export function secondsSinceStart(): number {
  return (performance.now() - startedAt) / 1000;
}

/** The 1, 5 and 15 minute load averages, to two decimals. */
export function loadAverageNow(): number[] {
  return loadavg().map((load) => Number(load.toFixed(2)));
}

export function progress(message: string): void {
  const seconds = secondsSinceStart().toFixed(1).padStart(6);
  process.stderr.write(`[${seconds} s] ${message}\n`);
}

export function report(message: string): void {
  process.stdout.write(`${message}\n`);
}

/**
 * The command line (or the flags `npm run bench` passed on) parsed by `parse`; prints `usage`
 * and exits for --help (0) or for flags `parse` refuses with an `usageError` (2).
 */
export function readBenchOptions<Options extends { help: boolean }>(
  bench: string,
  usage: string,
  parse: (flags: readonly string[]) => Options,
  usageError: new (...args: never[]) => Error,
): Options {
  const { flags, inherited } = commandLineFlags();
  try {
    const options = parse(flags);
    if (options.help) {
      report(usage);
      process.exit(0);
    }
    if (inherited) progress(`flags from 'npm run bench': ${flags.join(' ')}`);
    return options;
  } catch (error) {
    if (!(error instanceof usageError)) throw error;
    process.stderr.write(`bench ${bench}: ${error.message}\n\n${usage}\n`);
    process.exit(EXIT_USAGE);
  }
}

/** The machine a benchmark ran on, for its results file and header. */
export function machineBasics(): { cpus: number; cpuModel: string; loadAverage: number[]; node: string } {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    loadAverage: loadAverageNow(),
    node: process.version,
  };
}
