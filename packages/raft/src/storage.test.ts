// MemoryStorage packs its older entries (EntryArchive): whatever the mix of appends, truncations,
// snapshots and compactions, it must answer exactly as a plain array of the entries would.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { MemoryStorage } from './storage.js';
import type { ConfState, Entry, EntryKind } from './types.js';
import { ENTRY_OVERHEAD_BYTES, entryBytes } from './types.js';

const CONF: ConfState = {
  voters: ['a'],
  votersOutgoing: [],
  learners: [],
  learnersNext: [],
  autoLeave: false,
};

function entry(index: number, term: number, kind: EntryKind = 'normal', size = index % 7): Entry {
  return { term, index, kind, data: new Uint8Array(size).fill(index % 251) };
}

/** The log as a plain array after a base entry: what MemoryStorage did before it packed entries. */
class ModelLog {
  base = { index: 0, term: 0 };
  snapshotIndex = 0;
  log: Entry[] = [];

  lastIndex(): number {
    return this.base.index + this.log.length;
  }

  term(index: number): number | undefined {
    if (index === this.base.index) return this.base.term;
    if (index < this.base.index || index > this.lastIndex()) return undefined;
    return this.log[index - this.base.index - 1]!.term;
  }

  append(entries: readonly Entry[]): void {
    this.log.length = entries[0]!.index - this.base.index - 1;
    this.log.push(...entries);
  }

  dropThrough(index: number, keep: boolean): void {
    const term = this.term(index)!;
    this.log = keep ? this.log.slice(index - this.base.index) : [];
    this.base = { index, term };
  }
}

type Step =
  | { readonly op: 'append'; readonly back: number; readonly count: number; readonly config: boolean }
  | { readonly op: 'snapshot'; readonly back: number }
  | { readonly op: 'compact'; readonly back: number }
  | { readonly op: 'install'; readonly ahead: number; readonly sameTerm: boolean };

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('append' as const),
      back: fc.nat(12),
      count: fc.integer({ min: 1, max: 20 }),
      config: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('snapshot' as const), back: fc.nat(30) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('compact' as const), back: fc.nat(30) }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('install' as const), ahead: fc.nat(10), sameTerm: fc.boolean() }),
  },
);

function assertSame(storage: MemoryStorage, model: ModelLog, probe: number): void {
  assert.equal(storage.firstIndex(), model.base.index + 1);
  assert.equal(storage.lastIndex(), model.lastIndex());
  for (let index = model.base.index - 2; index <= model.lastIndex() + 2; index++)
    assert.equal(storage.term(index), model.term(index), `term(${index})`);
  assert.deepEqual(storage.allEntries(), model.log);
  if (model.log.length === 0) return;
  // A window and a byte bound derived from `probe`: entries() stops before maxBytes (one at least).
  const lo = model.base.index + 1 + (probe % model.log.length);
  const hi = Math.min(model.lastIndex() + 1, lo + (probe % 9));
  const maxBytes = ENTRY_OVERHEAD_BYTES * (1 + (probe % 4)) + (probe % 13);
  const expected: Entry[] = [];
  let bytes = 0;
  for (const candidate of model.log.slice(lo - model.base.index - 1, hi - model.base.index - 1)) {
    bytes += entryBytes(candidate);
    if (expected.length > 0 && bytes > maxBytes) break;
    expected.push(candidate);
  }
  assert.deepEqual(storage.entries(lo, hi, maxBytes), expected, `entries(${lo}, ${hi}, ${maxBytes})`);
}

describe('MemoryStorage with packed older entries', () => {
  test('answers as a plain array through appends, truncations, snapshots and compactions', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(stepArbitrary, fc.nat()), { maxLength: 60 }),
        fc.integer({ min: 2, max: 9 }),
        (steps, recentEntriesMax) => {
          const storage = new MemoryStorage(CONF, { recentEntriesMax });
          const model = new ModelLog();
          let term = 1;
          for (const [step, probe] of steps) {
            const last = model.lastIndex();
            if (step.op === 'append') {
              // A rewrite from `back` entries before the end, never at or below the snapshot (Raft
              // truncates uncommitted entries only).
              const first = Math.max(model.snapshotIndex + 1, last + 1 - step.back);
              term++;
              const entries = Array.from({ length: step.count }, (_, offset) =>
                entry(first + offset, term, step.config && offset === 0 ? 'config' : 'normal'),
              );
              storage.append(entries);
              model.append(entries);
            } else if (step.op === 'snapshot') {
              const index = Math.max(model.snapshotIndex, last - step.back);
              if (index < model.base.index) continue;
              storage.createSnapshot(index, CONF, new Uint8Array(0));
              model.snapshotIndex = index;
            } else if (step.op === 'compact') {
              const index = Math.max(model.base.index, model.snapshotIndex - step.back);
              storage.compact(index);
              if (index > model.base.index) model.dropThrough(index, true);
            } else {
              // A leader's snapshot: within our log with its term (the suffix stays) or not.
              const index = Math.max(model.snapshotIndex + 1, last - 5 + step.ahead);
              const own = model.term(index);
              const snapshotTerm = step.sameTerm && own !== undefined ? own : term + 1;
              storage.applySnapshot({
                metadata: { index, term: snapshotTerm, confState: CONF },
                data: new Uint8Array(0),
              });
              model.snapshotIndex = index;
              if (own === snapshotTerm) model.dropThrough(index, true);
              else {
                model.base = { index, term: snapshotTerm };
                model.log = [];
              }
              term = Math.max(term, snapshotTerm);
            }
            assertSame(storage, model, probe);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test('an entry read back from the packed part is a copy: changing it changes nothing stored', () => {
    const storage = new MemoryStorage(CONF, { recentEntriesMax: 4 });
    storage.append(Array.from({ length: 50 }, (_, offset) => entry(offset + 1, 1, 'normal', 5)));
    const [first] = storage.entries(1, 2, Number.POSITIVE_INFINITY);
    assert.deepEqual(first, entry(1, 1, 'normal', 5));
    first!.data.fill(0xff);
    assert.deepEqual(storage.entries(1, 2, Number.POSITIVE_INFINITY), [entry(1, 1, 'normal', 5)]);
  });

  test('the newest entries come back as the very objects appended', () => {
    const storage = new MemoryStorage(CONF, { recentEntriesMax: 4 });
    const entries = Array.from({ length: 50 }, (_, offset) => entry(offset + 1, 1));
    storage.append(entries);
    assert.equal(storage.entries(50, 51, Number.POSITIVE_INFINITY)[0], entries[49]);
  });
});
