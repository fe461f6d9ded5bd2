// Durable storage of a Synod node: <data-dir>/wal (segmented write-ahead log) and <data-dir>/snap
// (snapshots). RaftDiskStorage is what the Raft driver uses; the rest is exported for tools and tests.
export { crc32c } from '@synod/core/hashing';
export type { StorageCorruptionCode, StorageCorruptionDetails } from './errors.js';
export { STORAGE_ERROR_CODES, StorageCorruptionError, WalFailedError } from './errors.js';
export type { PersistRequest, RaftDiskStorageOptions } from './raft-storage.js';
export { RaftDiskStorage, SNAPSHOT_DIRECTORY, WAL_DIRECTORY } from './raft-storage.js';
export type { LoadedSnapshot, SnapshotStoreOptions } from './snapshot-store.js';
export { DEFAULT_SNAPSHOTS_KEPT, SnapshotStore } from './snapshot-store.js';
export type { StorageLogger, WalOpenResult, WalOptions } from './wal.js';
export { DEFAULT_SEGMENT_BYTES_MAX, Wal } from './wal.js';
export type { WalRecord } from './wal-record.js';
export { WalStats } from './wal-stats.js';
