// Ordered index of keys to their histories: a sorted list cut into bounded chunks (a two-level
// B-tree), so a new key costs a binary search plus a copy of at most one chunk, not of every key.
import { compareBytes, type RangeBound } from './bytes.js';
import { KeyHistory } from './key-history.js';

/** Keys per chunk before it splits in two: small enough that splicing one is cheap. */
export const KEY_INDEX_CHUNK_KEYS_MAX = 512;

interface Position {
  readonly chunk: number;
  readonly offset: number;
}

export class KeyIndex {
  /** Non-empty chunks, each ascending; every key of a chunk sorts before every key of the next. */
  private chunks: KeyHistory[][] = [];
  private keyCount = 0;

  /** Keys in the index (including keys whose latest change is a delete, until compacted). */
  get size(): number {
    return this.keyCount;
  }

  get(key: Uint8Array): KeyHistory | undefined {
    const position = this.lowerBound(key);
    const history = this.chunks[position.chunk]?.[position.offset];
    return history !== undefined && compareBytes(history.key, key) === 0 ? history : undefined;
  }

  /** The key's history, added (empty: the caller appends its first change) when the key is new. */
  getOrCreate(key: Uint8Array): KeyHistory {
    const position = this.lowerBound(key);
    const existing = this.chunks[position.chunk]?.[position.offset];
    if (existing !== undefined && compareBytes(existing.key, key) === 0) return existing;
    // A copy: the caller's buffer may be reused after the request is applied.
    const history = new KeyHistory(new Uint8Array(key));
    this.insertAt(position, history);
    return history;
  }

  /** Removes the key's history (undo of a write that created it). */
  remove(key: Uint8Array): void {
    const position = this.lowerBound(key);
    const chunk = this.chunks[position.chunk];
    const history = chunk?.[position.offset];
    if (chunk === undefined || history === undefined || compareBytes(history.key, key) !== 0) {
      throw new Error('remove: key is not in the index');
    }
    chunk.splice(position.offset, 1);
    if (chunk.length === 0) this.chunks.splice(position.chunk, 1);
    this.keyCount--;
  }

  /**
   * Visits, in ascending key order, the histories of keys in the range that starts at `key`,
   * until `visitor` returns false.
   */
  visit(key: Uint8Array, bound: RangeBound, visitor: (history: KeyHistory) => boolean): void {
    if (bound.kind === 'single') {
      const history = this.get(key);
      if (history !== undefined) visitor(history);
      return;
    }
    const start = this.lowerBound(key);
    for (let chunkIndex = start.chunk; chunkIndex < this.chunks.length; chunkIndex++) {
      const chunk = this.chunks[chunkIndex]!;
      for (let offset = chunkIndex === start.chunk ? start.offset : 0; offset < chunk.length; offset++) {
        const history = chunk[offset]!;
        if (bound.kind === 'until' && compareBytes(history.key, bound.end) >= 0) return;
        if (!visitor(history)) return;
      }
    }
  }

  /** Visits every history in ascending key order. */
  forEach(visitor: (history: KeyHistory) => void): void {
    for (const chunk of this.chunks) for (const history of chunk) visitor(history);
  }

  /** Keeps only the histories `keep` accepts (it may change them), re-chunking what is left. */
  retain(keep: (history: KeyHistory) => boolean): void {
    const kept: KeyHistory[] = [];
    this.forEach((history) => {
      if (keep(history)) kept.push(history);
    });
    this.chunks = [];
    this.keyCount = 0;
    this.appendSorted(kept);
  }

  /** Appends histories whose keys are ascending and after every key already present (restore). */
  appendSorted(histories: readonly KeyHistory[]): void {
    const half = KEY_INDEX_CHUNK_KEYS_MAX >>> 1;
    const last = this.chunks.at(-1)?.at(-1);
    if (last !== undefined && histories[0] !== undefined && compareBytes(last.key, histories[0].key) >= 0) {
      throw new Error('appendSorted: keys must come after every key in the index');
    }
    for (let i = 0; i < histories.length; i += half) this.chunks.push(histories.slice(i, i + half));
    this.keyCount += histories.length;
  }

  /** Where `key` is or would be inserted: the first key ≥ `key` (past the end when none). */
  private lowerBound(key: Uint8Array): Position {
    const chunks = this.chunks;
    let low = 0;
    let high = chunks.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const lastKey = chunks[middle]!.at(-1)!.key;
      if (compareBytes(lastKey, key) < 0) low = middle + 1;
      else high = middle;
    }
    const chunk = chunks[low];
    if (chunk === undefined) return { chunk: low, offset: 0 };
    let first = 0;
    let end = chunk.length;
    while (first < end) {
      const middle = (first + end) >>> 1;
      if (compareBytes(chunk[middle]!.key, key) < 0) first = middle + 1;
      else end = middle;
    }
    return { chunk: low, offset: first };
  }

  private insertAt(position: Position, history: KeyHistory): void {
    this.keyCount++;
    if (this.chunks.length === 0) {
      this.chunks.push([history]);
      return;
    }
    // Past the last key: append to the last chunk rather than start a one-key chunk.
    const chunkIndex = Math.min(position.chunk, this.chunks.length - 1);
    const chunk = this.chunks[chunkIndex]!;
    const offset = position.chunk === chunkIndex ? position.offset : chunk.length;
    chunk.splice(offset, 0, history);
    if (chunk.length > KEY_INDEX_CHUNK_KEYS_MAX) {
      const upperHalf = chunk.splice(chunk.length >>> 1);
      this.chunks.splice(chunkIndex + 1, 0, upperHalf);
    }
  }
}
