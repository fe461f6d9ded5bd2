import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { QueueFullError } from './errors.js';
import { Semaphore } from './semaphore.js';

describe('Semaphore', () => {
  test('grants permits up to its count, then serves waiters first come, first served', async () => {
    const semaphore = new Semaphore(2);
    await semaphore.acquire();
    await semaphore.acquire();
    const order: string[] = [];
    const first = semaphore.acquire().then(() => order.push('first'));
    const second = semaphore.acquire().then(() => order.push('second'));
    assert.equal(semaphore.waiting, 2);
    semaphore.release();
    semaphore.release();
    await Promise.all([first, second]);
    assert.deepEqual(order, ['first', 'second']);
    assert.equal(semaphore.available, 0);
  });

  test('a released permit goes to the oldest waiter, not to a later tryAcquire', async () => {
    const semaphore = new Semaphore(1);
    assert.equal(semaphore.tryAcquire(), true);
    const waiter = semaphore.acquire();
    semaphore.release(); // goes to the waiter
    assert.equal(semaphore.tryAcquire(), false);
    await waiter;
    semaphore.release();
    assert.equal(semaphore.tryAcquire(), true);
  });

  test('an aborted acquire leaves the line and the next waiter gets the permit', async () => {
    const semaphore = new Semaphore(1);
    await semaphore.acquire();
    const controller = new AbortController();
    const abandoned = semaphore.acquire(controller.signal);
    const patient = semaphore.acquire();
    controller.abort(new Error('timed out waiting'));
    await assert.rejects(abandoned, /timed out waiting/);
    semaphore.release();
    await patient;
    assert.equal(semaphore.waiting, 0);
  });

  test('refuses waiters beyond maxWaiters with a coded error', async () => {
    const semaphore = new Semaphore(1, { maxWaiters: 1 });
    await semaphore.acquire();
    const waiting = semaphore.acquire();
    await assert.rejects(semaphore.acquire(), (error: QueueFullError) => error.code === 'QUEUE_FULL');
    semaphore.release();
    await waiting;
  });

  test('withPermit releases the permit when the work throws', async () => {
    const semaphore = new Semaphore(1);
    await assert.rejects(
      semaphore.withPermit(() => {
        throw new Error('work failed');
      }),
      /work failed/,
    );
    assert.equal(semaphore.available, 1);
  });

  test('releasing more than was acquired is a bug and throws', () => {
    assert.throws(() => new Semaphore(1).release(), /released more often than acquired/);
  });

  test('never lets more than its count run at once', async () => {
    const semaphore = new Semaphore(3);
    let running = 0;
    let peak = 0;
    const work = async (): Promise<void> => {
      running++;
      peak = Math.max(peak, running);
      for (let tick = 0; tick < 3; tick++) await Promise.resolve();
      running--;
    };
    await Promise.all(Array.from({ length: 50 }, () => semaphore.withPermit(work)));
    assert.equal(peak, 3);
    assert.equal(semaphore.available, 3);
  });
});
