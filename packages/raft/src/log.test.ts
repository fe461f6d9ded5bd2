// The follower's side of AppendEntries (Raft Figure 2, receiver steps 2–5) and the log bookkeeping
// around it: only a real term conflict truncates, the commit index never moves back, and the
// term hints that make backtracking fast (etcd's findConflictByTerm).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { RaftLog } from './log.js';
import { conf, entriesWithTerms, storageWithLog } from './network.fixture.js';
import { MemoryStorage } from './storage.js';
import type { Entry } from './types.js';
import { RaftInvariantError } from './types.js';

/** A log whose entries 1..n have `terms`, all persisted, with `commit` committed. */
function logWith(terms: readonly number[], commit = 0): RaftLog {
  return new RaftLog(storageWithLog(conf(['a']), terms, { term: Math.max(0, ...terms), commit }));
}

function termsOf(log: RaftLog): number[] {
  const terms: number[] = [];
  for (let index = log.firstIndex(); index <= log.lastIndex(); index++) terms.push(log.term(index)!);
  return terms;
}

describe('appending as a follower', () => {
  test('a duplicated append of entries we already hold changes nothing, even when shorter than our log', () => {
    const log = logWith([1, 1, 2, 2, 3]);
    const lastNew = log.maybeAppend(1, 1, 0, entriesWithTerms([1, 2], 2));
    assert.equal(lastNew, 3, 'it matches through its own last entry');
    assert.deepEqual(termsOf(log), [1, 1, 2, 2, 3], 'entries 4 and 5 survive');
  });

  test('an entry with a different term truncates our log from that index on', () => {
    const log = logWith([1, 1, 2, 2, 3]);
    assert.equal(log.maybeAppend(2, 1, 0, entriesWithTerms([4], 3)), 3);
    assert.deepEqual(termsOf(log), [1, 1, 4]);
  });

  test('entries partly matching and partly new are appended after the matching part', () => {
    const log = logWith([1, 1, 2]);
    assert.equal(log.maybeAppend(1, 1, 0, entriesWithTerms([1, 2, 2, 2], 2)), 5);
    assert.deepEqual(termsOf(log), [1, 1, 2, 2, 2]);
  });

  test('an append whose previous entry we lack or hold with another term is refused and changes nothing', () => {
    const log = logWith([1, 1, 2]);
    assert.equal(log.maybeAppend(5, 2, 3, entriesWithTerms([2], 6)), undefined);
    assert.equal(log.maybeAppend(3, 1, 3, entriesWithTerms([3], 4)), undefined);
    assert.deepEqual(termsOf(log), [1, 1, 2]);
    assert.equal(log.committed, 0);
  });

  test('the commit index follows the leader only as far as the entries known to match', () => {
    const log = logWith([1, 1, 2, 9, 9]); // 4 and 5 are a stale tail the leader has not overwritten yet
    log.maybeAppend(1, 1, 5, entriesWithTerms([1, 2], 2));
    assert.equal(log.committed, 3, 'not 5: entries 4 and 5 were not checked against the leader');
  });

  test('the commit index never moves back', () => {
    const log = logWith([1, 1, 2], 3);
    log.commitTo(1);
    log.maybeAppend(1, 1, 2, []);
    assert.equal(log.committed, 3);
  });

  test('a conflict below the commit index is a broken invariant, not a truncation', () => {
    const log = logWith([1, 1, 2], 2);
    assert.throws(() => log.maybeAppend(1, 1, 0, entriesWithTerms([3], 2)), RaftInvariantError);
  });

  test('findConflict names the first entry we lack or hold with another term', () => {
    const log = logWith([1, 1, 2]);
    assert.equal(log.findConflict(entriesWithTerms([1, 1, 2])), 0);
    assert.equal(log.findConflict(entriesWithTerms([1, 2], 2)), 0);
    assert.equal(log.findConflict(entriesWithTerms([1, 3, 3], 2)), 3);
    assert.equal(log.findConflict(entriesWithTerms([2, 3], 3)), 4);
  });

  test('any sequence of stale, duplicated and reordered appends from one leader keeps the follower a growing prefix of the leader log', () => {
    const leaderTerms = fc
      .array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 30 })
      .map((steps) => {
        const terms: number[] = [];
        for (const step of steps) terms.push((terms.at(-1) ?? 1) + step);
        return terms;
      });
    fc.assert(
      fc.property(leaderTerms, fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 40 }), (terms, slices) => {
        const leader = entriesWithTerms(terms);
        const log = logWith([]);
        for (const [from, length] of slices) {
          const prev = from % (leader.length + 1);
          const entries = leader.slice(prev, prev + (length % 8));
          const lastBefore = log.lastIndex();
          log.maybeAppend(prev, prev === 0 ? 0 : leader[prev - 1]!.term, 0, entries);
          assert.ok(log.lastIndex() >= lastBefore, 'a message from the same leader never shortens the log');
          assert.deepEqual(termsOf(log), terms.slice(0, log.lastIndex()));
        }
      }),
    );
  });
});

describe('backtracking hints', () => {
  // index: 1 2 3 4 5 6 7
  // term:  1 1 2 2 5 5 5
  const log = logWith([1, 1, 2, 2, 5, 5, 5]);

  test('findConflictByTerm returns the last index at or below the probe whose term is not above the hint term', () => {
    const cases: [index: number, term: number, expected: { index: number; term: number }][] = [
      [7, 5, { index: 7, term: 5 }],
      [7, 4, { index: 4, term: 2 }],
      [7, 2, { index: 4, term: 2 }],
      [3, 1, { index: 2, term: 1 }],
      [7, 0, { index: 0, term: 0 }],
      [20, 3, { index: 4, term: 2 }], // beyond our log: start from our last entry
      [0, 9, { index: 0, term: 0 }],
    ];
    for (const [index, term, expected] of cases) {
      assert.deepEqual(
        log.findConflictByTerm(index, term),
        expected,
        `findConflictByTerm(${index}, ${term})`,
      );
    }
  });

  test('below a compacted prefix the hint stops at the first unknown index with term 0', () => {
    const storage = storageWithLog(conf(['a']), [1, 2, 3, 3, 3], { term: 3, commit: 5 });
    storage.createSnapshot(3, conf(['a']), new Uint8Array(0));
    storage.compact(3);
    const compacted = new RaftLog(storage);
    assert.deepEqual(compacted.findConflictByTerm(5, 2), { index: 2, term: 0 });
  });

  test('a candidate log is at least as up to date when its last term is higher, or equal with an index at least ours (§5.4.1)', () => {
    // ours: last index 7, last term 5
    assert.equal(log.isUpToDate(1, 6), true, 'a higher last term wins even with a much shorter log');
    assert.equal(log.isUpToDate(100, 4), false, 'a longer log with a lower last term loses');
    assert.equal(log.isUpToDate(7, 5), true);
    assert.equal(log.isUpToDate(6, 5), false);
  });
});

describe('stable and unstable parts', () => {
  test('entries appended in memory are unstable until persisted, and a persist of a replaced entry is ignored', () => {
    const storage = storageWithLog(conf(['a']), [1, 1], { term: 1, commit: 0 });
    const log = new RaftLog(storage);
    log.append(entriesWithTerms([2, 2], 3));
    assert.equal(log.stableLastIndex(), 2);
    assert.deepEqual(
      log.unstable().entries.map((e) => e.index),
      [3, 4],
    );
    log.maybeAppend(2, 1, 0, entriesWithTerms([3], 3)); // a new leader replaces 3 and 4
    log.stableTo(4, 2); // the driver reports the old entry 4 as persisted: not ours any more
    assert.equal(log.stableLastIndex(), 2);
    storage.append(log.unstable().entries as Entry[]);
    log.stableTo(3, 3);
    assert.equal(log.stableLastIndex(), 3);
    assert.equal(log.hasUnstable(), false);
  });

  test('a slice spans stable and unstable entries and stops at the byte limit but always holds one entry', () => {
    const log = new RaftLog(storageWithLog(conf(['a']), [1, 1, 1], { term: 1, commit: 0 }));
    log.append(entriesWithTerms([1, 1], 4));
    assert.deepEqual(
      log.slice(2, 6, Number.POSITIVE_INFINITY).map((e) => e.index),
      [2, 3, 4, 5],
    );
    assert.equal(log.slice(2, 6, 1).length, 1);
  });

  test('committed entries are handed out once, in order, and never while a snapshot is waiting to be applied', () => {
    const log = new RaftLog(storageWithLog(conf(['a']), [1, 1, 1], { term: 1, commit: 3 }));
    assert.deepEqual(
      log.nextCommittedEntries(Number.POSITIVE_INFINITY).map((e) => e.index),
      [1, 2, 3],
    );
    log.applyingTo(3);
    assert.deepEqual(log.nextCommittedEntries(Number.POSITIVE_INFINITY), []);
    log.restore({ metadata: { index: 10, term: 2, confState: conf(['a']) }, data: new Uint8Array(0) });
    assert.equal(log.hasNextCommittedEntries(), false);
    assert.equal(log.firstIndex(), 11);
    assert.equal(log.term(10), 2);
    assert.equal(log.term(3), undefined, 'the old log is gone');
  });

  test('a node refuses to start when its persisted commit index is beyond its persisted log', () => {
    const storage = new MemoryStorage(conf(['a']));
    storage.setHardState({ term: 1, vote: '', commit: 4 });
    assert.throws(() => new RaftLog(storage), RaftInvariantError);
  });
});
