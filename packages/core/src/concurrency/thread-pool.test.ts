import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { ClosedError, WorkerFailedError } from './errors.js';
import type { FixtureTask } from './thread-pool.fixture-worker.js';
import { ThreadPool } from './thread-pool.js';

const workerUrl = new URL('./thread-pool.fixture-worker.ts', import.meta.url);

/**
 * The fixture is TypeScript: each thread registers tsx before importing it (Node 20 does not
 * apply `--import` from a worker's execArgv, so `createWorker` does the registration itself).
 */
function createTypeScriptWorker(url: URL | string): Worker {
  const source = `import { register } from 'tsx/esm/api'; register(); await import(${JSON.stringify(String(url))});`;
  return new Worker(source, { eval: true });
}

const pools: ThreadPool<FixtureTask, number>[] = [];
function pool(size: number): ThreadPool<FixtureTask, number> {
  const created = new ThreadPool<FixtureTask, number>({
    workerUrl,
    size,
    createWorker: createTypeScriptWorker,
  });
  pools.push(created);
  return created;
}
after(() => Promise.all(pools.map((created) => created.destroy())));

describe('ThreadPool', () => {
  test('runs tasks on worker threads and returns their results', async () => {
    const squares = pool(2);
    const results = await Promise.all([1, 2, 3, 4, 5].map((value) => squares.run({ kind: 'square', value })));
    assert.deepEqual(results, [1, 4, 9, 16, 25]);
    assert.ok(squares.threadCount <= 2);
  });

  test('an error thrown in the worker rejects that task only, with its name and message', async () => {
    const threads = pool(1);
    await assert.rejects(threads.run({ kind: 'fail', message: 'value out of range' }), {
      name: 'RangeError',
      message: 'value out of range',
    });
    assert.equal(await threads.run({ kind: 'square', value: 3 }), 9);
  });

  test('a crashed thread fails its task with a coded error and is replaced', async () => {
    const threads = pool(1);
    const crash = await threads.run({ kind: 'crash' }).catch((error: unknown) => error);
    assert.ok(crash instanceof WorkerFailedError);
    assert.equal(crash.code, 'WORKER_FAILED');
    assert.equal(await threads.run({ kind: 'square', value: 4 }), 16);
  });

  test('aborting a running CPU-bound task terminates its thread and rejects with the reason', async () => {
    const threads = pool(1);
    const controller = new AbortController();
    const spinning = threads.run({ kind: 'spin', maxMs: 10_000 }, { signal: controller.signal });
    const queued = threads.run({ kind: 'square', value: 5 });
    await new Promise((resolve) => setTimeout(resolve, 50)); // let the spin start; not a timing assertion
    controller.abort(new Error('user cancelled'));
    await assert.rejects(spinning, /user cancelled/);
    assert.equal(await queued, 25, 'the queued task runs on a replacement thread');
  });

  test('transfers buffers instead of copying them', async () => {
    const threads = pool(1);
    const bytes = new Uint8Array([1, 2, 3, 4]);
    assert.equal(await threads.run({ kind: 'sum-bytes', bytes }, { transferList: [bytes.buffer] }), 10);
    assert.equal(bytes.byteLength, 0, 'the buffer moved to the worker');
  });

  test('close finishes queued work, then refuses more', async () => {
    const threads = pool(1);
    const pending = [threads.run({ kind: 'square', value: 6 }), threads.run({ kind: 'square', value: 7 })];
    await threads.close();
    assert.deepEqual(await Promise.all(pending), [36, 49]);
    await assert.rejects(threads.run({ kind: 'square', value: 1 }), ClosedError);
    assert.equal(threads.threadCount, 0);
  });
});
