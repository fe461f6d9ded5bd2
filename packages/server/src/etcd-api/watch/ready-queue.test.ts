import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ReadyQueue, type ReadyQueueItem } from './ready-queue.js';

interface Item extends ReadyQueueItem {
  readonly name: number;
}

const item = (name: number): Item => ({ name, readySlot: -1 });

test('ReadyQueue keeps first-in first-out order, ignores a second add, and forgets deleted items', () => {
  const queue = new ReadyQueue<Item>();
  const [a, b, c] = [item(1), item(2), item(3)];
  queue.add(a);
  queue.add(b);
  queue.add(a);
  queue.add(c);
  queue.delete(b);
  assert.equal(queue.size, 2);
  assert.deepEqual(
    [...queue.values()].map((x) => x.name),
    [1, 3],
  );
  assert.equal(queue.shift(), a);
  assert.equal(queue.has(a), false);
  queue.add(a);
  assert.deepEqual(
    [...queue.values()].map((x) => x.name),
    [3, 1],
  );
  queue.clear();
  assert.equal(queue.size, 0);
  assert.equal(queue.shift(), undefined);
  assert.equal(c.readySlot, -1);
});

test('ReadyQueue behaves as an ordered set under random adds, deletes and shifts, slots reused', () => {
  const operation = fc.oneof(
    fc.record({ kind: fc.constant('add' as const), item: fc.integer({ min: 0, max: 199 }) }),
    fc.record({ kind: fc.constant('delete' as const), item: fc.integer({ min: 0, max: 199 }) }),
    fc.record({ kind: fc.constant('shift' as const), times: fc.integer({ min: 1, max: 50 }) }),
  );
  fc.assert(
    fc.property(fc.array(operation, { maxLength: 400 }), (operations) => {
      const items = Array.from({ length: 200 }, (_, name) => item(name));
      const queue = new ReadyQueue<Item>();
      const model: Item[] = [];
      let peakQueued = 0;
      for (const op of operations) {
        if (op.kind === 'add') {
          queue.add(items[op.item]!);
          if (!model.includes(items[op.item]!)) model.push(items[op.item]!);
        } else if (op.kind === 'delete') {
          queue.delete(items[op.item]!);
          const at = model.indexOf(items[op.item]!);
          if (at >= 0) model.splice(at, 1);
        } else {
          for (let i = 0; i < op.times; i++) assert.equal(queue.shift(), model.shift());
        }
        peakQueued = Math.max(peakQueued, model.length);
        assert.equal(queue.size, model.length);
        assert.deepEqual([...queue.values()], model);
        for (const each of items) assert.equal(queue.has(each), model.includes(each));
      }
      // Slots are reused: the array stays within about twice the most items queued at once.
      const slots = (queue as unknown as { slots: unknown[] }).slots.length;
      assert.ok(slots <= 2 * peakQueued + 64, `${slots} slots for at most ${peakQueued} items`);
    }),
    { seed: 20_261_123, numRuns: 200 },
  );
});

test('a queue that never empties does not grow: taken slots are reclaimed', () => {
  const queue = new ReadyQueue<Item>();
  const items = Array.from({ length: 10 }, (_, name) => item(name));
  for (const each of items) queue.add(each);
  for (let round = 0; round < 10_000; round++) queue.add(queue.shift()!);
  assert.deepEqual(
    [...queue.values()].map((x) => x.name),
    items.map((x) => x.name),
  );
  assert.ok((queue as unknown as { slots: unknown[] }).slots.length <= 2 * 10 + 64);
});
