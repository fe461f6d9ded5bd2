// How a simulated member keeps its Raft state on its simulated disk: three files (hard state, the
// log, the snapshot), written the way the real server's storage is (append, truncate a conflicting
// suffix, replace atomically), and recovered after a crash with a torn tail truncated and damage in
// the middle refused. Shared by the KV nodes (sim-node.ts) and the lock scenario's nodes.
import type { ConfState, Entry, HardState, Ready, Snapshot } from '@synod/raft';
import { MemoryStorage } from '@synod/raft';
import type { SimDisk } from '../engine/disk.js';
import { isTornRecord } from '../engine/disk.js';

export type DiskRecord =
  | { readonly kind: 'hardState'; readonly hardState: HardState }
  | { readonly kind: 'entry'; readonly entry: Entry }
  | { readonly kind: 'snapshot'; readonly snapshot: Snapshot };

/** Approximate on-disk size of a record, for the disk's statistics. */
export function diskRecordBytes(record: DiskRecord): number {
  switch (record.kind) {
    case 'hardState':
      return 24;
    case 'entry':
      return 24 + record.entry.data.byteLength;
    case 'snapshot':
      return 64 + record.snapshot.data.byteLength;
  }
}

const HARD_STATE_FILE = 'hardstate';
const LOG_FILE = 'log';
const SNAPSHOT_FILE = 'snapshot';

/**
 * Writes what a Ready asks to persist (snapshot, new entries, hard state) to the disk and to the
 * in-memory storage; the caller syncs the disk before acting on the Ready.
 */
export function persistReady(disk: SimDisk<DiskRecord>, storage: MemoryStorage, ready: Ready): void {
  if (ready.snapshot) {
    disk.replaceAtomically(SNAPSHOT_FILE, [{ kind: 'snapshot', snapshot: ready.snapshot }]);
    storage.applySnapshot(ready.snapshot);
    rewriteLogFile(disk, storage);
  }
  if (ready.entries.length > 0) {
    appendToLogFile(disk, ready.entries);
    storage.append(ready.entries);
  }
  if (ready.hardState) {
    disk.replaceAtomically(HARD_STATE_FILE, [{ kind: 'hardState', hardState: ready.hardState }]);
    storage.setHardState(ready.hardState);
  }
}

/** Takes a snapshot of `data` at `index`, compacts the log, and writes both files anew. */
export function snapshotAndCompact(
  disk: SimDisk<DiskRecord>,
  storage: MemoryStorage,
  snapshot: { readonly index: number; readonly confState: ConfState; readonly data: Uint8Array },
  entriesKept: number,
): void {
  storage.createSnapshot(snapshot.index, snapshot.confState, snapshot.data);
  storage.compact(Math.max(storage.firstIndex() - 1, snapshot.index - entriesKept));
  disk.replaceAtomically(SNAPSHOT_FILE, [{ kind: 'snapshot', snapshot: storage.snapshot() }]);
  rewriteLogFile(disk, storage);
}

/**
 * Rebuilds stable storage from what survived on disk: a torn tail is truncated (and reported to
 * `onTruncated`), never trusted; a torn record anywhere else, or a log that does not continue the
 * snapshot, throws.
 */
export function recoverRaftStorage(
  disk: SimDisk<DiskRecord>,
  bootstrapConf: ConfState,
  member: string,
  onTruncated?: (record: number) => void,
): MemoryStorage {
  const storage = new MemoryStorage(bootstrapConf);
  const snapshotRecord = disk.read(SNAPSHOT_FILE).at(-1);
  if (snapshotRecord && !isTornRecord(snapshotRecord) && snapshotRecord.kind === 'snapshot') {
    storage.applySnapshot(snapshotRecord.snapshot);
  }
  const records = disk.read(LOG_FILE);
  const tornAt = records.findIndex((record) => isTornRecord(record));
  if (tornAt >= 0) {
    if (tornAt !== records.length - 1)
      throw new Error(`${member}: corruption in the middle of the log at record ${tornAt}`);
    disk.truncateFrom(LOG_FILE, tornAt);
    disk.sync();
    onTruncated?.(tornAt);
  }
  const snapshotIndex = storage.snapshot().metadata.index;
  const entries: Entry[] = [];
  for (const record of records.slice(0, tornAt >= 0 ? tornAt : records.length)) {
    if (isTornRecord(record) || record.kind !== 'entry' || record.entry.index <= snapshotIndex) continue;
    entries.push(record.entry);
  }
  if (entries.length > 0 && entries[0]!.index !== snapshotIndex + 1) {
    throw new Error(
      `${member}: log starts at ${entries[0]!.index} but the snapshot ends at ${snapshotIndex}`,
    );
  }
  storage.append(entries);
  const hardStateRecord = disk.read(HARD_STATE_FILE).at(-1);
  if (hardStateRecord && !isTornRecord(hardStateRecord) && hardStateRecord.kind === 'hardState') {
    const { hardState } = hardStateRecord;
    storage.setHardState({ ...hardState, commit: Math.max(hardState.commit, snapshotIndex) });
  }
  return storage;
}

function rewriteLogFile(disk: SimDisk<DiskRecord>, storage: MemoryStorage): void {
  disk.replaceAtomically(
    LOG_FILE,
    storage.allEntries().map((entry): DiskRecord => ({ kind: 'entry', entry })),
  );
}

function appendToLogFile(disk: SimDisk<DiskRecord>, entries: readonly Entry[]): void {
  const first = entries[0]!.index;
  const firstRecord = disk.read(LOG_FILE)[0];
  if (firstRecord && !isTornRecord(firstRecord) && firstRecord.kind === 'entry') {
    const fileFirstIndex = firstRecord.entry.index;
    // Drop a conflicting suffix (or everything, when the new entries start before the file).
    disk.truncateFrom(LOG_FILE, first < fileFirstIndex ? 0 : first - fileFirstIndex);
  }
  for (const entry of entries) disk.append(LOG_FILE, { kind: 'entry', entry });
}
