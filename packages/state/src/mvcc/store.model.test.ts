// Property tests: random sequences of put, delete, txn, compact and range against the naive
// reference model. fast-check prints the seed and the shrunk sequence of any failure; rerun one
// with MVCC_PROPERTY_SEED=<seed>.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { type RangeRequest, rangeRequest } from './etcd-types.js';
import { type Command, commandArb } from './mvcc-arbitraries.fixture.js';
import { ReferenceModel } from './reference-model.fixture.js';
import { MvccStore } from './store.js';

const SEED = Number(process.env.MVCC_PROPERTY_SEED ?? 20_240_611);
const RUNS = 250;
const everyKey = (revision: number): RangeRequest =>
  rangeRequest(new Uint8Array([0]), { rangeEnd: new Uint8Array([0]), revision });

/** Runs commands on both; every answer must match, and a refused write must leave no trace. */
function runAgainstModel(commands: readonly Command[]): MvccStore {
  const store = new MvccStore();
  const model = new ReferenceModel();
  for (const command of commands) {
    if (command.kind === 'read') {
      assert.deepStrictEqual(store.range(command.request), model.range(command.request));
      continue;
    }
    const before = store.snapshot();
    const result = store.apply(command.request);
    assert.deepStrictEqual(result, model.apply(command.request));
    if ('error' in result)
      assert.deepStrictEqual(store.snapshot(), before, 'a refused write changed the store');
    assert.equal(store.currentRevision, model.revision);
    assert.equal(store.compactedRevision, model.compacted);
  }
  // Every revision still readable holds exactly what the full history says.
  for (let revision = Math.max(1, store.compactedRevision); revision <= store.currentRevision; revision++) {
    assert.deepStrictEqual(store.range(everyKey(revision)), model.range(everyKey(revision)));
  }
  return store;
}

describe('MvccStore against a naive model of every version', () => {
  test('random put/delete/txn/compact/range sequences give the model’s answers, events and revisions', () => {
    fc.assert(
      fc.property(fc.array(commandArb, { maxLength: 40, size: 'max' }), (commands) => {
        runAgainstModel(commands);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  test('a snapshot restores the same store: answers, history, hash and further writes', () => {
    fc.assert(
      fc.property(
        fc.array(commandArb, { maxLength: 40, size: 'max' }),
        fc.array(commandArb, { maxLength: 10 }),
        (first, then) => {
          const store = runAgainstModel(first);
          const restored = MvccStore.restore(store.snapshot());
          assert.deepStrictEqual(restored.snapshot(), store.snapshot());
          assert.deepStrictEqual(restored.hashKv(0), store.hashKv(0));
          assert.deepStrictEqual(restored.stats, store.stats);
          for (
            let revision = Math.max(1, store.compactedRevision);
            revision <= store.currentRevision;
            revision++
          ) {
            assert.deepStrictEqual(restored.range(everyKey(revision)), store.range(everyKey(revision)));
          }
          for (const command of then) {
            if (command.kind === 'read')
              assert.deepStrictEqual(restored.range(command.request), store.range(command.request));
            else assert.deepStrictEqual(restored.apply(command.request), store.apply(command.request));
          }
          assert.deepStrictEqual(restored.hashKv(0), store.hashKv(0));
        },
      ),
      { seed: SEED + 1, numRuns: RUNS / 2 },
    );
  });
});
