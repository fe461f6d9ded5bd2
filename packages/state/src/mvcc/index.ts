export * from './etcd-types.js';
export type { HashKvResult } from './hash.js';
export { eventBytes, type HistoryEvents, type HistoryEventsOptions } from './history-events.js';
export { KEY_INDEX_CHUNK_KEYS_MAX } from './key-index.js';
export {
  MVCC_SNAPSHOT_FORMAT_VERSION,
  MvccSnapshotEncoder,
  MvccSnapshotError,
  type MvccSnapshotErrorCode,
  SNAPSHOT_STEP_BYTES_DEFAULT,
} from './snapshot.js';
export { type AppliedWrite, MvccStore, type MvccStoreOptions, type MvccStoreStats } from './store.js';
export { MAX_TXN_NESTING_DEPTH } from './validate.js';
