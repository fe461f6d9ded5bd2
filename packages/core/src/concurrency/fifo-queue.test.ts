import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { FifoQueue } from './fifo-queue.js';

test('behaves like an array used as a queue, across growth and wrap-around', () => {
  const operation = fc.oneof(
    fc.record({ kind: fc.constant('push' as const), value: fc.integer() }),
    fc.record({ kind: fc.constant('shift' as const), value: fc.constant(0) }),
    fc.record({ kind: fc.constant('remove' as const), value: fc.integer({ min: -5, max: 5 }) }),
  );
  fc.assert(
    fc.property(fc.array(operation, { maxLength: 300 }), (operations) => {
      const queue = new FifoQueue<number>();
      const model: number[] = [];
      for (const { kind, value } of operations) {
        if (kind === 'push') {
          queue.push(value);
          model.push(value);
        } else if (kind === 'shift') {
          assert.equal(queue.shift(), model.shift());
        } else {
          const index = model.indexOf(value);
          assert.equal(queue.remove(value), index >= 0);
          if (index >= 0) model.splice(index, 1);
        }
        assert.equal(queue.length, model.length);
        assert.equal(queue.peek(), model[0]);
      }
      assert.deepEqual(queue.drain(), model);
      assert.equal(queue.length, 0);
    }),
  );
});
