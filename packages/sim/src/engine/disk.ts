/**
 * The durable storage of one simulated node: named files, each a list of opaque records.
 * Each file has two views — what the node has written (`read` sees this) and what is durable
 * (what a crash leaves). `sync()` makes the written view durable; `crash()` throws away the rest.
 *
 * Records are stored by reference, exactly as given: the caller must not mutate a record after
 * handing it over (the simulator would then "persist" a change that was never written).
 *
 * Torn writes: a crash may leave the last unsynced appended record half-written. It shows up as
 * a `{ torn: true }` record at the end of that file — durably, like garbage bytes on a real disk —
 * and recovery must detect and truncate it; appending after a torn record throws. A torn write is
 * only possible while the file has seen nothing but appends since its last sync: a pending
 * truncation or atomic replacement would not leave half a record at the end of the old file.
 */
import { type LatencyDistribution, sampleLatencyMs, validateLatency } from './latency.js';
import type { Prng } from './prng.js';

/** The marker a torn (half-written) record leaves at the end of a file after a crash. */
export interface TornRecord {
  readonly torn: true;
}

export const tornRecord: TornRecord = Object.freeze({ torn: true });

/** True for the torn-write marker. */
export function isTornRecord(record: unknown): record is TornRecord {
  return typeof record === 'object' && record !== null && (record as { torn?: unknown }).torn === true;
}

export interface SimDiskOptions<DiskRecord> {
  /** Draws fsync latencies; give it `prng.fork('disk/n1')`. */
  readonly random: Prng;
  /** Default: 0.1 ms floor, 1 ms mean, 20 ms ceiling (a decent SSD). */
  readonly syncLatency?: LatencyDistribution;
  /** Probability that a crash leaves the last unsynced append torn. Default 0.2. */
  readonly tornWriteProbability?: number;
  /** Size of a record for the stats. Default: an estimate (byte length, string length or JSON). */
  readonly recordSizeBytes?: (record: DiskRecord) => number;
}

export interface DiskStats {
  readonly recordsWritten: number;
  readonly bytesWritten: number;
  readonly syncs: number;
  readonly crashes: number;
  readonly tornWrites: number;
}

export interface CrashReport {
  /** The file that now ends with a torn record, if any. */
  readonly tornFile: string | undefined;
  /** Records written but not synced, now gone (a replaced file counts all its new records). */
  readonly lostRecords: number;
}

export const defaultSyncLatency: LatencyDistribution = { minMs: 0.1, meanMs: 1, maxMs: 20 };
export const defaultTornWriteProbability = 0.2;

interface FileState<DiskRecord> {
  current: Array<DiskRecord | TornRecord>;
  durable: Array<DiskRecord | TornRecord>;
  /** current[0, sharedPrefix) are the same writes as durable[0, sharedPrefix). */
  sharedPrefix: number;
  /** No truncation or replacement since the last sync (a torn append is possible). */
  onlyAppendsSinceSync: boolean;
}

/** A best-effort size: exact for bytes and strings, a JSON estimate otherwise. */
export function estimateRecordBytes(record: unknown): number {
  if (typeof record === 'string') return record.length;
  if (ArrayBuffer.isView(record)) return record.byteLength;
  try {
    const json = JSON.stringify(record, (_key, value) =>
      typeof value === 'bigint' ? value.toString() : value,
    );
    return json === undefined ? 0 : json.length;
  } catch {
    return 0; // cyclic records: size unknown, not worth failing a run over
  }
}

/**
 * One node's disk.
 *
 * @example
 * const disk = new SimDisk<WalEntry>({ random: prng.fork('disk/n1') });
 * disk.append('wal', entry);
 * const fsyncMs = disk.sync(); // acknowledge only after fsyncMs of virtual time
 * disk.crash(prng.fork('crash/n1')); // unsynced writes are gone; maybe a torn tail
 */
export class SimDisk<DiskRecord> {
  private readonly files = new Map<string, FileState<DiskRecord>>();
  /** Files written since the last sync, so sync and crash touch only those. */
  private readonly dirty = new Set<string>();
  private lastAppendFile: string | undefined;
  private readonly random: Prng;
  private readonly syncLatency: LatencyDistribution;
  private readonly tornWriteProbability: number;
  private readonly recordSizeBytes: (record: DiskRecord) => number;
  private counts = { recordsWritten: 0, bytesWritten: 0, syncs: 0, crashes: 0, tornWrites: 0 };

  constructor(options: SimDiskOptions<DiskRecord>) {
    this.random = options.random;
    this.syncLatency = options.syncLatency ?? defaultSyncLatency;
    validateLatency(this.syncLatency, 'disk sync');
    this.tornWriteProbability = options.tornWriteProbability ?? defaultTornWriteProbability;
    if (!(this.tornWriteProbability >= 0 && this.tornWriteProbability <= 1)) {
      throw new RangeError(`tornWriteProbability must be in [0, 1], got ${this.tornWriteProbability}`);
    }
    this.recordSizeBytes = options.recordSizeBytes ?? estimateRecordBytes;
  }

  /** Appends one record (not durable until `sync`). */
  append(file: string, record: DiskRecord): void {
    if (isTornRecord(record)) throw new TypeError(`append to ${file}: a record must not look torn`);
    const state = this.fileState(file);
    const last = state.current[state.current.length - 1];
    if (last !== undefined && isTornRecord(last)) {
      throw new Error(
        `append to ${file}: the file ends with a torn record at index ${state.current.length - 1}; ` +
          'recovery must truncateFrom that index before writing.',
      );
    }
    state.current.push(record);
    this.noteWrite(file, record);
    this.lastAppendFile = file;
  }

  /** Drops the records at `recordIndex` and after (no-op if the file is shorter). */
  truncateFrom(file: string, recordIndex: number): void {
    if (!(Number.isInteger(recordIndex) && recordIndex >= 0)) {
      throw new RangeError(`truncateFrom(${file}, ${recordIndex}): index must be an integer ≥ 0`);
    }
    const state = this.fileState(file);
    if (recordIndex >= state.current.length) return;
    state.current.length = recordIndex;
    state.sharedPrefix = Math.min(state.sharedPrefix, recordIndex);
    state.onlyAppendsSinceSync = false;
    this.dirty.add(file);
  }

  /**
   * Replaces the whole file, all or nothing (write a temp file, fsync it, rename): a crash before
   * the next `sync` leaves the old content, never a mix.
   */
  replaceAtomically(file: string, records: readonly DiskRecord[]): void {
    const state = this.fileState(file);
    state.current = [...records];
    state.sharedPrefix = 0;
    state.onlyAppendsSinceSync = false;
    this.dirty.add(file);
    for (const record of records) this.noteWrite(file, record);
  }

  /** The records as written so far (a copy; the records themselves are shared). */
  read(file: string): Array<DiskRecord | TornRecord> {
    return this.files.get(file)?.current.slice() ?? [];
  }

  recordCount(file: string): number {
    return this.files.get(file)?.current.length ?? 0;
  }

  /** Names of files holding at least one record, sorted. */
  fileNames(): string[] {
    const names: string[] = [];
    for (const [name, state] of this.files) if (state.current.length > 0) names.push(name);
    return names.sort((left, right) => (left < right ? -1 : left > right ? 1 : 0));
  }

  /** Makes everything written so far durable. Returns the simulated fsync latency in ms. */
  sync(): number {
    for (const file of this.dirty) {
      const state = this.fileState(file);
      state.durable.length = state.sharedPrefix;
      for (let index = state.sharedPrefix; index < state.current.length; index++) {
        state.durable.push(state.current[index] as DiskRecord | TornRecord);
      }
      state.sharedPrefix = state.current.length;
      state.onlyAppendsSinceSync = true;
    }
    this.dirty.clear();
    this.lastAppendFile = undefined;
    this.counts.syncs++;
    return sampleLatencyMs(this.random, this.syncLatency);
  }

  /** Loses everything not yet synced; may leave the last unsynced append torn. */
  crash(random: Prng): CrashReport {
    const tornFile = this.chooseTornFile(random);
    let lostRecords = 0;
    for (const file of this.dirty) {
      const state = this.fileState(file);
      lostRecords += state.current.length - state.sharedPrefix;
      if (file === tornFile) state.durable.push(tornRecord);
      state.current = state.durable.slice();
      state.sharedPrefix = state.durable.length;
      state.onlyAppendsSinceSync = true;
    }
    this.dirty.clear();
    this.lastAppendFile = undefined;
    this.counts.crashes++;
    if (tornFile !== undefined) this.counts.tornWrites++;
    return { tornFile, lostRecords };
  }

  get stats(): DiskStats {
    return { ...this.counts };
  }

  private chooseTornFile(random: Prng): string | undefined {
    const file = this.lastAppendFile;
    if (file === undefined || this.tornWriteProbability === 0) return undefined;
    if (!this.fileState(file).onlyAppendsSinceSync) return undefined;
    return random.chance(this.tornWriteProbability) ? file : undefined;
  }

  private noteWrite(file: string, record: DiskRecord): void {
    this.dirty.add(file);
    this.counts.recordsWritten++;
    this.counts.bytesWritten += this.recordSizeBytes(record);
  }

  private fileState(file: string): FileState<DiskRecord> {
    let state = this.files.get(file);
    if (state === undefined) {
      if (file.length === 0) throw new RangeError('SimDisk file names must be non-empty');
      state = { current: [], durable: [], sharedPrefix: 0, onlyAppendsSinceSync: true };
      this.files.set(file, state);
    }
    return state;
  }
}
