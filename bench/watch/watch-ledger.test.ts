import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { WatchLedger } from './watch-ledger.js';

/** Revisions of `puts` acknowledged puts, rising with gaps (other keys' writes would leave gaps). */
const revisions = fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 40 }).map((steps) => {
  let revision = 0;
  return steps.map((step) => (revision += step));
});

test('every watcher getting every revision once, in order, completes with no violation', () => {
  fc.assert(
    fc.property(revisions, fc.integer({ min: 1, max: 5 }), (puts, watchers) => {
      const ledger = new WatchLedger(watchers);
      let completedAt = -1;
      puts.forEach((revision, index) => {
        for (let watcher = 0; watcher < watchers; watcher++) {
          if (index === 0 && watcher === 0) assert.equal(ledger.expect(puts.length), false);
          if (ledger.record(watcher, revision)) completedAt = index;
        }
      });
      assert.equal(completedAt, puts.length - 1);
      assert.equal(ledger.complete, watchers);
      assert.ok(ledger.exactlyOnceInOrder());
      assert.equal(ledger.delivered, watchers * puts.length);
    }),
  );
});

test('a repeated, reordered or missing event is caught', () => {
  fc.assert(
    fc.property(revisions, fc.nat(), fc.constantFrom('repeat', 'swap', 'drop'), (puts, at, fault) => {
      const index = at % puts.length;
      const seen = [...puts];
      if (fault === 'repeat') seen.splice(index, 0, puts[index]!);
      else if (fault === 'drop') seen.splice(index, 1);
      else if (puts.length >= 2) {
        const other = index === puts.length - 1 ? index - 1 : index + 1;
        [seen[index], seen[other]] = [seen[other]!, seen[index]!];
      } else seen.push(puts[0]!); // a single put cannot be reordered: repeat it instead
      const ledger = new WatchLedger(2);
      for (const revision of puts) ledger.record(0, revision);
      for (const revision of seen) ledger.record(1, revision);
      ledger.expect(puts.length);
      assert.equal(ledger.exactlyOnceInOrder(), false);
      if (fault === 'drop') assert.equal(ledger.complete, 1);
      else assert.ok(ledger.orderViolations > 0);
    }),
  );
});

test('completion is counted whether the expected count comes before or after the events', () => {
  const early = new WatchLedger(1);
  early.expect(2);
  assert.equal(early.record(0, 1), false);
  assert.equal(early.record(0, 2), true);
  const late = new WatchLedger(1);
  late.record(0, 1);
  late.record(0, 2);
  assert.equal(late.expect(2), true);
  assert.equal(late.record(0, 3), false);
  assert.equal(late.complete, 0);
});
