import { parseArgs } from 'node:util';

export const PARTS = ['put', 'latency', 'failover', 'profile'] as const;
export type Part = (typeof PARTS)[number];
export type ClusterSize = 1 | 3;

export interface BenchOptions {
  readonly quick: boolean;
  readonly parts: readonly Part[];
  readonly clusterSizes: readonly ClusterSize[];
  /** Extra environment for every synod process (e.g. to compare metrics on and off). */
  readonly synodEnv: Readonly<Record<string, string>>;
}

export interface BenchPlan {
  /** Each measured put run lasts about this long (its request count comes from a warm-up run). */
  readonly putRunSeconds: number;
  /** Measured runs per system and load; the figure is their median. */
  readonly putRounds: number;
  /** Requests of the first warm-up run, which also estimates the rate. */
  readonly putWarmupRequests: number;
  /**
   * Before the measured rounds of each load, each system serves puts for about this long,
   * unmeasured: a freshly started Node.js member spends its first seconds under load compiling
   * (V8's optimising compiler), and the figures are meant to be steady state. etcd, compiled
   * ahead of time, gets the same warm-up.
   */
  readonly putWarmupSeconds: number;
  /**
   * Before the first latency phase, each system serves every operation for this long, unmeasured:
   * a freshly started Node.js member runs unoptimised code for its first seconds, and the figures
   * are meant to be steady state (etcd, compiled ahead of time, gets the same calls).
   */
  readonly latencyJitWarmupMs: number;
  readonly latencyWarmupMs: number;
  readonly latencyMeasureMs: number;
  readonly failoverRepeats: number;
  readonly profileRunSeconds: number;
}

export const FULL_PLAN: BenchPlan = {
  putRunSeconds: 4,
  putRounds: 3,
  putWarmupRequests: 5_000,
  putWarmupSeconds: 10,
  latencyJitWarmupMs: 2_000,
  latencyWarmupMs: 1_000,
  latencyMeasureMs: 4_000,
  failoverRepeats: 5,
  profileRunSeconds: 5,
};

export const QUICK_PLAN: BenchPlan = {
  putRunSeconds: 1.5,
  putRounds: 1,
  putWarmupRequests: 2_000,
  putWarmupSeconds: 3,
  latencyJitWarmupMs: 1_500,
  latencyWarmupMs: 500,
  latencyMeasureMs: 1_500,
  failoverRepeats: 3,
  profileRunSeconds: 3,
};

export const USAGE = `Usage: npm run bench -- kv [--quick] [--only=put|latency|failover|profile[,...]] [--nodes=1|3]
                       [--synod-env=KEY=VALUE ...]
   or: node --import tsx bench/kv/kv.bench.ts [the same flags, '--only put' also works]

  --quick            about 2 min instead of about 6 (shorter runs, one round, 3 failovers)
  --only PART        run only these parts (comma-separated or repeated)
  --nodes N          only clusters of N members (failover needs 3 and is skipped with 1)
  --synod-env K=V    environment for every synod process (repeatable)`;

export class OptionsError extends Error {}

/** Parses the flags; throws OptionsError with a message for the user on bad input. */
export function parseOptions(argv: readonly string[]): BenchOptions & { help: boolean } {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (error) {
    throw new OptionsError((error as Error).message);
  }
  const parts = (values.only ?? []).flatMap((list) => list.split(',')).filter((part) => part !== '');
  for (const part of parts) {
    if (!(PARTS as readonly string[]).includes(part))
      throw new OptionsError(`--only ${part}: expected one of ${PARTS.join(', ')}`);
  }
  const nodes = values.nodes;
  if (nodes !== undefined && nodes !== '1' && nodes !== '3')
    throw new OptionsError(`--nodes ${nodes}: expected 1 or 3`);
  const synodEnv: Record<string, string> = {};
  for (const pair of values['synod-env'] ?? []) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(pair);
    if (!match) throw new OptionsError(`--synod-env ${pair}: expected KEY=VALUE`);
    synodEnv[match[1]!] = match[2]!;
  }
  return {
    help: values.help ?? false,
    quick: values.quick ?? false,
    parts: parts.length > 0 ? PARTS.filter((part) => parts.includes(part)) : PARTS,
    clusterSizes: nodes === undefined ? [1, 3] : [Number(nodes) as ClusterSize],
    synodEnv,
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      quick: { type: 'boolean' },
      only: { type: 'string', multiple: true },
      nodes: { type: 'string' },
      'synod-env': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/** The flags given to `npm run bench -- kv …` (bench/run.ts passes them on). */
export function commandLineFlags(): { flags: string[]; inherited: boolean } {
  return { flags: process.argv.slice(2), inherited: false };
}
