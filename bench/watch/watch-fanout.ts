// One fan-out run: watcher threads open the watch connections (round-robin over the members) and
// create every watch on the prefix; then one writer puts to the leader at a fixed rate; then every
// watcher must receive every put exactly once, in revision order, within the drain timeout.
// Measured: put-to-delivery latency, delivered events/s, the members' CPU, the client threads' ELU.
import { Worker } from 'node:worker_threads';
import { RawEtcdClient } from '../../packages/server/src/e2e/grpc-client.js';
import type { MemberCluster } from '../kv/member-cluster.js';
import { monotonicMs } from './clock.js';
import type {
  FromWatcherThread,
  ToWatcherThread,
  WatchConnectionTarget,
  WatcherThreadSetup,
  WatcherThreadSummary,
} from './fanout-messages.js';
import { type HistogramData, LatencyHistogram } from './latency-histogram.js';
import type { FanoutPlan } from './options.js';
import { UsageSampler, type UsageSummary } from './proc-usage.js';
import { type WriterRun, writeAtRate } from './put-writer.js';

const WATCHER_THREAD = new URL('./watcher-thread-entry.mjs', import.meta.url);
/** Creating every watch (and connecting) must take less than this. */
const CREATE_TIMEOUT_MS = 30_000;
const SUMMARY_TIMEOUT_MS = 10_000;
const STATUS_TIMEOUT_MS = 10_000;
/** A progress line at most this often. */
const PROGRESS_EVERY_MS = 2_000;
/** Above this event-loop utilisation a client thread is the bottleneck (its latencies include queueing). */
export const CLIENT_SATURATED_ELU = 0.9;

export interface FanoutRun {
  readonly putsPerSecond: number;
  readonly watchers: number;
  readonly writer: WriterRun;
  /** Events every watcher should have received: the puts the store applied. */
  readonly expectedPerWatcher: number;
  readonly delivered: number;
  readonly watchersComplete: number;
  readonly orderViolations: number;
  readonly foreignEvents: number;
  readonly canceledWatches: number;
  /** Delivered events / (last delivery − first put), events/s. */
  readonly deliveredPerSecond: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  readonly latencyMaxMs: number;
  readonly latencyByMember: Record<string, { p50Ms: number; p99Ms: number; events: number }>;
  /** Whether every watcher got every event once and in order before the drain timeout. */
  readonly exactlyOnceInOrder: boolean;
  /** Member CPU-seconds (all members) per million events delivered. */
  readonly memberCpuSecondsPerMillionEvents: number;
  readonly drainMs: number;
  readonly client: ClientLoad;
  readonly memberUsage: Record<string, UsageSummary>;
  readonly leader: string;
  readonly failures: string[];
}

/** What the bench client itself used: if it is saturated, it limits the figures. */
export interface ClientLoad {
  /** Event-loop utilisation of each watcher thread over the run. */
  readonly threadElu: number[];
  /** CPU of the whole bench process (writer and watcher threads), % of one core. */
  readonly cpuPercent: number;
}

export interface FanoutTarget {
  readonly cluster: MemberCluster;
  readonly prefix: string;
}

/** Threads and their messages: spawn, wait for a kind of message, command, terminate. */
class WatcherThreads {
  readonly workers: Worker[] = [];
  readonly failures: string[] = [];
  private readonly waiters = new Set<() => void>();
  readonly latest = new Map<Worker, FromWatcherThread[]>();

  constructor(setups: readonly WatcherThreadSetup[]) {
    for (const setup of setups) {
      const worker = new Worker(WATCHER_THREAD, { workerData: setup });
      this.latest.set(worker, []);
      worker.on('message', (message: FromWatcherThread) => {
        if (message.kind === 'failed') this.failures.push(message.message);
        const kept = this.latest.get(worker)!.filter((old) => old.kind !== message.kind);
        this.latest.set(worker, [...kept, message]);
        this.wake();
      });
      worker.on('error', (error) => {
        this.failures.push(`watcher thread crashed: ${error.stack ?? error.message}`);
        this.wake();
      });
      this.workers.push(worker);
    }
  }

  private wake(): void {
    for (const waiter of this.waiters) waiter();
  }

  /** The message of `kind` from every thread; undefined on timeout or failure. */
  async all<K extends FromWatcherThread['kind']>(
    kind: K,
    timeoutMs: number,
  ): Promise<Extract<FromWatcherThread, { kind: K }>[] | undefined> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = this.workers.map((worker) => this.latest.get(worker)!.find((m) => m.kind === kind));
      if (found.every((message) => message !== undefined))
        return found as Extract<FromWatcherThread, { kind: K }>[];
      const remainingMs = deadline - performance.now();
      if (this.failures.length > 0 || remainingMs <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, remainingMs);
        this.waiters.add(done);
      });
    }
  }

  send(command: ToWatcherThread): void {
    for (const worker of this.workers) worker.postMessage(command);
  }

  progress(): { delivered: number; eventsPerWatcherMin: number } {
    let delivered = 0;
    let eventsPerWatcherMin = Number.POSITIVE_INFINITY;
    for (const worker of this.workers) {
      const message = this.latest.get(worker)!.find((m) => m.kind === 'progress');
      if (message?.kind !== 'progress') return { delivered, eventsPerWatcherMin: 0 };
      delivered += message.delivered;
      eventsPerWatcherMin = Math.min(eventsPerWatcherMin, message.eventsPerWatcherMin);
    }
    return { delivered, eventsPerWatcherMin };
  }

  async terminate(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}

/** How the connections, and so the watches, are spread over the members and the threads. */
function threadSetups(cluster: MemberCluster, plan: FanoutPlan, prefix: string): WatcherThreadSetup[] {
  const members = cluster.members;
  const targets: WatchConnectionTarget[] = Array.from({ length: plan.connections }, (_, index) => {
    const member = members[index % members.length]!;
    return { url: member.clientUrl, member: member.name };
  });
  const threads = Math.min(plan.clientThreads, plan.connections);
  return Array.from({ length: threads }, (_, thread) => ({
    connections: targets.filter((_, index) => index % threads === thread),
    streamsPerConnection: plan.streamsPerConnection,
    watchesPerStream: plan.watchers / (plan.connections * plan.streamsPerConnection),
    prefix,
  }));
}

/**
 * Runs one rate against `target.cluster`.
 *
 * @example
 * const run = await runFanout({ cluster, prefix: '/bench/watch/200/' }, plan, 200, progress);
 */
export async function runFanout(
  target: FanoutTarget,
  plan: FanoutPlan,
  putsPerSecond: number,
  progress: (message: string) => void,
): Promise<FanoutRun> {
  const { cluster, prefix } = target;
  const label = `${cluster.system} ${putsPerSecond} puts/s`;
  const leader = await cluster.leader();
  const threads = new WatcherThreads(threadSetups(cluster, plan, prefix));
  const sampler = new UsageSampler(
    cluster.liveMembers().map((member) => ({ name: member.name, pid: member.process!.pid! })),
  );
  try {
    const created = await threads.all('created', CREATE_TIMEOUT_MS);
    if (!created)
      throw new Error(`watches not created: ${threads.failures[0] ?? `timeout ${CREATE_TIMEOUT_MS} ms`}`);
    progress(`${label}: ${plan.watchers} watches created; writing for ${plan.writeSeconds} s`);
    const eluStart = threads.workers.map((worker) => worker.performance.eventLoopUtilization());
    const clientCpuStart = process.cpuUsage();
    const clientStartMs = monotonicMs();
    sampler.start();
    const { writer, drainMs, appliedPuts } = await writeAndDrain(
      leader.clientUrl,
      target,
      plan,
      putsPerSecond,
      {
        threads,
        sampler,
        progress: (message) => progress(`${label}: ${message}`),
      },
    );
    const memberUsage = sampler.stop();
    const clientCpu = process.cpuUsage(clientCpuStart);
    const clientCpuPercent =
      ((clientCpu.user + clientCpu.system) / 1000 / (monotonicMs() - clientStartMs)) * 100;
    const clientThreadElu = threads.workers.map(
      (worker, index) => worker.performance.eventLoopUtilization(eluStart[index]!).utilization,
    );
    threads.send({ kind: 'finish' });
    const summaries = await threads.all('summary', SUMMARY_TIMEOUT_MS);
    if (!summaries) throw new Error(`watcher threads gave no summary: ${threads.failures[0] ?? 'timeout'}`);
    return fanoutResult({
      plan,
      writer,
      drainMs,
      appliedPuts,
      summaries: summaries.map((message) => message.summary),
      client: { threadElu: clientThreadElu, cpuPercent: clientCpuPercent },
      memberUsage,
      leader: leader.name,
      failures: threads.failures,
    });
  } finally {
    sampler.stop();
    await threads.terminate();
  }
}

interface RunningClient {
  readonly threads: WatcherThreads;
  readonly sampler: UsageSampler;
  readonly progress: (message: string) => void;
}

/** The writer's run, then the wait until every watcher has every acknowledged put (or the timeout). */
async function writeAndDrain(
  leaderUrl: string,
  target: FanoutTarget,
  plan: FanoutPlan,
  putsPerSecond: number,
  client: RunningClient,
): Promise<{ writer: WriterRun; drainMs: number; appliedPuts: number }> {
  const { threads, sampler, progress } = client;
  const ticker = setInterval(() => {
    const { delivered, eventsPerWatcherMin } = threads.progress();
    progress(
      `delivered ${delivered.toLocaleString('en-US')}, slowest watcher ${eventsPerWatcherMin}; member CPU ${sampler.latest()}`,
    );
  }, PROGRESS_EVERY_MS);
  try {
    const revisionBefore = await storeRevision(leaderUrl);
    const writer = await writeAtRate(leaderUrl, target.prefix, putsPerSecond, plan.writeSeconds);
    // Only the writer writes to the cluster during a run: the revision counts the puts applied,
    // including any whose answer timed out.
    const appliedPuts = (await storeRevision(leaderUrl)) - revisionBefore;
    threads.send({ kind: 'expect', events: appliedPuts });
    const drainStart = monotonicMs();
    const complete = await threads.all('complete', plan.drainTimeoutMs);
    const drainMs = monotonicMs() - drainStart;
    if (!complete) progress(`not every watcher had every event ${drainMs.toFixed(0)} ms after the last put`);
    return { writer, drainMs, appliedPuts };
  } finally {
    clearInterval(ticker);
  }
}

async function storeRevision(url: string): Promise<number> {
  const client = new RawEtcdClient(url);
  try {
    const status = await client.status(STATUS_TIMEOUT_MS);
    if (status.header === undefined) throw new Error(`${url}: Status without a header`);
    return status.header.revision;
  } finally {
    client.close();
  }
}

interface FanoutParts {
  readonly plan: FanoutPlan;
  readonly writer: WriterRun;
  readonly drainMs: number;
  readonly appliedPuts: number;
  readonly summaries: readonly WatcherThreadSummary[];
  readonly client: ClientLoad;
  readonly memberUsage: Record<string, UsageSummary>;
  readonly leader: string;
  readonly failures: string[];
}

function fanoutResult(parts: FanoutParts): FanoutRun {
  const { plan, writer, summaries } = parts;
  const sum = (pick: (summary: WatcherThreadSummary) => number) =>
    summaries.reduce((total, summary) => total + pick(summary), 0);
  const { all, byMember } = mergeLatencies(summaries);
  const lastArrivalMs = Math.max(...summaries.map((summary) => summary.lastArrivalMs));
  const delivered = sum((summary) => summary.delivered);
  const watchersComplete = sum((summary) => summary.watchersComplete);
  const orderViolations = sum((summary) => summary.orderViolations);
  const foreignEvents = sum((summary) => summary.foreignEvents);
  const canceledWatches = sum((summary) => summary.canceledWatches);
  const failures = [...parts.failures, ...summaries.flatMap((summary) => summary.streamFailures)];
  const { appliedPuts } = parts;
  if (writer.failed > 0) failures.push(`${writer.failed} puts failed: ${writer.firstFailure}`);
  else if (appliedPuts !== writer.acknowledged)
    failures.push(
      `the store applied ${appliedPuts} puts; the writer had ${writer.acknowledged} acknowledged`,
    );
  const exactlyOnceInOrder =
    watchersComplete === plan.watchers &&
    orderViolations === 0 &&
    foreignEvents === 0 &&
    canceledWatches === 0 &&
    delivered === plan.watchers * appliedPuts;
  if (!exactlyOnceInOrder)
    failures.unshift(
      checkFailure(plan, parts, { watchersComplete, orderViolations, foreignEvents, canceledWatches }),
    );
  return {
    putsPerSecond: writer.putsPerSecond,
    watchers: plan.watchers,
    writer,
    expectedPerWatcher: appliedPuts,
    delivered,
    watchersComplete,
    orderViolations,
    foreignEvents,
    canceledWatches,
    deliveredPerSecond: delivered / ((lastArrivalMs - writer.firstSentAtMs) / 1000),
    latencyP50Ms: all.quantileUs(0.5) / 1000,
    latencyP99Ms: all.quantileUs(0.99) / 1000,
    latencyMaxMs: all.quantileUs(1) / 1000,
    latencyByMember: Object.fromEntries(
      [...byMember].map(([member, histogram]) => [
        member,
        {
          p50Ms: histogram.quantileUs(0.5) / 1000,
          p99Ms: histogram.quantileUs(0.99) / 1000,
          events: histogram.size,
        },
      ]),
    ),
    exactlyOnceInOrder,
    memberCpuSecondsPerMillionEvents: memberCpuSeconds(parts.memberUsage) / (delivered / 1e6),
    drainMs: parts.drainMs,
    client: parts.client,
    memberUsage: parts.memberUsage,
    leader: parts.leader,
    failures,
  };
}

/** The threads' histograms added up: over all members, and per member. */
function mergeLatencies(summaries: readonly WatcherThreadSummary[]): {
  all: LatencyHistogram;
  byMember: Map<string, LatencyHistogram>;
} {
  const all = new LatencyHistogram();
  const byMember = new Map<string, LatencyHistogram>();
  for (const summary of summaries) {
    for (const [member, data] of Object.entries(summary.latencyByMember) as [string, HistogramData][]) {
      all.add(data);
      const histogram = byMember.get(member) ?? new LatencyHistogram();
      histogram.add(data);
      byMember.set(member, histogram);
    }
  }
  return { all, byMember };
}

function memberCpuSeconds(usage: Record<string, UsageSummary>): number {
  return Object.values(usage).reduce(
    (total, member) => total + (member.cpuPercent / 100) * member.seconds,
    0,
  );
}

interface CheckCounts {
  readonly watchersComplete: number;
  readonly orderViolations: number;
  readonly foreignEvents: number;
  readonly canceledWatches: number;
}

function checkFailure(plan: FanoutPlan, parts: FanoutParts, counts: CheckCounts): string {
  return [
    `${counts.watchersComplete}/${plan.watchers} watchers got exactly the ${parts.appliedPuts} events`,
    counts.orderViolations > 0 ? `${counts.orderViolations} events out of order or repeated` : '',
    counts.foreignEvents > 0 ? `${counts.foreignEvents} unexpected events` : '',
    counts.canceledWatches > 0 ? `${counts.canceledWatches} watches canceled by the server` : '',
  ]
    .filter((problem) => problem !== '')
    .join('; ');
}
