// The four parts of the kv bench. Each measures Synod and etcd with the same load, alternating
// which goes first, and adds its figures (with ratios) to the context as soon as they are known.
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from '../core/compare.js';
import type { BenchContext } from './context.js';
import { summariseCpuProfile } from './cpu-profile.js';
import { measureFailovers } from './failover.js';
import { compactHistory, type PutLoad, type PutRun, runPutLoad } from './h2load-put.js';
import {
  LATENCY_OPERATION_NAMES,
  LATENCY_OPERATIONS,
  type LatencyResult,
  measureLatencies,
} from './latency.js';
import { type ClusterMember, MemberCluster, type System, sleep } from './member-cluster.js';
import { type Figure, formatFigure, formatProfile } from './report.js';

const SYSTEMS: readonly System[] = ['synod', 'etcd'];
const PUT_LOADS: readonly PutLoad[] = [
  { connections: 16, streamsPerConnection: 8 },
  { connections: 64, streamsPerConnection: 8 },
];
/** Bounds on a measured put run's size, whatever the warm-up's rate suggests. */
const PUT_REQUESTS_MIN = 2_000;
const PUT_REQUESTS_MAX = 1_000_000;
/** Warm-up runs (JIT, connections) last about this long each, after a first one that sizes them. */
const WARMUP_RUN_SECONDS = 1;
const LATENCY_CLIENTS: readonly number[] = [16, 128];
/** The failover goal on loopback. */
const FAILOVER_GOAL_MS = 500;
/** How long the leader gets to write its CPU profile after SIGUSR2. */
const PROFILE_WRITE_TIMEOUT_MS = 20_000;
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

type Clusters = Record<System, MemberCluster>;

function addFigure(context: BenchContext, figure: Figure): void {
  context.figures.push(figure);
  context.report(formatFigure(figure));
}

function record(context: BenchContext, part: string, entry: Record<string, unknown>): void {
  context.runs[part] ??= [];
  context.runs[part].push(entry);
}

function loadName(load: PutLoad): string {
  return `${load.connections}×${load.streamsPerConnection}`;
}

function nodesName(size: number): string {
  return `${size} node${size > 1 ? 's' : ''}`;
}

const rounded = (value: number) => Math.round(value).toLocaleString('en-US');

// ---- put: peak throughput with h2load ----

interface PutTarget {
  readonly targetUrl: string;
  /** Where the key's version is read: the leader, so the read sees every acknowledged put. */
  readonly verifyUrl: string;
}

export async function runPutPart(context: BenchContext, size: number, clusters: Clusters): Promise<void> {
  for (const load of PUT_LOADS) {
    const name = `put ${nodesName(size)} ${loadName(load)}${size > 1 ? ' → leader' : ''}`;
    await comparePuts(context, name, await targetsOf(clusters, 'leader'), load);
  }
  if (size > 1) {
    const load = PUT_LOADS[0]!;
    const name = `put ${nodesName(size)} ${loadName(load)} → follower`;
    await comparePuts(context, name, await targetsOf(clusters, 'follower'), load);
  }
}

async function targetsOf(
  clusters: Clusters,
  role: 'leader' | 'follower',
): Promise<Record<System, PutTarget>> {
  const targetOf = async (cluster: MemberCluster): Promise<PutTarget> => {
    const leader = await cluster.leader();
    const follower = cluster.liveMembers().find((member) => member !== leader);
    if (role === 'follower' && !follower) throw new Error(`${cluster.system} has no follower`);
    const target = role === 'leader' ? leader : follower!;
    return { targetUrl: target.clientUrl, verifyUrl: leader.clientUrl };
  };
  return { synod: await targetOf(clusters.synod), etcd: await targetOf(clusters.etcd) };
}

/**
 * Warm-up runs per system size the measured runs (about putRunSeconds each), then rounds
 * alternate which system goes first. Every run is followed by a compaction, outside the timing.
 */
async function comparePuts(
  context: BenchContext,
  name: string,
  targets: Record<System, PutTarget>,
  load: PutLoad,
): Promise<void> {
  const { plan } = context;
  const failures: string[] = [];
  const rates: Record<System, number[]> = { synod: [], etcd: [] };
  const measure = async (system: System, round: string, count: number): Promise<PutRun> => {
    const run = await runPutLoad(
      context.putBody,
      targets[system].targetUrl,
      targets[system].verifyUrl,
      count,
      load,
    );
    await compactHistory(targets[system].verifyUrl);
    record(context, 'put', { figure: name, system, round, ...run });
    if (!run.verified) failures.push(`${system} ${round}: ${run.failure}`);
    const check = run.verified ? 'verified' : `FAILED: ${run.failure}`;
    const [termBefore, termAfter] = run.raftTerms;
    const election =
      termBefore !== termAfter && run.verified ? ` (leader election: term ${termBefore} → ${termAfter})` : '';
    context.progress(
      `${name} · ${system} ${round}: ${rounded(run.putsPerSecond)} puts/s, mean ${run.meanLatencyMs.toFixed(1)} ms, ` +
        `${rounded(count)} puts ${check}${election}`,
    );
    return run;
  };
  const sizingRate: Record<System, number> = { synod: 0, etcd: 0 };
  for (const system of SYSTEMS) {
    sizingRate[system] = await warmUp(plan.putWarmupRequests, plan.putWarmupSeconds, (count, run) =>
      measure(system, `warm-up ${run}`, count),
    );
  }
  for (let round = 0; round < plan.putRounds; round++) {
    const order = round % 2 === 0 ? SYSTEMS : [...SYSTEMS].reverse();
    for (const system of order) {
      const requests = requestsFor(sizingRate[system], plan.putRunSeconds);
      const run = await measure(system, `round ${round + 1}/${plan.putRounds}`, requests);
      rates[system].push(run.putsPerSecond);
      // The next run is sized by this one: a noisy warm-up must not make every round run long.
      sizingRate[system] = run.putsPerSecond;
    }
  }
  addFigure(context, {
    part: 'put',
    name,
    unit: 'puts/s',
    synod: median(rates.synod),
    etcd: median(rates.etcd),
    ...(failures.length > 0 ? { failure: failures.join('; ') } : {}),
  });
}

/**
 * Runs warm-up loads for about `seconds` in all; returns the lower of the last two rates, since a
 * short run on a shared machine can overestimate by a lot (and the measured runs are sized by it).
 */
async function warmUp(
  firstRequests: number,
  seconds: number,
  measure: (requests: number, run: number) => Promise<PutRun>,
): Promise<number> {
  const started = performance.now();
  let rate = (await measure(firstRequests, 1)).putsPerSecond;
  let previous = rate;
  for (let run = 2; performance.now() - started < seconds * 1000; run++) {
    previous = rate;
    rate = (await measure(requestsFor(previous, WARMUP_RUN_SECONDS), run)).putsPerSecond;
  }
  return Math.min(rate, previous);
}

/** About `seconds` of puts at `rate`, within sane bounds. */
function requestsFor(rate: number, seconds: number): number {
  return Math.min(PUT_REQUESTS_MAX, Math.max(PUT_REQUESTS_MIN, Math.round(rate * seconds)));
}

// ---- latency: the etcd3 client, closed loop ----

export async function runLatencyPart(context: BenchContext, clusters: Clusters): Promise<void> {
  const size = clusters.synod.members.length;
  const timing = { warmupMs: context.plan.latencyWarmupMs, measureMs: context.plan.latencyMeasureMs };
  const jitWarmup = { warmupMs: 0, measureMs: context.plan.latencyJitWarmupMs };
  for (const system of SYSTEMS) {
    context.progress(`latency ${nodesName(size)} · ${system}: warming up (unmeasured)`);
    await measureLatencies(clusters[system].endpoints, LATENCY_CLIENTS[0]!, jitWarmup, () => {});
  }
  for (const [index, clients] of LATENCY_CLIENTS.entries()) {
    const results: Partial<Record<System, LatencyResult[]>> = {};
    for (const system of index % 2 === 0 ? SYSTEMS : [...SYSTEMS].reverse()) {
      results[system] = await measureLatencies(clusters[system].endpoints, clients, timing, (result) => {
        record(context, 'latency', { system, ...result });
        context.progress(
          `latency ${nodesName(size)} · ${system} ${clients} clients ` +
            `${LATENCY_OPERATION_NAMES[result.operation]}: ${rounded(result.operationsPerSecond)} ops/s, ` +
            `p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms, ${result.errors} errors`,
        );
      });
    }
    for (const operation of LATENCY_OPERATIONS) {
      const synod = results.synod?.find((result) => result.operation === operation);
      const etcd = results.etcd?.find((result) => result.operation === operation);
      const errors = (synod?.errors ?? 0) + (etcd?.errors ?? 0);
      const failure =
        errors > 0 ? { failure: `failed calls: synod ${synod?.errors}, etcd ${etcd?.errors}` } : {};
      const base = `${LATENCY_OPERATION_NAMES[operation]}, ${clients} clients, ${nodesName(size)}:`;
      const figure = (suffix: string, unit: Figure['unit'], pick: (result: LatencyResult) => number) =>
        addFigure(context, {
          part: 'latency',
          name: `${base} ${suffix}`,
          unit,
          synod: synod && pick(synod),
          etcd: etcd && pick(etcd),
          ...failure,
        });
      figure('p50', 'ms', (result) => result.p50Ms);
      figure('p99', 'ms', (result) => result.p99Ms);
      figure('rate', 'ops/s', (result) => result.operationsPerSecond);
    }
  }
}

// ---- failover: SIGKILL the leader, time the first write on the new one ----

export async function runFailoverPart(context: BenchContext, clusters: Clusters): Promise<void> {
  const repeats = context.plan.failoverRepeats;
  const times: Record<System, number[]> = { synod: [], etcd: [] };
  const failures: string[] = [];
  for (const system of SYSTEMS) {
    try {
      await measureFailovers(clusters[system], repeats, (run, index) => {
        times[system].push(run.firstWriteMs);
        record(context, 'failover', { system, ...run });
        context.progress(
          `failover · ${system} ${index + 1}/${repeats}: killed leader ${run.killedLeader}, first write ` +
            `${run.firstWriteMs.toFixed(0)} ms later (new leader ${run.newLeader}); restarting ${run.killedLeader}`,
        );
      });
    } catch (error) {
      failures.push(`${system}: ${(error as Error).message}`);
      context.progress(`failover · ${system} FAILED: ${(error as Error).message}`);
    }
  }
  const failure = failures.length > 0 ? { failure: failures.join('; ') } : {};
  const name = (statistic: string) =>
    `failover 3 nodes: leader SIGKILL → first write, ${statistic} (${times.synod.length}/${times.etcd.length} runs)`;
  const statistic = (values: number[], of: (values: number[]) => number) =>
    values.length > 0 ? of(values) : undefined;
  for (const [label, of] of [
    ['median', median],
    ['max', (values: number[]) => Math.max(...values)],
  ] as const) {
    addFigure(context, {
      part: 'failover',
      name: name(label),
      unit: 'ms',
      synod: statistic(times.synod, of),
      etcd: statistic(times.etcd, of),
      ...failure,
    });
  }
  const met = median(times.synod) < FAILOVER_GOAL_MS ? 'met' : 'not met';
  const timeouts = context.electionTimeoutMs;
  context.report(
    `failover goal < ${FAILOVER_GOAL_MS} ms: ${met} by synod. Election timeout T: synod ${timeouts.synod} ms, ` +
      `etcd ${timeouts.etcd} ms. Both follow Raft: a follower campaigns after a randomized [T, 2T) without ` +
      'hearing from the leader, so the goal needs a lower T or an earlier sign of a dead leader.',
  );
}

// ---- profile: where Synod's leader spends its CPU under the 16×8 put load ----

export async function runProfilePart(context: BenchContext, size: number): Promise<void> {
  const profileDir = join(context.rootDir, 'profiles');
  mkdirSync(profileDir, { recursive: true });
  const profileOf = (name: string) => join(profileDir, `${name}.cpuprofile`);
  const cluster = await MemberCluster.create({
    system: 'synod',
    size,
    rootDir: context.rootDir,
    memberEnv: (name) => ({ ...context.options.synodEnv, SYNOD_CPU_PROFILE: profileOf(name) }),
  });
  try {
    context.progress(`profile: starting synod (${nodesName(size)}) with SYNOD_CPU_PROFILE`);
    await cluster.startAll();
    const leader = await cluster.leader();
    const load = PUT_LOADS[0]!;
    const url = leader.clientUrl;
    const rate = await warmUp(
      context.plan.putWarmupRequests,
      context.plan.putWarmupSeconds,
      async (count) => {
        const run = await runPutLoad(context.putBody, url, url, count, load);
        await compactHistory(url);
        return run;
      },
    );
    const requests = requestsFor(rate, context.plan.profileRunSeconds);
    rmSync(await cutProfile(leader, profileOf(leader.name))); // start-up and warm-up: not wanted
    const run = await runPutLoad(context.putBody, url, url, requests, load);
    const profile = await cutProfile(leader, profileOf(leader.name));
    mkdirSync(context.resultsDir, { recursive: true });
    const kept = join(context.resultsDir, `synod-leader-${context.stamp}.cpuprofile`);
    copyFileSync(profile, kept);
    context.progress(
      `profile: ${rounded(requests)} puts ${loadName(load)} at ${rounded(run.putsPerSecond)} puts/s under ` +
        `the profiler${run.verified ? ', verified' : ` FAILED: ${run.failure}`}`,
    );
    if (!run.verified) context.failures.push(`profile run: ${run.failure}`);
    const summary = summariseCpuProfile(JSON.parse(readFileSync(kept, 'utf8')), REPO_ROOT);
    context.report('');
    context.report(
      `CPU profile of synod's leader (${leader.name}, ${nodesName(size)}) during the ${loadName(load)} put load:`,
    );
    for (const line of formatProfile(summary)) context.report(line);
    context.report(`profile: ${kept} (open in Chrome DevTools › Performance, or speedscope)`);
    record(context, 'profile', { file: kept, leader: leader.name, run, summary });
  } finally {
    await cluster.stop();
    cluster.removeData();
  }
}

/** SIGUSR2 makes the member write the samples since the last cut; waits for the file. */
async function cutProfile(member: ClusterMember, file: string): Promise<string> {
  rmSync(file, { force: true });
  if (!member.process) throw new Error(`${member.name} is not running`);
  member.process.kill('SIGUSR2');
  const deadline = performance.now() + PROFILE_WRITE_TIMEOUT_MS;
  while (!existsSync(file)) {
    if (performance.now() > deadline)
      throw new Error(`${member.name} wrote no CPU profile ${PROFILE_WRITE_TIMEOUT_MS} ms after SIGUSR2`);
    await sleep(50);
  }
  return file;
}
