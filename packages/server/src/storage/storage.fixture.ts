// Helpers shared by the storage tests: temp data directories, a logger that remembers what it
// was told, and entries whose payload says where they belong.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry } from '@synod/raft';
import type { StorageLogger } from './wal.js';
import { scanSegment } from './wal-segment.js';

export interface LogLine {
  readonly level: 'warn' | 'info';
  readonly object: object;
  readonly message: string;
}

export class RecordingLogger implements StorageLogger {
  readonly lines: LogLine[] = [];
  warn(object: object, message: string): void {
    this.lines.push({ level: 'warn', object, message });
  }
  info(object: object, message: string): void {
    this.lines.push({ level: 'info', object, message });
  }
  warnings(): LogLine[] {
    return this.lines.filter((line) => line.level === 'warn');
  }
}

/** Runs `body` with a fresh temp directory, removed afterwards whatever happens. */
/** Where a segment's records end (zeros preallocated for appends may follow, up to the file's end). */
export async function segmentDataEnd(path: string): Promise<number> {
  return scanSegment(await readFile(path)).validEnd;
}

export async function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'synod-storage-'));
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function entry(index: number, term: number, text = `entry ${index}@${term}`): Entry {
  return { index, term, kind: 'normal', data: encoder.encode(text) };
}

/** Entries [from, to] all in `term`. */
export function entryRange(from: number, to: number, term: number): Entry[] {
  return Array.from({ length: to - from + 1 }, (_, i) => entry(from + i, term));
}

export function entryText(value: Entry): string {
  return decoder.decode(value.data);
}

/** Compact form for assertions: "index@term:text". */
export function describeEntries(entries: readonly Entry[]): string[] {
  return entries.map((value) => `${value.index}@${value.term}:${entryText(value)}`);
}
