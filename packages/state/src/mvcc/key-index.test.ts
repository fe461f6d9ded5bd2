import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { compareBytes, rangeBound } from './bytes.js';
import { KEY_INDEX_CHUNK_KEYS_MAX, KeyIndex } from './key-index.js';

// ~1,700 possible keys: enough to split chunks, few enough that ranges and removals hit.
const keyArb = fc.uint8Array({ minLength: 1, maxLength: 2, max: 40 });

function keysIn(index: KeyIndex, key: Uint8Array, rangeEnd: Uint8Array): Uint8Array[] {
  const keys: Uint8Array[] = [];
  index.visit(key, rangeBound(rangeEnd), (history) => {
    keys.push(history.key);
    return true;
  });
  return keys;
}

function expectedIn(sorted: readonly Uint8Array[], key: Uint8Array, rangeEnd: Uint8Array): Uint8Array[] {
  if (rangeEnd.length === 0) return sorted.filter((k) => compareBytes(k, key) === 0);
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return sorted.filter((k) => compareBytes(k, key) >= 0);
  return sorted.filter((k) => compareBytes(k, key) >= 0 && compareBytes(k, rangeEnd) < 0);
}

describe('KeyIndex', () => {
  test('visits exactly the keys of a range in byte order, across chunk splits, removals and re-chunking', () => {
    fc.assert(
      fc.property(
        fc.array(keyArb, { maxLength: 100 }),
        fc.array(keyArb, { maxLength: 50 }),
        fc.array(
          fc.tuple(
            keyArb,
            fc.oneof(fc.constant(new Uint8Array(0)), fc.constant(new Uint8Array([0])), keyArb),
          ),
          {
            maxLength: 10,
          },
        ),
        (inserted, removed, ranges) => {
          const index = new KeyIndex();
          const expected = new Map<string, Uint8Array>();
          for (const key of inserted) {
            index.getOrCreate(key);
            expected.set(key.join(','), key);
          }
          for (const key of removed) {
            if (!expected.delete(key.join(','))) continue;
            index.remove(key);
          }
          const sorted = [...expected.values()].sort(compareBytes);
          assert.equal(index.size, sorted.length);
          for (const [key, rangeEnd] of ranges)
            assert.deepEqual(keysIn(index, key, rangeEnd), expectedIn(sorted, key, rangeEnd));
          index.retain((history) => history.key[0] !== 0);
          const retained = sorted.filter((key) => key[0] !== 0);
          assert.deepEqual(keysIn(index, new Uint8Array([0]), new Uint8Array([0])), retained);
          for (const key of retained) assert.deepEqual(index.get(key)?.key, key);
        },
      ),
      { seed: 11, numRuns: 60 },
    );
  });

  test('thousands of keys in random order split into chunks that keep byte order (seeded)', () => {
    // A small linear congruential generator: the same keys on every run.
    let state = 12_345;
    const next = () => {
      state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
      return state;
    };
    const index = new KeyIndex();
    const expected = new Map<string, Uint8Array>();
    for (let i = 0; i < 8 * KEY_INDEX_CHUNK_KEYS_MAX; i++) {
      const key = new Uint8Array([next() % 200, next() % 200]);
      index.getOrCreate(key);
      expected.set(key.join(','), key);
    }
    for (let i = 0; i < KEY_INDEX_CHUNK_KEYS_MAX; i++) {
      const key = new Uint8Array([next() % 200, next() % 200]);
      if (expected.delete(key.join(','))) index.remove(key);
    }
    const sorted = [...expected.values()].sort(compareBytes);
    assert.equal(index.size, sorted.length);
    assert.deepEqual(keysIn(index, new Uint8Array([0]), new Uint8Array([0])), sorted);
    for (let i = 0; i < 50; i++) {
      const key = new Uint8Array([next() % 200]);
      const rangeEnd = new Uint8Array([next() % 200, next() % 200]);
      assert.deepEqual(keysIn(index, key, rangeEnd), expectedIn(sorted, key, rangeEnd));
    }
  });

  test('a visit stops when the visitor says so', () => {
    const index = new KeyIndex();
    for (let i = 0; i < 2000; i++) index.getOrCreate(new Uint8Array([i >> 8, i & 0xff]));
    let visited = 0;
    index.visit(new Uint8Array([0]), rangeBound(new Uint8Array([0])), () => ++visited < 700);
    assert.equal(visited, 700);
  });
});
