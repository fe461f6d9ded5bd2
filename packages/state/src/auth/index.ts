export {
  AUTH_SNAPSHOT_FORMAT_VERSION,
  AuthSnapshotError,
  type AuthSnapshotErrorCode,
} from './auth-snapshot.js';
export { type AuthState, AuthStore, authCommandRequirement } from './auth-store.js';
export * from './auth-types.js';
export { type KeyInterval, KeyRangeSet, keyInterval } from './key-range-set.js';
export type { AuthRequirement, LeaseKeysLookup } from './requirements.js';
