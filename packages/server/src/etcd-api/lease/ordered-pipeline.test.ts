import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { answerInOrder } from './ordered-pipeline.js';

const SEED = Number(process.env.LEASE_PIPELINE_SEED ?? 20_250_305);

/** A request stream the test feeds by hand, like the gRPC server's RequestQueue. */
class Feed<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiter: ((result: IteratorResult<T>) => void) | undefined;
  private failWaiter: ((error: unknown) => void) | undefined;
  private ended = false;
  returned = false;

  push(item: T): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    if (waiter !== undefined) waiter({ value: item, done: false });
    else this.items.push(item);
  }

  end(): void {
    this.ended = true;
    this.waiter?.({ value: undefined, done: true });
  }

  fail(error: unknown): void {
    this.failWaiter?.(error);
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        const item = this.items.shift();
        if (item !== undefined) return Promise.resolve({ value: item, done: false });
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => {
          this.waiter = resolve;
          this.failWaiter = reject;
        });
      },
      return: () => {
        this.returned = true;
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

async function* listOf<T>(items: readonly T[]): AsyncIterable<T> {
  for (const item of items) yield item;
}

describe('answerInOrder', () => {
  test('answers arrive in request order whatever order the answers finish in, with at most N in flight', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 8 }),
        async (delaysMs, inFlightMax) => {
          let running = 0;
          let mostRunning = 0;
          const sent: number[] = [];
          const stats = { inFlight: 0 };
          await answerInOrder(
            listOf(delaysMs.map((delayMs, index) => ({ index, delayMs }))),
            async ({ index, delayMs }) => {
              running++;
              mostRunning = Math.max(mostRunning, running);
              assert.ok(stats.inFlight <= inFlightMax);
              await sleep(delayMs);
              running--;
              return index;
            },
            async (index) => {
              sent.push(index);
            },
            { inFlightMax, stats },
          );
          assert.deepEqual(
            sent,
            delaysMs.map((_, index) => index),
          );
          assert.ok(mostRunning <= inFlightMax, `${mostRunning} answers ran at once, limit ${inFlightMax}`);
          assert.equal(stats.inFlight, 0);
        },
      ),
      { seed: SEED, numRuns: 40 },
    );
  });

  test('answers are sent as they finish, without waiting for more requests', async () => {
    const feed = new Feed<number>();
    const sent: number[] = [];
    const done = answerInOrder(
      feed,
      async (n) => n * 10,
      async (n) => void sent.push(n),
      { inFlightMax: 4 },
    );
    feed.push(1);
    await sleep(5);
    assert.deepEqual(sent, [10]);
    feed.push(2);
    await sleep(5);
    assert.deepEqual(sent, [10, 20]);
    feed.end();
    await done;
  });

  test('at the bound it stops reading requests until an answer is sent', async () => {
    const feed = new Feed<number>();
    const release: (() => void)[] = [];
    let started = 0;
    const done = answerInOrder(
      feed,
      (n) => {
        started++;
        return new Promise<number>((resolve) => release.push(() => resolve(n)));
      },
      async () => {},
      { inFlightMax: 2 },
    );
    for (let i = 0; i < 5; i++) feed.push(i);
    await sleep(5);
    assert.equal(started, 2);
    release.shift()!();
    await sleep(5);
    assert.equal(started, 3);
    for (;;) {
      await sleep(1);
      const next = release.shift();
      if (next === undefined && started === 5) break;
      next?.();
    }
    feed.end();
    await done;
  });

  test('a failed answer rejects, stops reading and drops what is pending', async () => {
    const feed = new Feed<number>();
    const sent: number[] = [];
    const stats = { inFlight: 0 };
    const done = answerInOrder(
      feed,
      async (n) => {
        if (n === 2) throw new Error('backend failed');
        await sleep(n === 3 ? 20 : 0);
        return n;
      },
      async (n) => void sent.push(n),
      { inFlightMax: 8, stats },
    );
    feed.push(1);
    feed.push(2);
    feed.push(3);
    await assert.rejects(done, /backend failed/);
    assert.deepEqual(sent, [1]);
    assert.equal(stats.inFlight, 0);
    feed.push(4);
    await sleep(1);
    assert.equal(feed.returned, true, 'the request stream was not released');
  });

  test('a cancelled request stream rejects even while answers are pending', async () => {
    const feed = new Feed<number>();
    const stats = { inFlight: 0 };
    const done = answerInOrder(
      feed,
      () => new Promise<number>(() => {}),
      async () => {},
      { inFlightMax: 8, stats },
    );
    feed.push(1);
    await sleep(1);
    assert.equal(stats.inFlight, 1);
    feed.fail(new Error('cancelled'));
    await assert.rejects(done, /cancelled/);
    assert.equal(stats.inFlight, 0);
  });

  test('an aborted signal stops it at once, even with answers that never finish or a request stream that ended', async () => {
    const feed = new Feed<number>();
    const stats = { inFlight: 0 };
    const controller = new AbortController();
    const done = answerInOrder(
      feed,
      () => new Promise<number>(() => {}),
      async () => {},
      {
        inFlightMax: 8,
        stats,
        signal: controller.signal,
      },
    );
    feed.push(1);
    feed.push(2);
    feed.end(); // what a cancelled call can look like to the iteration
    await sleep(1);
    assert.equal(stats.inFlight, 2);
    controller.abort(new Error('call cancelled'));
    await assert.rejects(done, /call cancelled/);
    assert.equal(stats.inFlight, 0);
  });
});
