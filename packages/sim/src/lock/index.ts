// The lock scenario: leases, etcd's lock recipe and fencing tokens under a nemesis (README.md).
export { type AcceptedWrite, FencedResource } from './fenced-resource.js';
export { type LeaseAuditSink, LeaseExpiryAudit } from './lease-audit.js';
export type { LeaseMutation } from './lease-leader.js';
export { type LockGrant, ReferenceReplica } from './lock-checks.js';
export type { LockClientOptions, LockWorkloadStats } from './lock-client.js';
export {
  type LockManyRunsSummary,
  type LockRunOptions,
  type LockSeedOutcome,
  runLockSeedsInParallel,
  runOneLockSeed,
} from './lock-parallel.js';
export {
  allLockMutations,
  buildLockCluster,
  DEFAULT_LOCK_SIMULATION,
  judgeLockRun,
  LEASE_PROMOTE_EXTENSION_MS,
  type LockCluster,
  type LockMutation,
  type LockRunFigures,
  type LockSimulationOptions,
  type LockSimulationResult,
  runLockSimulation,
} from './lock-run.js';
export type { LockViolation, LockViolationKind } from './lock-violation.js';
