import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ClosedError, QueueFullError } from './errors.js';
import { WorkerPool } from './worker-pool.js';

/** A task that stays pending until released (before or after it starts); records its start. */
function gated(started: number[], id: number) {
  let release: () => void = () => undefined;
  const done = new Promise<number>((resolve) => {
    release = () => resolve(id);
  });
  const task = () => {
    started.push(id);
    return done;
  };
  return { task, release: () => release() };
}

describe('WorkerPool', () => {
  test('runs at most `concurrency` tasks at once, starting queued ones in order', async () => {
    const pool = new WorkerPool({ concurrency: 2, maxQueueLength: 10 });
    const started: number[] = [];
    const gates = [0, 1, 2, 3].map((id) => gated(started, id));
    const results = gates.map(({ task }) => pool.run(task));
    await Promise.resolve();
    assert.deepEqual(started, [0, 1]);
    assert.equal(pool.queuedCount, 2);
    gates[0]?.release();
    await results[0];
    assert.deepEqual(started, [0, 1, 2]);
    for (const gate of gates) gate.release();
    assert.deepEqual(await Promise.all(results), [0, 1, 2, 3]);
    await pool.onIdle();
    assert.equal(pool.activeCount, 0);
  });

  test("whenFull 'reject' refuses a task when the queue is full", async () => {
    const pool = new WorkerPool({ concurrency: 1, maxQueueLength: 1 });
    const started: number[] = [];
    const first = gated(started, 1);
    const second = gated(started, 2);
    const running = pool.run(first.task);
    const queued = pool.run(second.task);
    await assert.rejects(
      pool.submit(async () => 3),
      QueueFullError,
    );
    first.release();
    await running;
    second.release();
    assert.equal(await queued, 2);
  });

  test("whenFull 'wait' makes submit wait for room: back-pressure on the producer", async () => {
    const pool = new WorkerPool({ concurrency: 1, maxQueueLength: 1, whenFull: 'wait' });
    const started: number[] = [];
    const gates = [1, 2, 3].map((id) => gated(started, id));
    await pool.submit(gates[0]?.task ?? (() => 0));
    await pool.submit(gates[1]?.task ?? (() => 0));
    let accepted = false;
    const admission = pool.submit(gates[2]?.task ?? (() => 0));
    admission.then(() => (accepted = true));
    await Promise.resolve();
    assert.equal(accepted, false, 'the queue is full: the producer waits');
    assert.equal(pool.waitingSubmitters, 1);
    gates[0]?.release();
    const { result } = await admission;
    assert.equal(pool.waitingSubmitters, 0);
    gates[1]?.release();
    gates[2]?.release();
    assert.equal(await result, 3);
  });

  test('a task aborted while queued is dropped and rejects with the abort reason', async () => {
    const pool = new WorkerPool({ concurrency: 1, maxQueueLength: 5 });
    const started: number[] = [];
    const blocker = gated(started, 1);
    const running = pool.run(blocker.task);
    const controller = new AbortController();
    const dropped = pool.run(async () => 2, controller.signal);
    controller.abort(new Error('not needed'));
    await assert.rejects(dropped, /not needed/);
    assert.equal(pool.queuedCount, 0);
    blocker.release();
    await running;
    await pool.onIdle();
  });

  test('a failing task frees its slot and rejects only its own result', async () => {
    const pool = new WorkerPool({ concurrency: 1, maxQueueLength: 5 });
    const failing = pool.run(() => {
      throw new Error('task failed');
    });
    const next = pool.run(async () => 'next');
    await assert.rejects(failing, /task failed/);
    assert.equal(await next, 'next');
  });

  test('close refuses new work but finishes what was accepted', async () => {
    const pool = new WorkerPool({ concurrency: 1, maxQueueLength: 5 });
    const started: number[] = [];
    const gate = gated(started, 1);
    const accepted = pool.run(gate.task);
    const closing = pool.close();
    await assert.rejects(
      pool.run(async () => 2),
      ClosedError,
    );
    gate.release();
    await closing;
    assert.equal(await accepted, 1);
  });
});

test('for any mix of task lengths, never exceeds its concurrency or queue bound, and every result reaches its caller', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 5 }),
      fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 60 }),
      async (concurrency, ticksPerTask) => {
        const pool = new WorkerPool({ concurrency, maxQueueLength: 8, whenFull: 'wait' });
        let running = 0;
        let peak = 0;
        const results: Promise<number>[] = [];
        for (const [index, ticks] of ticksPerTask.entries()) {
          const { result } = await pool.submit(async () => {
            running++;
            peak = Math.max(peak, running);
            for (let tick = 0; tick < ticks; tick++) await Promise.resolve();
            running--;
            return index;
          });
          assert.ok(pool.queuedCount <= 8);
          results.push(result);
        }
        assert.deepEqual(
          await Promise.all(results),
          ticksPerTask.map((_, index) => index),
        );
        assert.ok(peak <= concurrency);
        await pool.onIdle();
      },
    ),
  );
});
