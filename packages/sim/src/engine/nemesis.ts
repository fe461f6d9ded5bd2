/**
 * The nemesis: a seeded plan of faults for one run, generated up front so a run's faults are
 * data (printable, replayable, shrinkable) rather than decisions made along the way.
 *
 * Each fault family is planned on its own track with its own fork of the Prng, so enabling one
 * family never changes another's schedule. Rules that keep runs meaningful:
 * - at most one partition at a time; each heals after a bounded random time;
 * - at most `maxCrashedNodes` nodes down at once (default: a minority); every crash is followed
 *   by a restart of the same node;
 * - a degraded network (loss, duplication, reordering) returns to `calmNetwork` after a while;
 * - nothing new goes wrong at or after `quiesceAtMs`: every partition is healed, every node
 *   restarted, the network calmed and clock drift stopped by then, so the tail of the run tests
 *   liveness (a correct cluster must make progress).
 */
import type { EventLoop, TimerId } from './event-loop.js';
import type { LatencyDistribution } from './latency.js';
import { defaultNetworkConfig, type NetworkConditions } from './network.js';
import {
  type DirectedLink,
  type Partition,
  type PartitionShape,
  partitionBridge,
  partitionHalves,
  partitionIsolate,
  partitionMajorityMinority,
  partitionOneWay,
} from './partition.js';
import type { Prng } from './prng.js';

export type NemesisKind = 'partition' | 'crash' | 'loss' | 'duplicate' | 'reorder' | 'clock-skew';

export const allNemesisKinds: readonly NemesisKind[] = [
  'partition',
  'crash',
  'loss',
  'duplicate',
  'reorder',
  'clock-skew',
];

export type NemesisAction =
  | {
      readonly atMs: number;
      readonly kind: 'partition';
      readonly shape: PartitionShape;
      readonly description: string;
      readonly blockedLinks: readonly DirectedLink[];
    }
  | { readonly atMs: number; readonly kind: 'heal' }
  | { readonly atMs: number; readonly kind: 'crash'; readonly node: string }
  | { readonly atMs: number; readonly kind: 'restart'; readonly node: string }
  | {
      readonly atMs: number;
      readonly kind: 'clock';
      readonly node: string;
      readonly offsetMs: number;
      readonly driftPpm: number;
    }
  | ({ readonly atMs: number; readonly kind: 'network' } & NetworkConditions);

export interface DurationRangeMs {
  readonly minMs: number;
  readonly maxMs: number;
}

export interface NemesisOptions {
  readonly nodes: readonly string[];
  readonly durationMs: number;
  readonly kinds: readonly NemesisKind[] | 'all';
  /** 0 = no faults; 1 = a new fault of each kind every `meanFaultGapMs` on average; up to 10. */
  readonly intensity: number;
  /** No new faults from here on. Default: 70% of `durationMs`. */
  readonly quiesceAtMs?: number;
  /** Default: a minority, ⌊(n − 1)/2⌋. */
  readonly maxCrashedNodes?: number;
  /** Mean calm time between two faults of one kind at intensity 1. Default 2 000 ms. */
  readonly meanFaultGapMs?: number;
  /** Default 300–4 000 ms. */
  readonly partitionDurationMs?: DurationRangeMs;
  /** Default 300–4 000 ms. */
  readonly crashDowntimeMs?: DurationRangeMs;
  /** Default 500–4 000 ms. */
  readonly degradedNetworkDurationMs?: DurationRangeMs;
  /** The network outside degraded periods. Default: `defaultNetworkConfig`'s conditions. */
  readonly calmNetwork?: NetworkConditions;
  /** Clock offsets are drawn from ±this. Default 1 000 ms. */
  readonly maxClockOffsetMs?: number;
  /** Clock drifts are drawn from ±this. Default 500 ppm. */
  readonly maxClockDriftPpm?: number;
}

/** Upper bound on intensity: beyond it faults overlap so densely that runs test nothing. */
export const maxNemesisIntensity = 10;
/** Upper bound on faults per track, so a tiny gap cannot make a plan unbounded. */
export const maxFaultsPerTrack = 10_000;
/** A degraded network's worst settings: past these nothing gets through and liveness is moot. */
export const maxDegradedLoss = 0.3;
export const maxDegradedDuplication = 0.3;
export const maxDegradedReorderProbability = 0.5;
/** Reordered messages wait up to this many times the calm latency ceiling extra. */
const reorderDelayFactor = 2;

interface ResolvedOptions {
  readonly nodes: readonly string[];
  readonly kinds: ReadonlySet<NemesisKind>;
  readonly quiesceAtMs: number;
  readonly maxCrashedNodes: number;
  readonly meanGapMs: number;
  readonly partitionDurationMs: DurationRangeMs;
  readonly crashDowntimeMs: DurationRangeMs;
  readonly degradedNetworkDurationMs: DurationRangeMs;
  readonly calmNetwork: NetworkConditions;
  readonly maxClockOffsetMs: number;
  readonly maxClockDriftPpm: number;
}

/** Recovery sorts before a fault at the same millisecond, so a heal never cancels a new partition. */
type Phase = 'recover' | 'fault';

interface PlannedAction {
  readonly action: NemesisAction;
  readonly phase: Phase;
}

function validateRange(range: DurationRangeMs, what: string): void {
  if (!(range.minMs >= 1 && range.maxMs >= range.minMs && Number.isFinite(range.maxMs))) {
    throw new RangeError(`nemesis ${what} needs 1 ≤ minMs ≤ maxMs (finite), got ${JSON.stringify(range)}`);
  }
}

/** Just the condition fields, so actions do not carry unrelated settings along. */
function conditionsOf({ latency, loss, duplication, reorder }: NetworkConditions): NetworkConditions {
  return { latency, loss, duplication, reorder };
}

function resolveOptions(options: NemesisOptions): ResolvedOptions {
  const { nodes, durationMs, intensity } = options;
  if (nodes.length === 0 || new Set(nodes).size !== nodes.length) {
    throw new RangeError(`nemesis needs distinct node ids, got [${nodes.join(', ')}]`);
  }
  if (!(durationMs > 0 && Number.isFinite(durationMs))) {
    throw new RangeError(`nemesis durationMs must be finite and > 0, got ${durationMs}`);
  }
  if (!(intensity >= 0 && intensity <= maxNemesisIntensity)) {
    throw new RangeError(`nemesis intensity must be in [0, ${maxNemesisIntensity}], got ${intensity}`);
  }
  const quiesceAtMs = options.quiesceAtMs ?? Math.round(durationMs * 0.7);
  if (!(quiesceAtMs >= 0 && quiesceAtMs <= durationMs)) {
    throw new RangeError(`nemesis quiesceAtMs must be within [0, durationMs], got ${quiesceAtMs}`);
  }
  const maxCrashedNodes = options.maxCrashedNodes ?? Math.floor((nodes.length - 1) / 2);
  if (!(Number.isInteger(maxCrashedNodes) && maxCrashedNodes >= 0 && maxCrashedNodes <= nodes.length)) {
    throw new RangeError(
      `nemesis maxCrashedNodes must be an integer in [0, ${nodes.length}], got ${maxCrashedNodes}`,
    );
  }
  const resolved: ResolvedOptions = {
    nodes,
    kinds: new Set(options.kinds === 'all' ? allNemesisKinds : options.kinds),
    quiesceAtMs,
    maxCrashedNodes,
    meanGapMs: (options.meanFaultGapMs ?? 2_000) / intensity,
    partitionDurationMs: options.partitionDurationMs ?? { minMs: 300, maxMs: 4_000 },
    crashDowntimeMs: options.crashDowntimeMs ?? { minMs: 300, maxMs: 4_000 },
    degradedNetworkDurationMs: options.degradedNetworkDurationMs ?? { minMs: 500, maxMs: 4_000 },
    calmNetwork: conditionsOf(options.calmNetwork ?? defaultNetworkConfig),
    maxClockOffsetMs: options.maxClockOffsetMs ?? 1_000,
    maxClockDriftPpm: options.maxClockDriftPpm ?? 500,
  };
  validateRange(resolved.partitionDurationMs, 'partitionDurationMs');
  validateRange(resolved.crashDowntimeMs, 'crashDowntimeMs');
  validateRange(resolved.degradedNetworkDurationMs, 'degradedNetworkDurationMs');
  return resolved;
}

/**
 * One track's fault windows in whole milliseconds: an exponential gap, a fault lasting a random
 * time in `duration` (cut short at quiescence), the next gap, and so on until quiescence.
 */
function* faultWindows(
  random: Prng,
  options: ResolvedOptions,
  duration: DurationRangeMs,
): Generator<{ startMs: number; endMs: number }> {
  let timeMs = 0;
  for (let fault = 0; fault < maxFaultsPerTrack && Number.isFinite(options.meanGapMs); fault++) {
    const startMs = Math.round(timeMs + random.exponential(options.meanGapMs));
    if (startMs >= options.quiesceAtMs) return;
    const endMs = Math.min(
      options.quiesceAtMs,
      startMs + Math.round(random.range(duration.minMs, duration.maxMs)),
    );
    yield { startMs, endMs };
    timeMs = endMs;
  }
}

function randomPartition(random: Prng, nodes: readonly string[]): Partition {
  const shapes: PartitionShape[] =
    nodes.length >= 3
      ? ['halves', 'majority-minority', 'bridge', 'one-way', 'isolate']
      : ['halves', 'one-way', 'isolate'];
  switch (random.pick(shapes)) {
    case 'halves':
      return partitionHalves(nodes, random);
    case 'majority-minority':
      return partitionMajorityMinority(nodes, random);
    case 'bridge':
      return partitionBridge(nodes, random);
    case 'one-way': {
      const shuffled = random.shuffle([...nodes]);
      const cut = 1 + random.int(shuffled.length - 1);
      return partitionOneWay(shuffled.slice(0, cut), shuffled.slice(cut));
    }
    case 'isolate':
      return partitionIsolate(random.pick(nodes), nodes);
  }
}

function planPartitions(random: Prng, options: ResolvedOptions): PlannedAction[] {
  const planned: PlannedAction[] = [];
  if (options.nodes.length < 2) return planned;
  for (const { startMs, endMs } of faultWindows(random, options, options.partitionDurationMs)) {
    const { shape, description, blockedLinks } = randomPartition(random, options.nodes);
    planned.push({
      phase: 'fault',
      action: { atMs: startMs, kind: 'partition', shape, description, blockedLinks },
    });
    planned.push({ phase: 'recover', action: { atMs: endMs, kind: 'heal' } });
  }
  return planned;
}

function planCrashes(random: Prng, options: ResolvedOptions): PlannedAction[] {
  const planned: PlannedAction[] = [];
  const restartAtMs = new Map<string, number>(); // nodes currently planned down
  let timeMs = 0;
  for (let fault = 0; fault < maxFaultsPerTrack && Number.isFinite(options.meanGapMs); fault++) {
    timeMs += random.exponential(options.meanGapMs);
    const atMs = Math.round(timeMs);
    if (atMs >= options.quiesceAtMs) break;
    for (const [node, upAtMs] of restartAtMs) if (upAtMs < atMs) restartAtMs.delete(node);
    if (restartAtMs.size >= options.maxCrashedNodes) continue;
    const node = random.pick(options.nodes.filter((candidate) => !restartAtMs.has(candidate)));
    const { minMs, maxMs } = options.crashDowntimeMs;
    const upAtMs = Math.min(options.quiesceAtMs, atMs + Math.round(random.range(minMs, maxMs)));
    restartAtMs.set(node, upAtMs);
    planned.push({ phase: 'fault', action: { atMs, kind: 'crash', node } });
    planned.push({ phase: 'recover', action: { atMs: upAtMs, kind: 'restart', node } });
  }
  return planned;
}

function degradedConditions(random: Prng, options: ResolvedOptions): NetworkConditions {
  const { kinds, calmNetwork } = options;
  return {
    latency: calmNetwork.latency,
    loss: kinds.has('loss') ? random.range(0.01, maxDegradedLoss) : calmNetwork.loss,
    duplication: kinds.has('duplicate')
      ? random.range(0.01, maxDegradedDuplication)
      : calmNetwork.duplication,
    reorder: kinds.has('reorder')
      ? {
          probability: random.range(0.05, maxDegradedReorderProbability),
          maxExtraDelayMs: calmNetwork.latency.maxMs * reorderDelayFactor,
        }
      : calmNetwork.reorder,
  };
}

function planNetworkWeather(random: Prng, options: ResolvedOptions): PlannedAction[] {
  const planned: PlannedAction[] = [];
  const { kinds } = options;
  if (!kinds.has('loss') && !kinds.has('duplicate') && !kinds.has('reorder')) return planned;
  for (const { startMs, endMs } of faultWindows(random, options, options.degradedNetworkDurationMs)) {
    const degraded = degradedConditions(random, options);
    planned.push({ phase: 'fault', action: { atMs: startMs, kind: 'network', ...degraded } });
    planned.push({ phase: 'recover', action: { atMs: endMs, kind: 'network', ...options.calmNetwork } });
  }
  return planned;
}

function planClockSkew(random: Prng, options: ResolvedOptions): PlannedAction[] {
  const planned: PlannedAction[] = [];
  const offsetMsByNode = new Map<string, number>(); // nodes whose clock was touched
  let timeMs = 0;
  for (let fault = 0; fault < maxFaultsPerTrack && Number.isFinite(options.meanGapMs); fault++) {
    timeMs += random.exponential(options.meanGapMs);
    const atMs = Math.round(timeMs);
    if (atMs >= options.quiesceAtMs) break;
    const node = random.pick(options.nodes);
    const offsetMs = Math.round(random.range(-options.maxClockOffsetMs, options.maxClockOffsetMs));
    const driftPpm = Math.round(random.range(-options.maxClockDriftPpm, options.maxClockDriftPpm));
    offsetMsByNode.set(node, offsetMs);
    planned.push({ phase: 'fault', action: { atMs, kind: 'clock', node, offsetMs, driftPpm } });
  }
  // Stop drifting for the calm tail; keep the offset (stepping back would stall a monotonic clock).
  for (const [node, offsetMs] of offsetMsByNode) {
    planned.push({
      phase: 'recover',
      action: { atMs: options.quiesceAtMs, kind: 'clock', node, offsetMs, driftPpm: 0 },
    });
  }
  return planned;
}

/**
 * Plans a run's faults. The result is sorted by time; at equal times recoveries come first.
 *
 * @example
 * const plan = planNemesis(prng.fork('nemesis'), {
 *   nodes: ['n1', 'n2', 'n3'], durationMs: 30_000, kinds: 'all', intensity: 1,
 * });
 * for (const action of plan) console.log(describeAction(action));
 */
export function planNemesis(prng: Prng, options: NemesisOptions): NemesisAction[] {
  const resolved = resolveOptions(options);
  const tracks: PlannedAction[][] = [];
  if (resolved.kinds.has('partition')) tracks.push(planPartitions(prng.fork('partition'), resolved));
  if (resolved.kinds.has('crash')) tracks.push(planCrashes(prng.fork('crash'), resolved));
  tracks.push(planNetworkWeather(prng.fork('network'), resolved));
  if (resolved.kinds.has('clock-skew')) tracks.push(planClockSkew(prng.fork('clock'), resolved));
  // Array.prototype.sort is stable, so equal keys keep track order: the plan is deterministic.
  return tracks
    .flat()
    .sort(
      (left, right) => left.action.atMs - right.action.atMs || phaseRank(left.phase) - phaseRank(right.phase),
    )
    .map((planned) => planned.action);
}

function phaseRank(phase: Phase): number {
  return phase === 'recover' ? 0 : 1;
}

/** What the driver exposes to the nemesis. `SimNetwork` and `SimClock` fit the parts. */
export interface NemesisTargets {
  readonly network: {
    heal(): void;
    applyPartition(partition: Partition): void;
    configure(conditions: NetworkConditions): void;
  };
  /** Stop the node; the driver also tells the network (`setNodeDown`) and crashes its disk. */
  crash(node: string): void;
  restart(node: string): void;
  clock(node: string): { setOffsetMs(offsetMs: number): void; setDriftPpm(driftPpm: number): void };
}

/** Carries out one action against the driver's targets. */
export function applyNemesisAction(action: NemesisAction, targets: NemesisTargets): void {
  switch (action.kind) {
    case 'partition':
      targets.network.applyPartition(action);
      return;
    case 'heal':
      targets.network.heal();
      return;
    case 'crash':
      targets.crash(action.node);
      return;
    case 'restart':
      targets.restart(action.node);
      return;
    case 'clock': {
      const clock = targets.clock(action.node);
      clock.setOffsetMs(action.offsetMs);
      clock.setDriftPpm(action.driftPpm);
      return;
    }
    case 'network':
      targets.network.configure(conditionsOf(action));
      return;
  }
}

/**
 * Schedules every action of `plan` on `loop` (which must not have passed the first one).
 * `onAction` sees each action just before it is applied, e.g. to trace `describeAction(action)`.
 */
export function scheduleNemesisPlan(
  loop: EventLoop,
  plan: readonly NemesisAction[],
  targets: NemesisTargets,
  onAction?: (action: NemesisAction) => void,
): TimerId[] {
  return plan.map((action) =>
    loop.scheduleAt(
      action.atMs,
      () => {
        onAction?.(action);
        applyNemesisAction(action, targets);
      },
      `nemesis ${action.kind}`,
    ),
  );
}

function percent(probability: number): string {
  return `${(probability * 100).toFixed(1)}%`;
}

function describeLatency({ minMs, meanMs, maxMs }: LatencyDistribution): string {
  return `latency ${minMs}–${maxMs} ms (mean ${meanMs})`;
}

function signed(value: number): string {
  return value >= 0 ? `+${value}` : `${value}`;
}

/**
 * One line for a trace.
 *
 * @example
 * describeAction({ atMs: 1200, kind: 'crash', node: 'n2' }); // "t=1200ms crash n2"
 */
export function describeAction(action: NemesisAction): string {
  const at = `t=${action.atMs}ms`;
  switch (action.kind) {
    case 'partition':
      return `${at} partition (${action.shape}): ${action.description}`;
    case 'heal':
      return `${at} heal all partitions`;
    case 'crash':
    case 'restart':
      return `${at} ${action.kind} ${action.node}`;
    case 'clock':
      return `${at} clock ${action.node}: offset ${signed(action.offsetMs)} ms, drift ${signed(action.driftPpm)} ppm`;
    case 'network': {
      const reorder = `reorder ${percent(action.reorder.probability)} (+≤${action.reorder.maxExtraDelayMs} ms)`;
      return `${at} network: loss ${percent(action.loss)}, duplication ${percent(action.duplication)}, ${reorder}, ${describeLatency(action.latency)}`;
    }
  }
}
