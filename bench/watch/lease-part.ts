// Part 2, many leases: for each system, a fresh 3-member cluster; its idle CPU and RSS first (the
// baseline), then N leases granted through the leader, then keep-alives at the clients' rate for a
// fixed window while the members' CPU (user + system, % of one core) and RSS are sampled. Checked:
// every keep-alive answered with a live lease, and every lease still listed by the leader.
import type { MemberCluster, System } from '../kv/member-cluster.js';
import { sleep } from './clock.js';
import { addFigure, record, type WatchBenchContext, withCluster } from './context.js';
import type { Figure } from './figures.js';
import {
  countLiveLeases,
  type GrantRun,
  grantLeases,
  type KeepAliveRun,
  keepLeasesAlive,
} from './lease-load.js';
import type { LeasePlan } from './options.js';
import { UsageSampler, type UsageSummary } from './proc-usage.js';

const BYTES_PER_MIB = 1024 * 1024;
const PROGRESS_EVERY_MS = 5_000;

export interface LeaseRun {
  readonly leases: number;
  readonly leader: string;
  /** The leader at the end; a change means the figures mix two leaders. */
  readonly leaderAfter: string;
  readonly idle: Record<string, UsageSummary>;
  readonly loaded: Record<string, UsageSummary>;
  readonly grant: Omit<GrantRun, 'ids'>;
  readonly keepAlive: KeepAliveRun;
  readonly leasesAlive: number;
  readonly failures: string[];
}

async function runLeases(
  cluster: MemberCluster,
  plan: LeasePlan,
  progress: (message: string) => void,
): Promise<LeaseRun> {
  const label = `leases ${cluster.system}`;
  const leader = await cluster.leader();
  const processes = cluster.liveMembers().map((member) => ({ name: member.name, pid: member.process!.pid! }));
  progress(`${label}: idle baseline for ${plan.idleSeconds} s (leader ${leader.name})`);
  const idleSampler = new UsageSampler(processes);
  idleSampler.start();
  await sleep(plan.idleSeconds * 1000);
  const idle = idleSampler.stop();
  const { ids, ...grant } = await grantLeases(
    leader.clientUrl,
    plan.leases,
    plan.ttlSeconds,
    plan.grantConcurrency,
  );
  progress(
    `${label}: ${ids.length.toLocaleString('en-US')} leases granted in ${grant.seconds.toFixed(1)} s ` +
      `(${Math.round(grant.grantsPerSecond)}/s); keeping them alive for ${plan.measureSeconds} s`,
  );
  const sampler = new UsageSampler(processes);
  sampler.start();
  const ticker = setInterval(() => {
    progress(`${label}: member CPU ${sampler.latest()}`);
  }, PROGRESS_EVERY_MS);
  let keepAlive: KeepAliveRun;
  try {
    const urls = cluster.members.map((member) => member.clientUrl);
    keepAlive = await keepLeasesAlive(urls, ids, plan.ttlSeconds, plan.keepAliveStreams, plan.measureSeconds);
  } finally {
    clearInterval(ticker);
  }
  const loaded = sampler.stop();
  const leaderAfter = await cluster.leader();
  const leasesAlive = await countLiveLeases(leaderAfter.clientUrl, ids);
  const run = {
    leases: plan.leases,
    leader: leader.name,
    leaderAfter: leaderAfter.name,
    idle,
    loaded,
    grant,
    keepAlive,
    leasesAlive,
  };
  return { ...run, failures: leaseFailures(run) };
}

function leaseFailures(run: Omit<LeaseRun, 'failures'>): string[] {
  const { keepAlive } = run;
  return [
    run.grant.failed > 0 ? `${run.grant.failed} grants failed: ${run.grant.firstFailure}` : '',
    keepAlive.expiredAnswers > 0 ? `${keepAlive.expiredAnswers} keep-alives found the lease expired` : '',
    keepAlive.unanswered > 0 ? `${keepAlive.unanswered} keep-alives unanswered` : '',
    run.leasesAlive < run.leases ? `only ${run.leasesAlive}/${run.leases} leases alive at the end` : '',
    run.leader !== run.leaderAfter ? `the leader changed (${run.leader} → ${run.leaderAfter})` : '',
    ...keepAlive.streamFailures.slice(0, 3),
  ].filter((failure) => failure !== '');
}

/** Runs the lease load on each system in turn (etcd first) and adds the figures. */
export async function runLeasePart(context: WatchBenchContext): Promise<void> {
  const plan = context.options.plan.leases;
  const runs: Partial<Record<System, LeaseRun>> = {};
  // etcd first here (synod first in the fan-out part), so neither always runs on a warmer machine.
  for (const system of [...context.options.systems].reverse()) {
    await withCluster(context, 'leases', system, async (cluster) => {
      const run = await runLeases(cluster, plan, context.progress);
      runs[system] = run;
      record(context, 'leases', { system, ...run });
      context.progress(describeRun(system, run));
      if (run.failures.length > 0) context.failures.push(`leases ${system}: ${run.failures.join('; ')}`);
    });
  }
  addLeaseFigures(context, runs);
}

function addLeaseFigures(context: WatchBenchContext, runs: Partial<Record<System, LeaseRun>>): void {
  const plan = context.options.plan.leases;
  const failed = (['synod', 'etcd'] as const)
    .filter((system) => (runs[system]?.failures.length ?? 0) > 0)
    .map((system) => `${system}: ${runs[system]!.failures.join('; ')}`);
  const leases = `${plan.leases.toLocaleString('en-US')} leases kept alive`;
  const figure = (
    name: string,
    unit: Figure['unit'],
    better: Figure['better'],
    pick: (run: LeaseRun) => number,
  ) =>
    addFigure(context, {
      part: 'leases',
      name,
      unit,
      better,
      synod: runs.synod && pick(runs.synod),
      etcd: runs.etcd && pick(runs.etcd),
      ...(failed.length > 0 ? { failure: failed.join('; ') } : {}),
    });
  figure('idle cluster: leader CPU', '% of a core', 'lower', (run) => leaderOf(run, run.idle).cpuPercent);
  figure(
    'idle cluster: leader RSS',
    'MiB',
    'lower',
    (run) => leaderOf(run, run.idle).rssBytesMax / BYTES_PER_MIB,
  );
  figure(`${leases}: leader CPU`, '% of a core', 'lower', (run) => leaderOf(run, run.loaded).cpuPercent);
  figure(`${leases}: follower CPU (mean)`, '% of a core', 'lower', (run) =>
    mean(followersOf(run, run.loaded).map((usage) => usage.cpuPercent)),
  );
  figure(
    `${leases}: leader RSS (max)`,
    'MiB',
    'lower',
    (run) => leaderOf(run, run.loaded).rssBytesMax / BYTES_PER_MIB,
  );
  figure(`${leases}: follower RSS (max, mean)`, 'MiB', 'lower', (run) =>
    mean(followersOf(run, run.loaded).map((usage) => usage.rssBytesMax / BYTES_PER_MIB)),
  );
  figure(`${leases}: keep-alive answer p50`, 'ms', 'lower', (run) => run.keepAlive.answerP50Ms);
  figure(`${leases}: keep-alive answer p99`, 'ms', 'lower', (run) => run.keepAlive.answerP99Ms);
  figure(
    `grants (${plan.grantConcurrency} in flight, to the leader)`,
    'leases/s',
    'higher',
    (run) => run.grant.grantsPerSecond,
  );
}

function leaderOf(run: LeaseRun, usage: Record<string, UsageSummary>): UsageSummary {
  const leader = usage[run.leader];
  if (!leader) throw new Error(`no CPU/RSS samples of the leader ${run.leader}`);
  return leader;
}

function followersOf(run: LeaseRun, usage: Record<string, UsageSummary>): UsageSummary[] {
  return Object.entries(usage)
    .filter(([name]) => name !== run.leader)
    .map(([, summary]) => summary);
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((total, value) => total + value, 0) / values.length;
}

function describeRun(system: System, run: LeaseRun): string {
  const usage = (summaries: Record<string, UsageSummary>) =>
    Object.entries(summaries)
      .map(
        ([name, summary]) =>
          `${name}${name === run.leader ? '*' : ''} CPU ${summary.cpuPercent.toFixed(1)}% (${summary.runQueueWaitPercent.toFixed(0)}% waiting) ${(summary.rssBytesMax / BYTES_PER_MIB).toFixed(0)} MiB`,
      )
      .join(', ');
  const { keepAlive } = run;
  return (
    `leases ${system}: ${run.failures.length === 0 ? 'every keep-alive answered, every lease alive' : `CHECK FAILED (${run.failures.join('; ')})`}; ` +
    `idle ${usage(run.idle)}; with leases ${usage(run.loaded)} (* leader); ` +
    `${keepAlive.sent.toLocaleString('en-US')} keep-alives at ${keepAlive.sendRate.toFixed(0)}/s over ${keepAlive.streams} streams, ` +
    `answer p50 ${keepAlive.answerP50Ms.toFixed(2)} ms p99 ${keepAlive.answerP99Ms.toFixed(2)} ms; ` +
    `${run.leasesAlive}/${run.leases} leases alive`
  );
}
