// Durable Raft storage for one group: the WAL (entries, hard state, snapshot markers) and the
// snapshot directory, recovered on open into a MemoryStorage the Raft core reads. Every write
// becomes durable first and reaches `memory` second, in call order, so the core never sees state
// a crash could take back.
import { join } from 'node:path';
import type { ConfState, Entry, HardState, Snapshot } from '@synod/raft';
import { EMPTY_CONF_STATE, EMPTY_HARD_STATE, invariant, MemoryStorage } from '@synod/raft';
import { ensureDirectory } from './durable-file.js';
import { STORAGE_ERROR_CODES, StorageCorruptionError } from './errors.js';
import type { LoadedSnapshot } from './snapshot-store.js';
import { SnapshotStore } from './snapshot-store.js';
import type { StorageLogger } from './wal.js';
import { Wal } from './wal.js';
import type { WalRecord } from './wal-record.js';
import type { LogReplay } from './wal-replay.js';
import type { WalStats } from './wal-stats.js';

export const WAL_DIRECTORY = 'wal';
export const SNAPSHOT_DIRECTORY = 'snap';

export interface RaftDiskStorageOptions {
  readonly logger: StorageLogger;
  /** WAL segment size before rotation. Default 64 MiB. */
  readonly segmentBytesMax?: number;
  /** Snapshots kept in snap/. Default 2. */
  readonly snapshotsKept?: number;
}

/** What one Ready asks to persist (the fields of @synod/raft's Ready that touch the disk). */
export interface PersistRequest {
  readonly hardState: HardState | undefined;
  readonly entries: readonly Entry[];
  readonly snapshot: Snapshot | undefined;
}

/**
 * Raft's stable storage on disk, under `<data-dir>/wal` and `<data-dir>/snap`.
 *
 * @example
 * const storage = await RaftDiskStorage.open(dataDir, { logger });
 * if (storage.isEmpty()) await storage.bootstrap(initialConfState);
 * const node = new RawNode({ id, random }, storage.memory);
 * // for each Ready: await storage.persist(ready), then send, apply, advance
 */
/** Where a founding member's log starts (see bootstrap()). */
const BOOTSTRAP_INDEX = 1;
const BOOTSTRAP_TERM = 1;

export class RaftDiskStorage {
  /** What the Raft core reads; updated only after the matching write is durable. */
  readonly memory: MemoryStorage;
  private readonly wal: Wal;
  private readonly snapshots: SnapshotStore;
  private openedEmpty: boolean;
  /** Persist calls that must wait for an earlier one to write its snapshot file first. */
  private lane: Promise<void> = Promise.resolve();
  private laneLength = 0;
  private failure: Error | undefined;

  private constructor(memory: MemoryStorage, wal: Wal, snapshots: SnapshotStore, openedEmpty: boolean) {
    this.memory = memory;
    this.wal = wal;
    this.snapshots = snapshots;
    this.openedEmpty = openedEmpty;
  }

  /**
   * Opens `dataDir` (creating wal/ and snap/ if missing) and recovers the newest valid snapshot
   * plus the WAL after it. Throws {@link StorageCorruptionError} when that cannot be done safely.
   */
  static async open(dataDir: string, options: RaftDiskStorageOptions): Promise<RaftDiskStorage> {
    const { logger } = options;
    await ensureDirectory(dataDir);
    const snapshots = await SnapshotStore.open(join(dataDir, SNAPSHOT_DIRECTORY), {
      logger,
      ...(options.snapshotsKept === undefined ? {} : { keep: options.snapshotsKept }),
    });
    const loaded = await snapshots.loadNewest();
    const anySnapshot = loaded.snapshot !== undefined || loaded.damaged.length > 0;
    const { wal, replay, createdFresh } = await Wal.open(join(dataDir, WAL_DIRECTORY), {
      logger,
      requireExisting: anySnapshot,
      ...(options.segmentBytesMax === undefined ? {} : { segmentBytesMax: options.segmentBytesMax }),
    });
    try {
      const memory = assembleMemory(loaded, replay, wal.segmentNames()[0]!);
      if (loaded.damaged.length > 0) {
        logger.warn(
          { damaged: loaded.damaged, usedIndex: memory.snapshot().metadata.index },
          'newest snapshot is damaged; recovered from an older one and renamed the damaged ones to *.broken',
        );
        await snapshots.quarantine(loaded.damaged);
      }
      logger.info(
        { dataDir, snapshotIndex: memory.snapshot().metadata.index, lastIndex: memory.lastIndex() },
        'Raft storage recovered',
      );
      return new RaftDiskStorage(memory, wal, snapshots, createdFresh && !anySnapshot);
    } catch (error) {
      await wal.close();
      throw error;
    }
  }

  /** True while the data directory holds no Raft state: it was fresh when opened and nothing was written since. */
  isEmpty(): boolean {
    return this.openedEmpty;
  }

  /** WAL counters for metrics (fsyncs, bytes, records, fsync latency). */
  get stats(): WalStats {
    return this.wal.stats;
  }

  /**
   * Records the membership a fresh node starts with (a snapshot at index 0 holding only the
   * configuration), so it survives restarts before the first real snapshot.
   */
  /**
   * Founds a new cluster's member: a snapshot at index 1, term 1 holding the initial configuration
   * and state (the same on every founding member). The log therefore starts at index 2, so a member
   * added later, whose log is empty, is always sent a snapshot first and learns the configuration
   * from it rather than replaying changes onto nothing.
   */
  async bootstrap(confState: ConfState, data: Uint8Array = new Uint8Array(0)): Promise<void> {
    invariant(this.isEmpty(), 'bootstrap of a data directory that already holds Raft state');
    this.openedEmpty = false;
    const snapshot = { metadata: { index: BOOTSTRAP_INDEX, term: BOOTSTRAP_TERM, confState }, data };
    await this.snapshots.save(snapshot);
    this.memory.applySnapshot(snapshot);
    await this.persist({
      hardState: { term: BOOTSTRAP_TERM, vote: '', commit: BOOTSTRAP_INDEX },
      entries: [],
      snapshot: undefined,
    });
  }

  /**
   * Makes a Ready's snapshot, entries and hard state durable, then applies them to `memory`
   * (applySnapshot, append, setHardState, in that order). Concurrent calls share fsyncs and are
   * applied in call order. A snapshot from the leader replaces the log before it.
   */
  persist(ready: PersistRequest): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const { snapshot, entries, hardState } = ready;
    const records: WalRecord[] = [];
    if (snapshot) records.push({ type: 'snapshotMarker', ...markOf(snapshot) });
    if (entries.length > 0) records.push({ type: 'entries', entries });
    if (hardState) records.push({ type: 'hardState', hardState });
    if (records.length === 0) return Promise.resolve();
    this.openedEmpty = false;
    const apply = () => {
      if (snapshot) this.memory.applySnapshot(snapshot);
      this.memory.append(entries);
      if (hardState) this.memory.setHardState(hardState);
    };
    if (!snapshot) return this.appendInOrder(undefined, records, apply);
    // The file first: a marker in the WAL promises the snapshot exists.
    const durable = this.appendInOrder(() => this.snapshots.save(snapshot), records, apply);
    return durable.then(() => this.releaseTo(snapshot.metadata.index));
  }

  /**
   * Saves a snapshot the application took (at an applied index), records its marker in the WAL,
   * then updates `memory` (createSnapshot, compact(compactTo)) and deletes WAL segments that
   * neither the log after compactTo nor the oldest kept snapshot still needs.
   */
  async saveSnapshot(snapshot: Snapshot, compactTo: number, dataCrc32c?: number): Promise<void> {
    const { index, confState } = snapshot.metadata;
    invariant(compactTo <= index, `compactTo ${compactTo} beyond the snapshot at ${index}`);
    await this.snapshots.save(snapshot, dataCrc32c);
    this.openedEmpty = false;
    await this.wal.append([{ type: 'snapshotMarker', ...markOf(snapshot) }], () => {
      // A newer snapshot from the leader may have landed meanwhile; then this one has nothing to add.
      // At the same index it replaces the current one, as the file of the same name just did.
      if (this.memory.snapshot().metadata.index <= index)
        this.memory.createSnapshot(index, confState, snapshot.data);
      this.memory.compact(Math.min(compactTo, this.memory.snapshot().metadata.index));
    });
    await this.releaseTo(compactTo);
  }

  /** Waits for pending writes, then closes the WAL. */
  async close(): Promise<void> {
    await this.lane;
    await this.wal.close();
  }

  /**
   * Hands records to the WAL in call order. Without a snapshot file to write first and with no
   * one waiting, that happens synchronously (the group-commit fast path); otherwise the call
   * queues behind the earlier ones.
   */
  private appendInOrder(
    prepare: (() => Promise<void>) | undefined,
    records: readonly WalRecord[],
    apply: () => void,
  ): Promise<void> {
    if (prepare === undefined && this.laneLength === 0) return this.wal.append(records, apply);
    this.laneLength++;
    let durable: Promise<void> | undefined;
    const queued = this.lane.then(async () => {
      if (this.failure) throw this.failure;
      try {
        await prepare?.();
      } catch (error) {
        this.failure = error instanceof Error ? error : new Error(String(error));
        throw error;
      }
      durable = this.wal.append(records, apply);
    });
    this.lane = queued.then(
      () => void this.laneLength--,
      () => void this.laneLength--,
    );
    return queued.then(() => durable);
  }

  /** WAL segments go once every kept snapshot is past them, so falling back to the oldest works. */
  private async releaseTo(compactTo: number): Promise<void> {
    const oldestKept = (await this.snapshots.oldestKeptIndex()) ?? 0;
    await this.wal.releaseTo(Math.min(compactTo, oldestKept));
  }
}

function markOf(snapshot: Snapshot): { index: number; term: number } {
  return { index: snapshot.metadata.index, term: snapshot.metadata.term };
}

/**
 * The newest usable snapshot, then the WAL's entries after it. The WAL must reach back to the
 * snapshot; if it starts later (segments released for a snapshot that is now damaged), entries
 * are missing and starting would be unsafe.
 */
function assembleMemory(loaded: LoadedSnapshot, replay: LogReplay, firstSegment: string): MemoryStorage {
  const { snapshot, damaged } = loaded;
  if (snapshot === undefined && damaged.length > 0) {
    const newest = damaged[0]!;
    throw snapshotCorruption(newest.name, `${newest.reason}; no older valid snapshot to fall back to`);
  }
  const memory = new MemoryStorage(snapshot?.metadata.confState ?? EMPTY_CONF_STATE);
  const snapshotIndex = snapshot?.metadata.index ?? 0;
  if (snapshot && snapshotIndex > 0) memory.applySnapshot(snapshot);
  // applySnapshot ignores index 0 (the bootstrap configuration); keep its data all the same.
  else if (snapshot) memory.createSnapshot(0, snapshot.metadata.confState, snapshot.data);
  const { base } = replay;
  if (base !== undefined && snapshotIndex < base) {
    const gap = `entries ${snapshotIndex + 1}..${base} are in no snapshot and no segment`;
    if (damaged.length > 0) throw snapshotCorruption(damaged[0]!.name, `${damaged[0]!.reason}; ${gap}`);
    throw walCorruption(
      firstSegment,
      `the WAL starts after index ${base}, past the newest snapshot (${snapshotIndex}): ${gap}`,
    );
  }
  if (base !== undefined && continuesSnapshot(replay, snapshotIndex, snapshot?.metadata.term ?? 0))
    memory.append(replay.entries.slice(snapshotIndex - base));
  // else the snapshot replaced the log (installed from the leader; the crash came before its marker)
  const hardState = replay.hardState ?? EMPTY_HARD_STATE;
  // A snapshot only ever holds committed entries, so commit is at least its index.
  const commit = Math.max(hardState.commit, snapshotIndex);
  if (commit > memory.lastIndex())
    throw walCorruption(
      firstSegment,
      `the hard state commits index ${commit} but the log ends at ${memory.lastIndex()}`,
    );
  memory.setHardState({ ...hardState, commit });
  return memory;
}

/** Whether the replayed log holds the snapshot's (index, term), so its entries after it belong. */
function continuesSnapshot(replay: LogReplay, snapshotIndex: number, snapshotTerm: number): boolean {
  const term = replay.term(snapshotIndex);
  // The log start set by its first entries has no known term: the segments after a release begin so.
  if (snapshotIndex === replay.base && term === undefined) return true;
  return term === snapshotTerm;
}

function walCorruption(file: string, reason: string): StorageCorruptionError {
  return new StorageCorruptionError({
    code: STORAGE_ERROR_CODES.walCorrupt,
    file,
    offset: undefined,
    reason,
  });
}

function snapshotCorruption(file: string, reason: string): StorageCorruptionError {
  return new StorageCorruptionError({
    code: STORAGE_ERROR_CODES.snapshotCorrupt,
    file,
    offset: undefined,
    reason,
  });
}
