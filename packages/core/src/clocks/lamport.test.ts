import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { LamportClock } from './lamport.js';

describe('LamportClock', () => {
  test('a local event advances the clock by one', () => {
    const clock = new LamportClock();
    assert.equal(clock.tick(), 1);
    assert.equal(clock.tick(), 2);
    assert.equal(clock.time, 2);
  });

  test('a receive moves past both the local and the remote time', () => {
    const clock = new LamportClock(3);
    assert.equal(clock.receive(10), 11);
    assert.equal(clock.receive(2), 12);
  });

  test('along any chain of sends and receives, a cause is stamped lower than its effect', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(3), fc.nat(3)), { maxLength: 50, size: 'max' }),
        fc.array(fc.nat(20), { minLength: 4, maxLength: 4 }),
        (messages, localEvents) => {
          const clocks = localEvents.map((count) => {
            const clock = new LamportClock();
            for (let event = 0; event < count; event++) clock.tick();
            return clock;
          });
          for (const [from, to] of messages) {
            const sent = clocks[from]!.tick();
            const received = clocks[to]!.receive(sent);
            assert.ok(sent < received);
          }
        },
      ),
    );
  });

  test('refuses negative or non-integer times', () => {
    assert.throws(() => new LamportClock(-1), RangeError);
    assert.throws(() => new LamportClock().receive(1.5), RangeError);
  });
});
