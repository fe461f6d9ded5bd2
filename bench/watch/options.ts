// Command-line options of the watch bench, and the plan (loads and durations) they select.
import { parseArgs } from 'node:util';
import type { System } from '../kv/member-cluster.js';

export const PARTS = ['fanout', 'leases'] as const;
export type Part = (typeof PARTS)[number];
export const SYSTEMS: readonly System[] = ['synod', 'etcd'];

export interface BenchOptions {
  readonly quick: boolean;
  readonly parts: readonly Part[];
  readonly systems: readonly System[];
  readonly plan: BenchPlan;
}

export interface FanoutPlan {
  readonly watchers: number;
  /** HTTP/2 connections the watchers are spread over, round-robin across the members. */
  readonly connections: number;
  /** Watch streams per connection; the connection's watchers are spread over them. */
  readonly streamsPerConnection: number;
  /** Each rate is one run: a writer puts at this rate for writeSeconds. */
  readonly putsPerSecond: readonly number[];
  readonly writeSeconds: number;
  /**
   * Before the measured rates, an unmeasured run this long at the highest rate (its own watchers and
   * prefix): a fresh Node member runs unoptimised code for its first seconds, so without it the first
   * rate's figures would partly measure JIT warm-up. Both systems get it. 0: none.
   */
  readonly warmupSeconds: number;
  /** After the last put, watchers get this long to receive every event. */
  readonly drainTimeoutMs: number;
  /** Worker threads holding the watch connections (the client must not be the bottleneck). */
  readonly clientThreads: number;
}

export interface LeasePlan {
  readonly leases: number;
  readonly ttlSeconds: number;
  /** LeaseKeepAlive streams, round-robin across the members; leases spread evenly over them. */
  readonly keepAliveStreams: number;
  /** The idle cluster is sampled this long first, for a baseline. */
  readonly idleSeconds: number;
  /** Keep-alives run, and CPU and RSS are sampled, this long. */
  readonly measureSeconds: number;
  /** LeaseGrant calls in flight while the leases are created. */
  readonly grantConcurrency: number;
}

export interface BenchPlan {
  readonly fanout: FanoutPlan;
  readonly leases: LeasePlan;
}

const CLIENT_THREADS_DEFAULT = 2;

export const FULL_PLAN: BenchPlan = {
  fanout: {
    watchers: 1_000,
    connections: 10,
    streamsPerConnection: 1,
    putsPerSecond: [200, 1_000],
    writeSeconds: 10,
    warmupSeconds: 3,
    drainTimeoutMs: 30_000,
    clientThreads: CLIENT_THREADS_DEFAULT,
  },
  leases: {
    leases: 10_000,
    ttlSeconds: 30,
    keepAliveStreams: 6,
    idleSeconds: 5,
    measureSeconds: 30,
    grantConcurrency: 64,
  },
};

export const QUICK_PLAN: BenchPlan = {
  fanout: { ...FULL_PLAN.fanout, writeSeconds: 3, warmupSeconds: 2, drainTimeoutMs: 15_000 },
  leases: { ...FULL_PLAN.leases, idleSeconds: 2, measureSeconds: 12 },
};

export const USAGE = `Usage: npm run bench -- watch [--quick] [--only=fanout|leases] [--systems=synod,etcd]
                          [--watchers=N] [--connections=N] [--rates=R,R] [--leases=N] [--client-threads=N]
   or: node --import tsx bench/watch/watch.bench.ts [the same flags]

  --quick             about 2 min instead of about 5 (3 s per fan-out rate, 12 s of keep-alives)
  --only PART         fanout (watch fan-out latency and rate) or leases (CPU and RSS under keep-alives)
  --systems LIST      measure only these (e.g. etcd while Synod does not serve Watch yet)
  --watchers N        watchers on the prefix (default 1000)
  --connections N     HTTP/2 connections the watchers share (default 10; must divide --watchers)
  --rates R,R         writer puts/s, one fan-out run each (default 200,1000)
  --leases N          leases kept alive (default 10000)
  --client-threads N  worker threads receiving the watch events (default ${CLIENT_THREADS_DEFAULT})`;

export class OptionsError extends Error {}

/** Parses the flags; throws OptionsError with a message for the user on bad input. */
export function parseOptions(argv: readonly string[]): BenchOptions & { help: boolean } {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (error) {
    throw new OptionsError((error as Error).message);
  }
  const parts = listOf(values.only, PARTS, '--only');
  const systems = listOf(values.systems, SYSTEMS, '--systems');
  const base = values.quick ? QUICK_PLAN : FULL_PLAN;
  const fanout: FanoutPlan = {
    ...base.fanout,
    watchers: positive(values.watchers, '--watchers') ?? base.fanout.watchers,
    connections: positive(values.connections, '--connections') ?? base.fanout.connections,
    clientThreads: positive(values['client-threads'], '--client-threads') ?? base.fanout.clientThreads,
    putsPerSecond:
      values.rates === undefined
        ? base.fanout.putsPerSecond
        : values.rates.split(',').map((rate) => positive(rate, '--rates')!),
  };
  if (fanout.watchers % (fanout.connections * fanout.streamsPerConnection) !== 0)
    throw new OptionsError(
      `--watchers ${fanout.watchers} must be a multiple of --connections ${fanout.connections}`,
    );
  const leases: LeasePlan = {
    ...base.leases,
    leases: positive(values.leases, '--leases') ?? base.leases.leases,
  };
  return {
    help: values.help ?? false,
    quick: values.quick ?? false,
    parts: parts ?? PARTS,
    systems: systems ?? SYSTEMS,
    plan: { fanout, leases },
  };
}

function listOf<T extends string>(
  given: readonly string[] | undefined,
  allowed: readonly T[],
  flag: string,
): T[] | undefined {
  if (given === undefined) return undefined;
  const items = given.flatMap((list) => list.split(',')).filter((item) => item !== '');
  for (const item of items) {
    if (!(allowed as readonly string[]).includes(item))
      throw new OptionsError(`${flag} ${item}: expected one of ${allowed.join(', ')}`);
  }
  return allowed.filter((item) => items.includes(item));
}

function positive(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new OptionsError(`${flag} ${text}: expected a positive integer`);
  return value;
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      quick: { type: 'boolean' },
      only: { type: 'string', multiple: true },
      systems: { type: 'string', multiple: true },
      watchers: { type: 'string' },
      connections: { type: 'string' },
      rates: { type: 'string' },
      leases: { type: 'string' },
      'client-threads': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
