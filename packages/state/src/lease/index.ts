export {
  type LeaseCheckpoint,
  LeaseExpiryTracker,
  type LeaseExpiryTrackerOptions,
  type LeaseRenewResult,
  type LeaseTimeToLiveResult,
  type TrackedLeaseSource,
} from './expiry-tracker.js';
export {
  LEASE_SNAPSHOT_FORMAT_VERSION,
  LeaseSnapshotError,
  type LeaseSnapshotErrorCode,
} from './lease-snapshot.js';
export {
  type LeaseGrantResult,
  type LeaseRevokeResult,
  LeaseStore,
  type LeaseStoreOptions,
} from './lease-store.js';
export * from './lease-types.js';
export { leaseRevokeWrite } from './revoke-write.js';
