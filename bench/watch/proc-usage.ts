// CPU and memory of server processes from Linux's /proc: user + system time from
// /proc/<pid>/stat (in clock ticks) and the resident set size. CPU is given as a percentage of one
// core over a window, so a multi-threaded etcd can exceed 100%. Also the time the process's
// threads were runnable but waiting for a CPU (/proc/<pid>/task/*/schedstat): on a busy machine a
// low CPU figure means "starved" when this is high and "idle, waiting for something" when it is not.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Used when `getconf` cannot tell (both are Linux's usual values). */
const CLOCK_TICKS_PER_SECOND_DEFAULT = 100;
const PAGE_BYTES_DEFAULT = 4096;
/** Samples one sampler keeps per process (an hour at one a second). */
const SAMPLES_MAX = 3_600;
export const SAMPLE_INTERVAL_MS = 1_000;
/** In /proc/<pid>/stat after the command's closing parenthesis: field 3 is index 0. */
const STAT_UTIME_INDEX = 14 - 3;
const STAT_STIME_INDEX = 15 - 3;
const STAT_RSS_PAGES_INDEX = 24 - 3;

function getconf(name: string, fallback: number): number {
  try {
    const value = Number(execFileSync('getconf', [name], { encoding: 'utf8' }).trim());
    return Number.isSafeInteger(value) && value > 0 ? value : fallback;
  } catch {
    return fallback;
  }
}

const clockTicksPerSecond = getconf('CLK_TCK', CLOCK_TICKS_PER_SECOND_DEFAULT);
const pageBytes = getconf('PAGESIZE', PAGE_BYTES_DEFAULT);

export interface UsageReading {
  readonly atMs: number;
  /** user + system CPU seconds since the process started. */
  readonly cpuSeconds: number;
  /** Seconds its threads spent runnable on a run queue, not running (NaN without schedstat). */
  readonly runQueueWaitSeconds: number;
  readonly rssBytes: number;
}

/** One reading of a process, or undefined when it is gone. */
export function readUsage(pid: number): UsageReading | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[STAT_UTIME_INDEX]) + Number(fields[STAT_STIME_INDEX]);
  return {
    atMs: performance.now(),
    cpuSeconds: ticks / clockTicksPerSecond,
    runQueueWaitSeconds: runQueueWaitSecondsOf(pid),
    rssBytes: Number(fields[STAT_RSS_PAGES_INDEX]) * pageBytes,
  };
}

/** The second field of each thread's schedstat (nanoseconds waiting on a run queue), summed. */
function runQueueWaitSecondsOf(pid: number): number {
  let waitNs = 0;
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      try {
        waitNs += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[1]);
      } catch {
        // The thread ended between the listing and the read.
      }
    }
  } catch {
    return Number.NaN;
  }
  return waitNs / 1e9;
}

export interface UsageSummary {
  /** CPU over the whole window, % of one core. */
  readonly cpuPercent: number;
  /** The busiest sampling interval, % of one core. */
  readonly cpuPercentMax: number;
  /** Runnable but not running over the window, % of one core (summed over threads). */
  readonly runQueueWaitPercent: number;
  readonly rssBytesLast: number;
  readonly rssBytesMax: number;
  readonly seconds: number;
  readonly samples: number;
}

export interface SampledProcess {
  readonly name: string;
  readonly pid: number;
}

/**
 * Reads processes every SAMPLE_INTERVAL_MS between start() and stop().
 *
 * @example
 * const sampler = new UsageSampler([{ name: 'e1', pid }]);
 * sampler.start(); await work(); const usage = sampler.stop(); // usage.e1.cpuPercent
 */
export class UsageSampler {
  private readonly processes: readonly SampledProcess[];
  private readonly readings = new Map<string, UsageReading[]>();
  private timer: NodeJS.Timeout | undefined;

  constructor(processes: readonly SampledProcess[]) {
    this.processes = processes;
  }

  start(): void {
    if (this.timer !== undefined) throw new Error('UsageSampler started twice');
    this.sample();
    this.timer = setInterval(() => this.sample(), SAMPLE_INTERVAL_MS);
  }

  /** Takes a last reading and summarises each process that could be read at least twice. */
  stop(): Record<string, UsageSummary> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
    const summaries: Record<string, UsageSummary> = {};
    for (const [name, readings] of this.readings) {
      const summary = summarise(readings);
      if (summary !== undefined) summaries[name] = summary;
    }
    return summaries;
  }

  /** CPU and run-queue wait of each process over the last interval (for progress lines). */
  latest(): string {
    const parts: string[] = [];
    for (const [name, readings] of this.readings) {
      const [before, after] = readings.slice(-2);
      if (before === undefined || after === undefined) continue;
      const wait = summarise([before, after])!.runQueueWaitPercent;
      parts.push(
        `${name} ${cpuPercentBetween(before, after).toFixed(0)}% (${wait.toFixed(0)}% waiting for a CPU)`,
      );
    }
    return parts.join(', ');
  }

  private sample(): void {
    for (const { name, pid } of this.processes) {
      const reading = readUsage(pid);
      if (reading === undefined) continue;
      const readings = this.readings.get(name) ?? [];
      if (readings.length >= SAMPLES_MAX) readings.splice(1, 1); // keep the first: the window's start
      readings.push(reading);
      this.readings.set(name, readings);
    }
  }
}

function cpuPercentBetween(before: UsageReading, after: UsageReading): number {
  const seconds = (after.atMs - before.atMs) / 1000;
  return seconds > 0 ? ((after.cpuSeconds - before.cpuSeconds) / seconds) * 100 : 0;
}

export function summarise(readings: readonly UsageReading[]): UsageSummary | undefined {
  const first = readings[0];
  const last = readings.at(-1);
  if (first === undefined || last === undefined || readings.length < 2) return undefined;
  let cpuPercentMax = 0;
  for (let index = 1; index < readings.length; index++)
    cpuPercentMax = Math.max(cpuPercentMax, cpuPercentBetween(readings[index - 1]!, readings[index]!));
  const seconds = (last.atMs - first.atMs) / 1000;
  return {
    cpuPercent: cpuPercentBetween(first, last),
    cpuPercentMax,
    runQueueWaitPercent:
      seconds > 0 ? ((last.runQueueWaitSeconds - first.runQueueWaitSeconds) / seconds) * 100 : 0,
    rssBytesLast: last.rssBytes,
    rssBytesMax: Math.max(...readings.map((reading) => reading.rssBytes)),
    seconds,
    samples: readings.length,
  };
}
