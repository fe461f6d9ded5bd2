// etcd's Lock and Election services (see README.md): register them with a ConcurrencyBackend.
export type { ConcurrencyBackend, KvAnswer, WatchUpdate } from './concurrency-backend.js';
export {
  CONCURRENCY_METHOD_CODECS,
  type LeaderKey,
  type LockRequest,
  type LockResponse,
} from './concurrency-messages.js';
export { registerElectionService } from './election-service.js';
export { RECIPE_ERRORS } from './errors.js';
export { type HeaderAt, registerLockService } from './lock-service.js';
export { SESSION_TTL_SECONDS_DEFAULT } from './recipe.js';
