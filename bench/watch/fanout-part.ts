// Part 1, watch fan-out: for each system, a fresh 3-member cluster; for each writer rate, one
// fan-out run (watchers on one prefix, a writer to the leader). Figures per rate: put-to-delivery
// p50 and p99, delivered events/s, and the members' CPU; each run is checked for exactly-once,
// in-order delivery to every watcher.
import type { MemberCluster, System } from '../kv/member-cluster.js';
import { addFigure, record, type WatchBenchContext, withCluster } from './context.js';
import type { Figure } from './figures.js';
import { CLIENT_SATURATED_ELU, type FanoutRun, runFanout } from './watch-fanout.js';

/** The writer is "not keeping its rate" below this fraction of it. */
const WRITER_RATE_FRACTION_MIN = 0.95;
const BYTES_PER_MIB = 1024 * 1024;

/** Runs every fan-out rate on each system in turn and adds the figures, rate by rate. */
export async function runFanoutPart(context: WatchBenchContext): Promise<void> {
  const plan = context.options.plan.fanout;
  const runs: Record<System, Map<number, FanoutRun>> = { synod: new Map(), etcd: new Map() };
  const failures: Record<System, Map<number, string>> = { synod: new Map(), etcd: new Map() };
  for (const system of context.options.systems) {
    await withCluster(context, 'fanout', system, async (cluster) => {
      await warmUp(context, cluster, system);
      for (const rate of plan.putsPerSecond) {
        try {
          const run = await runFanout(
            { cluster, prefix: `/bench/watch/${rate}/` },
            plan,
            rate,
            context.progress,
          );
          runs[system].set(rate, run);
          record(context, 'fanout', { system, ...run });
          context.progress(describeRun(system, run));
          if (run.failures.length > 0) failures[system].set(rate, run.failures.slice(0, 3).join('; '));
        } catch (error) {
          failures[system].set(rate, (error as Error).message);
          context.failures.push(`fanout ${system} ${rate} puts/s: ${(error as Error).message}`);
          context.progress(`fanout ${system} ${rate} puts/s FAILED: ${(error as Error).message}`);
        }
      }
    });
  }
  for (const rate of plan.putsPerSecond) addRateFigures(context, rate, runs, failures);
}

/** The plan's unmeasured warm-up run (see FanoutPlan.warmupSeconds); a failure here is reported, not fatal. */
async function warmUp(context: WatchBenchContext, cluster: MemberCluster, system: System): Promise<void> {
  const plan = context.options.plan.fanout;
  if (plan.warmupSeconds <= 0) return;
  const rate = Math.max(...plan.putsPerSecond);
  context.progress(`fanout ${system}: warming up (unmeasured) at ${rate} puts/s for ${plan.warmupSeconds} s`);
  try {
    const run = await runFanout(
      { cluster, prefix: '/bench/watch/warmup/' },
      { ...plan, writeSeconds: plan.warmupSeconds },
      rate,
      () => {},
    );
    if (run.failures.length > 0)
      context.progress(`fanout ${system} warm-up: ${run.failures.slice(0, 3).join('; ')}`);
  } catch (error) {
    context.progress(`fanout ${system} warm-up failed: ${(error as Error).message}`);
  }
}

function addRateFigures(
  context: WatchBenchContext,
  rate: number,
  runs: Record<System, Map<number, FanoutRun>>,
  failures: Record<System, Map<number, string>>,
): void {
  const plan = context.options.plan.fanout;
  const synod = runs.synod.get(rate);
  const etcd = runs.etcd.get(rate);
  const failed = (['synod', 'etcd'] as const)
    .filter((system) => failures[system].has(rate))
    .map((system) => `${system}: ${failures[system].get(rate)}`);
  const base = `${rate} puts/s × ${plan.watchers.toLocaleString('en-US')} watchers`;
  const figure = (
    name: string,
    unit: Figure['unit'],
    better: Figure['better'],
    pick: (run: FanoutRun) => number,
  ) =>
    addFigure(context, {
      part: 'fanout',
      name: `${base}: ${name}`,
      unit,
      better,
      synod: synod && pick(synod),
      etcd: etcd && pick(etcd),
      ...(failed.length > 0 ? { failure: failed.join('; ') } : {}),
    });
  figure('put→delivery p50', 'ms', 'lower', (run) => run.latencyP50Ms);
  figure('put→delivery p99', 'ms', 'lower', (run) => run.latencyP99Ms);
  figure('delivered events/s', 'events/s', 'higher', (run) => run.deliveredPerSecond);
  // Delivery cannot beat the put's own commit: this shows how much of the latency is the write.
  figure('put p50 (the writer, to the leader)', 'ms', 'lower', (run) => run.writer.putLatencyP50Ms);
  figure(
    'CPU of the 3 members per million events',
    'CPU s/M events',
    'lower',
    (run) => run.memberCpuSecondsPerMillionEvents,
  );
}

/** The progress line after a run: the check, and whatever may have limited the figures. */
function describeRun(system: System, run: FanoutRun): string {
  const elu = run.client.threadElu.map((value) => value.toFixed(2)).join('/');
  const limits: string[] = [];
  if (run.writer.sendRate < WRITER_RATE_FRACTION_MIN * run.putsPerSecond)
    limits.push(
      `puts answered too slowly for the rate (in-flight bound reached ${run.writer.inFlightStalls} times): the writer reached ${run.writer.sendRate.toFixed(0)} puts/s`,
    );
  if (run.client.threadElu.some((value) => value > CLIENT_SATURATED_ELU))
    limits.push('a watcher thread was saturated (latencies include client queueing)');
  const usage = Object.entries(run.memberUsage)
    .map(
      ([name, member]) =>
        `${name} CPU ${member.cpuPercent.toFixed(0)}% (${member.runQueueWaitPercent.toFixed(0)}% waiting for a CPU) ${(member.rssBytesMax / BYTES_PER_MIB).toFixed(0)} MiB`,
    )
    .join(', ');
  const byMember = Object.entries(run.latencyByMember)
    .sort(([left], [right]) => left.localeCompare(right))
    .map(
      ([name, member]) =>
        `${name}${name === run.leader ? '*' : ''} ${member.p50Ms.toFixed(1)}/${member.p99Ms.toFixed(1)}`,
    )
    .join(' ');
  return (
    `fanout ${system} ${run.putsPerSecond} puts/s: ${run.exactlyOnceInOrder ? 'every watcher got every event once, in order' : 'CHECK FAILED'}${run.failures.length > 0 ? ` (${run.failures.slice(0, 3).join('; ')})` : ''}; ` +
    `${run.delivered.toLocaleString('en-US')} events, ${Math.round(run.deliveredPerSecond).toLocaleString('en-US')}/s, ` +
    `p50 ${run.latencyP50Ms.toFixed(1)} ms p99 ${run.latencyP99Ms.toFixed(1)} ms max ${run.latencyMaxMs.toFixed(0)} ms ` +
    `(p50/p99 ms by member, * leader: ${byMember}); ` +
    `puts p50 ${run.writer.putLatencyP50Ms.toFixed(1)} ms, drain ${run.drainMs.toFixed(0)} ms; leader ${run.leader}; ` +
    `members ${usage}; client CPU ${run.client.cpuPercent.toFixed(0)}%, thread ELU ${elu}` +
    (limits.length > 0 ? `; LIMITED BY: ${limits.join(', ')}` : '')
  );
}
