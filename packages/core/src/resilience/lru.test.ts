import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { LruMap } from './lru.js';

test('evicts the least recently used key, where a read counts as a use', () => {
  const evicted: string[] = [];
  const recent = new LruMap<string, number>(2, (key) => evicted.push(key));
  recent.set('a', 1);
  recent.set('b', 2);
  recent.get('a');
  recent.set('c', 3);
  assert.deepEqual([...recent.keys()], ['a', 'c']);
  assert.deepEqual(evicted, ['b']);
});

test('never holds more than maxSize keys and agrees with a reference model', () => {
  const operation = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), key: fc.integer({ min: 0, max: 20 }) }),
    fc.record({ kind: fc.constant('get' as const), key: fc.integer({ min: 0, max: 20 }) }),
    fc.record({ kind: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 20 }) }),
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 8 }),
      fc.array(operation, { maxLength: 200 }),
      (maxSize, operations) => {
        const lru = new LruMap<number, number>(maxSize);
        let model: number[] = []; // keys, least recent first
        for (const { kind, key } of operations) {
          if (kind === 'set') {
            lru.set(key, key);
            model = [...model.filter((existing) => existing !== key), key].slice(-maxSize);
          } else if (kind === 'get') {
            const expected = model.includes(key) ? key : undefined;
            assert.equal(lru.get(key), expected);
            if (expected !== undefined) model = [...model.filter((existing) => existing !== key), key];
          } else {
            lru.delete(key);
            model = model.filter((existing) => existing !== key);
          }
          assert.ok(lru.size <= maxSize);
          assert.deepEqual([...lru.keys()], model);
        }
      },
    ),
  );
});
