// Errors the storage reports to whoever starts the node. Corruption is an operating condition
// (a disk lied, a file was edited), not a bug: it gets a typed error with a stable code and a
// message that says what to do, never a crash with a stack trace as the only explanation.

/** Stable codes for scripts and the admin API. */
export const STORAGE_ERROR_CODES = {
  walCorrupt: 'WAL_CORRUPT',
  snapshotCorrupt: 'SNAPSHOT_CORRUPT',
  walFailed: 'WAL_FAILED',
} as const;

export type StorageCorruptionCode =
  | typeof STORAGE_ERROR_CODES.walCorrupt
  | typeof STORAGE_ERROR_CODES.snapshotCorrupt;

const WHAT_TO_DO =
  'The node cannot start safely; restore this member from a snapshot or remove and re-add it.';

export interface StorageCorruptionDetails {
  readonly code: StorageCorruptionCode;
  /** The damaged file (as opened: data-dir relative paths stay relative). */
  readonly file: string;
  /** Byte offset of the first bad record, when the damage has a place. */
  readonly offset: number | undefined;
  /** What is wrong, in a few words ("CRC mismatch", "segment 5 missing"). */
  readonly reason: string;
}

/**
 * Durable state is damaged where a crash cannot explain it (not a torn tail): refusing to start
 * is the only safe answer, since serving from a log that lost acknowledged entries breaks Raft.
 *
 * @example
 * try { await RaftDiskStorage.open(dir, { logger }) }
 * catch (error) { if (error instanceof StorageCorruptionError) console.error(error.message); }
 */
export class StorageCorruptionError extends Error {
  override readonly name = 'StorageCorruptionError';
  readonly code: StorageCorruptionCode;
  readonly file: string;
  readonly offset: number | undefined;
  readonly reason: string;

  constructor(details: StorageCorruptionDetails) {
    super(describeCorruption(details));
    this.code = details.code;
    this.file = details.file;
    this.offset = details.offset;
    this.reason = details.reason;
  }
}

function describeCorruption(details: StorageCorruptionDetails): string {
  const what = details.code === STORAGE_ERROR_CODES.walCorrupt ? 'WAL segment' : 'Snapshot';
  const where = details.offset === undefined ? '' : ` at offset ${details.offset}`;
  return `${what} ${details.file} is corrupt${where} (${details.reason}). ${WHAT_TO_DO}`;
}

/**
 * A write or fsync of the WAL failed. After a failed fsync the kernel may have dropped the dirty
 * pages, so what is on disk is unknown: the WAL refuses further appends and the node must restart
 * (recovery then reads what really reached the disk).
 */
export class WalFailedError extends Error {
  override readonly name = 'WalFailedError';
  readonly code = STORAGE_ERROR_CODES.walFailed;

  constructor(message: string, options?: { cause: unknown }) {
    super(message, options);
  }
}
