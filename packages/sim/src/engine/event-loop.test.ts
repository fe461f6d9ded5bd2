import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { EventLoop, type ExecutedEvent } from './event-loop.js';

describe('EventLoop', () => {
  test('events run in time order and advance virtual time to each', () => {
    const loop = new EventLoop();
    const seen: string[] = [];
    loop.schedule(30, () => seen.push(`c@${loop.now}`));
    loop.schedule(10, () => seen.push(`a@${loop.now}`));
    loop.schedule(20, () => seen.push(`b@${loop.now}`));
    loop.runUntil(100);
    assert.deepEqual(seen, ['a@10', 'b@20', 'c@30']);
    assert.equal(loop.now, 100);
    assert.equal(loop.eventsExecuted, 3);
  });

  test('events at the same time run first in, first out — including ones scheduled while running', () => {
    const loop = new EventLoop();
    const seen: string[] = [];
    loop.schedule(5, () => {
      seen.push('first');
      loop.schedule(0, () => seen.push('scheduled-by-first'));
    });
    loop.schedule(5, () => seen.push('second'));
    loop.runUntil(5);
    assert.deepEqual(seen, ['first', 'second', 'scheduled-by-first']);
  });

  test('the heap runs any mix of schedules and cancels in (time, insertion) order', () => {
    const operation = fc.oneof(
      fc.record({ kind: fc.constant('schedule' as const), delayMs: fc.integer({ min: 0, max: 20 }) }),
      fc.record({ kind: fc.constant('cancel' as const), which: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 200 }), (operations) => {
        const loop = new EventLoop();
        const expected: { atMs: number; order: number; id: number }[] = [];
        const ran: number[] = [];
        for (const [order, op] of operations.entries()) {
          if (op.kind === 'schedule') {
            const id = loop.schedule(op.delayMs, () => ran.push(id));
            expected.push({ atMs: op.delayMs, order, id });
          } else if (expected.length > 0) {
            const [victim] = expected.splice(op.which % expected.length, 1);
            assert.equal(loop.cancel(victim!.id), true);
          }
        }
        assert.equal(loop.pendingEvents, expected.length);
        loop.runUntil(1_000);
        expected.sort((left, right) => left.atMs - right.atMs || left.order - right.order);
        assert.deepEqual(
          ran,
          expected.map((entry) => entry.id),
        );
      }),
      { numRuns: 300 },
    );
  });

  test('cancel reports whether the event was still pending', () => {
    const loop = new EventLoop();
    let fired = false;
    const id = loop.schedule(10, () => {
      fired = true;
    });
    assert.equal(loop.cancel(id), true);
    assert.equal(loop.cancel(id), false);
    assert.equal(loop.cancel(12345), false);
    loop.runUntil(20);
    assert.equal(fired, false);
    const ran = loop.schedule(1, () => {});
    loop.runUntil(30);
    assert.equal(loop.cancel(ran), false);
  });

  test('an event can cancel a later one', () => {
    const loop = new EventLoop();
    const seen: string[] = [];
    const later = loop.schedule(10, () => seen.push('later'));
    loop.schedule(5, () => loop.cancel(later));
    loop.runUntil(20);
    assert.deepEqual(seen, []);
  });

  test('step returns false on an empty queue and runUntil leaves later events pending', () => {
    const loop = new EventLoop();
    assert.equal(loop.step(), false);
    loop.schedule(50, () => {});
    assert.equal(loop.runUntil(49), 0);
    assert.equal(loop.pendingEvents, 1);
    assert.equal(loop.nextEventAtMs(), 50);
    assert.equal(loop.step(), true);
    assert.equal(loop.now, 50);
  });

  test('runWhile stops when the predicate turns false, the queue empties, or the budget ends', () => {
    const loop = new EventLoop();
    let count = 0;
    const tick = (): void => {
      count++;
      loop.schedule(1, tick);
    };
    loop.schedule(1, tick);
    assert.deepEqual(
      loop.runWhile(() => count < 5, 100),
      { outcome: 'predicate-false', eventsExecuted: 5 },
    );
    assert.deepEqual(
      loop.runWhile(() => true, 10),
      { outcome: 'max-events', eventsExecuted: 10 },
    );
    const idle = new EventLoop();
    idle.schedule(1, () => {});
    assert.deepEqual(
      idle.runWhile(() => true, 10),
      { outcome: 'queue-empty', eventsExecuted: 1 },
    );
  });

  test('exceeding maxPendingEvents throws an error that names the limit', () => {
    const loop = new EventLoop({ maxPendingEvents: 3 });
    for (let index = 0; index < 3; index++) loop.schedule(1, () => {});
    assert.throws(() => loop.schedule(1, () => {}, 'heartbeat'), /maxPendingEvents.*heartbeat/s);
  });

  test('a zero-delay loop makes runUntil throw instead of hanging', () => {
    const loop = new EventLoop();
    const spin = (): void => {
      loop.schedule(0, spin, 'spin');
    };
    loop.schedule(0, spin, 'spin');
    assert.throws(() => loop.runUntil(10, 1_000), /without advancing time.*spin/s);
  });

  test('scheduling in the past or with a bad delay is refused', () => {
    const loop = new EventLoop();
    loop.runUntil(100);
    assert.throws(() => loop.scheduleAt(99, () => {}), RangeError);
    assert.throws(() => loop.schedule(-1, () => {}), RangeError);
    assert.throws(() => loop.schedule(Number.NaN, () => {}), RangeError);
    assert.throws(() => loop.runUntil(50), RangeError);
  });

  test('the observer sees every executed event with its label', () => {
    const seen: ExecutedEvent[] = [];
    const loop = new EventLoop({ onEvent: (event) => seen.push(event) });
    loop.schedule(2, () => {}, 'b');
    loop.schedule(1, () => {}, 'a');
    loop.runUntil(5);
    assert.deepEqual(
      seen.map((event) => `${event.atMs}:${event.label}`),
      ['1:a', '2:b'],
    );
  });
});
