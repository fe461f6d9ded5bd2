import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { IntMap } from './int-map.js';

const operation = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), key: fc.nat(200), value: fc.nat() }),
  fc.record({ kind: fc.constant('delete' as const), key: fc.nat(200) }),
  // Large keys (sequence numbers past 2^32) and dense odd ones (HTTP/2 stream ids).
  fc.record({
    kind: fc.constant('set' as const),
    key: fc.constantFrom(2 ** 40 + 1, 2 ** 53 - 1, 2 ** 32),
    value: fc.nat(),
  }),
  fc.record({
    kind: fc.constant('delete' as const),
    key: fc.constantFrom(2 ** 40 + 1, 2 ** 53 - 1, 2 ** 32),
  }),
);

test('an IntMap behaves as a Map under any sequence of sets and deletes', () => {
  fc.assert(
    fc.property(fc.array(operation, { maxLength: 400 }), (operations) => {
      const map = new IntMap<{ value: number }>();
      const model = new Map<number, { value: number }>();
      for (const op of operations) {
        if (op.kind === 'set') {
          const boxed = { value: op.value };
          map.set(op.key, boxed);
          model.set(op.key, boxed);
        } else {
          assert.equal(map.delete(op.key), model.delete(op.key));
        }
        assert.equal(map.size, model.size);
      }
      for (let key = 0; key <= 200; key++) assert.equal(map.get(key), model.get(key));
      for (const [key, value] of model) assert.equal(map.get(key), value);
      const seen = new Map<number, { value: number }>();
      map.forEach((value, key) => {
        seen.set(key, value);
      });
      assert.deepEqual(seen, model);
      assert.equal(map.valuesArray().length, model.size);
    }),
    { numRuns: 300 },
  );
});

test('an IntMap spreads odd stream ids and keeps lookups right across growth', () => {
  const map = new IntMap<number>();
  for (let id = 1; id < 20_000; id += 2) map.set(id, id);
  for (let id = 1; id < 20_000; id += 4) assert.ok(map.delete(id));
  for (let id = 1; id < 20_000; id += 2) assert.equal(map.get(id), id % 4 === 1 ? undefined : id);
  assert.equal(map.size, 5_000);
});

test('an IntMap refuses keys it cannot hold and undefined values', () => {
  const map = new IntMap<number>();
  assert.throws(() => map.set(-1, 1), RangeError);
  assert.throws(() => map.set(1.5, 1), RangeError);
  assert.throws(() => map.set(1, undefined as unknown as number), TypeError);
});
