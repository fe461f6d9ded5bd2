/**
 * The simulator's engine: deterministic building blocks (randomness, virtual time, network,
 * disks, clocks, faults) that the cluster driver plugs protocol cores into. See README.md.
 */
export {
  type Clock,
  maxAbsDriftPpm,
  SimClock,
  type SimClockOptions,
  type VirtualTimeSource,
} from './clock.js';
export {
  type CrashReport,
  type DiskStats,
  defaultSyncLatency,
  defaultTornWriteProbability,
  estimateRecordBytes,
  isTornRecord,
  SimDisk,
  type SimDiskOptions,
  type TornRecord,
  tornRecord,
} from './disk.js';
export {
  defaultMaxEventsPerRun,
  defaultMaxPendingEvents,
  EventLoop,
  type EventLoopOptions,
  type ExecutedEvent,
  type RunWhileOutcome,
  type RunWhileResult,
  type TimerId,
} from './event-loop.js';
export { type LatencyDistribution, sampleLatencyMs, validateLatency } from './latency.js';
export {
  allNemesisKinds,
  applyNemesisAction,
  type DurationRangeMs,
  describeAction,
  maxDegradedDuplication,
  maxDegradedLoss,
  maxDegradedReorderProbability,
  maxFaultsPerTrack,
  maxNemesisIntensity,
  type NemesisAction,
  type NemesisKind,
  type NemesisOptions,
  type NemesisTargets,
  planNemesis,
  scheduleNemesisPlan,
} from './nemesis.js';
export {
  type DropCounts,
  type DropReason,
  defaultNetworkConfig,
  type MessageFilter,
  type NetworkConditions,
  type NetworkStats,
  type NetworkTraceEvent,
  type ReorderConditions,
  SimNetwork,
  type SimNetworkConfig,
  type SimNetworkOptions,
} from './network.js';
export {
  compareLinks,
  type DirectedLink,
  linksBetween,
  type Partition,
  type PartitionShape,
  partitionBridge,
  partitionHalves,
  partitionIsolate,
  partitionMajorityMinority,
  partitionOneWay,
} from './partition.js';
export { Prng, type RandomSource } from './prng.js';
