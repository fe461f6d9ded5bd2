import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { type IndexedRange, KeyRangeIndex, keyString } from './key-range-index.js';

const SEED = Number(process.env.WATCH_PROPERTY_SEED ?? 20_250_302);

function contains(range: IndexedRange, key: string): boolean {
  if (range.kind === 'key') return range.key === key;
  return range.start <= key && (range.end === undefined || key < range.end);
}

describe('KeyRangeIndex', () => {
  test('a key finds its exact-key items, the ranges containing it and the unbounded ranges from below', () => {
    const index = new KeyRangeIndex<string>();
    index.add({ kind: 'key', key: 'a/1' }, 'single');
    index.add({ kind: 'range', start: 'a/', end: 'a0' }, 'prefix');
    index.add({ kind: 'range', start: 'a/', end: 'a0' }, 'same prefix');
    index.add({ kind: 'range', start: 'a/2', end: undefined }, 'from a/2');
    index.add({ kind: 'range', start: 'b', end: 'c' }, 'b range');
    const found = (key: string): string[] => {
      const items: string[] = [];
      index.forEachContaining(key, (item) => items.push(item));
      return items.sort();
    };
    assert.deepEqual(found('a/1'), ['prefix', 'same prefix', 'single']);
    assert.deepEqual(found('a/3'), ['from a/2', 'prefix', 'same prefix']);
    assert.deepEqual(found('a0'), ['from a/2']); // range ends are exclusive
    assert.deepEqual(found('a'), []);
    index.remove({ kind: 'range', start: 'a/', end: 'a0' }, 'prefix');
    assert.deepEqual(found('a/1'), ['same prefix', 'single']);
    assert.equal(index.size, 4);
  });

  test('removing an item that is not there is a bug', () => {
    const index = new KeyRangeIndex<number>();
    index.add({ kind: 'range', start: 'a', end: 'b' }, 1);
    assert.throws(() => index.remove({ kind: 'range', start: 'a', end: 'c' }, 1));
    assert.throws(() => index.remove({ kind: 'key', key: 'a' }, 1));
    assert.throws(() => index.add({ kind: 'range', start: 'a', end: 'b' }, 1));
  });

  test('keyString orders keys as bytes, beyond ASCII too', () => {
    const keys = [[0x61], [0x61, 0x00], [0x7f], [0x80], [0xff], [0xff, 0xff]].map((b) => new Uint8Array(b));
    const strings = keys.map(keyString);
    assert.deepEqual([...strings].sort(), strings);
  });

  test('random adds, removes and lookups agree with a scan of every registered range', () => {
    const charArb = fc.constantFrom('a', 'b', 'c', '\u00ff', '\u0000');
    const keyArb = fc.array(charArb, { minLength: 0, maxLength: 3 }).map((chars) => chars.join(''));
    const rangeArb: fc.Arbitrary<IndexedRange> = fc.oneof(
      keyArb.map((key) => ({ kind: 'key' as const, key })),
      fc
        .tuple(keyArb, fc.option(keyArb, { nil: undefined }))
        .map(([start, end]) => ({ kind: 'range' as const, start, end })),
    );
    const opArb = fc.oneof(
      { weight: 3, arbitrary: rangeArb.map((range) => ({ kind: 'add' as const, range })) },
      { weight: 2, arbitrary: fc.nat().map((pick) => ({ kind: 'remove' as const, pick })) },
      { weight: 3, arbitrary: keyArb.map((key) => ({ kind: 'find' as const, key })) },
    );
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 200 }), (ops) => {
        const index = new KeyRangeIndex<number>();
        const registered = new Map<number, IndexedRange>();
        let nextItem = 0;
        for (const op of ops) {
          if (op.kind === 'add') {
            index.add(op.range, nextItem);
            registered.set(nextItem++, op.range);
          } else if (op.kind === 'remove' && registered.size > 0) {
            const item = [...registered.keys()][op.pick % registered.size]!;
            index.remove(registered.get(item)!, item);
            registered.delete(item);
          } else if (op.kind === 'find') {
            const found: number[] = [];
            index.forEachContaining(op.key, (item) => found.push(item));
            const expected = [...registered]
              .filter(([, range]) => contains(range, op.key))
              .map(([item]) => item);
            assert.deepEqual(
              found.sort((a, b) => a - b),
              expected,
            );
          }
          assert.equal(index.size, registered.size);
        }
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});
