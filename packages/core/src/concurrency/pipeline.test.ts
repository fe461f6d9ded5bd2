import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Pipeline } from './pipeline.js';

const range = (count: number): number[] => Array.from({ length: count }, (_, index) => index);
const ticks = async (count: number): Promise<void> => {
  for (let tick = 0; tick < count; tick++) await Promise.resolve();
};

describe('Pipeline', () => {
  test('runs items through every stage, in order, with typed results', async () => {
    const output = await Pipeline.from(range(5))
      .pipe((item) => item * 10)
      .pipe(async (item) => `#${item}`)
      .toArray();
    assert.deepEqual(output, ['#0', '#10', '#20', '#30', '#40']);
  });

  test('an ordered stage with concurrency keeps input order even when later items finish first', async () => {
    let running = 0;
    let peak = 0;
    const output = await Pipeline.from(range(20))
      .pipe(
        async (item) => {
          running++;
          peak = Math.max(peak, running);
          await ticks(20 - item); // later items are faster
          running--;
          return item;
        },
        { concurrency: 4 },
      )
      .toArray();
    assert.deepEqual(output, range(20));
    assert.equal(peak, 4);
  });

  test('an unordered stage emits results as they finish', async () => {
    const output = await Pipeline.from([0, 1])
      .pipe(
        async (item) => {
          await ticks(item === 0 ? 30 : 0);
          return item;
        },
        { concurrency: 2, ordered: false },
      )
      .toArray();
    assert.deepEqual(output, [1, 0]);
  });

  test('bounded buffers hold back a fast source while the consumer is slow', async () => {
    let produced = 0;
    function* source(): Generator<number> {
      for (let item = 0; item < 1_000; item++) {
        produced++;
        yield item;
      }
    }
    const stages = Pipeline.from(source(), { sourceBufferSize: 2 }).pipe((item) => item, { bufferSize: 2 });
    const iterator = stages[Symbol.asyncIterator]();
    await iterator.next();
    await ticks(100);
    assert.ok(produced <= 8, `the source ran ahead by ${produced} items`);
    await iterator.return?.();
  });

  test('the first error stops every stage and reaches the consumer', async () => {
    const seen: number[] = [];
    const signals: AbortSignal[] = [];
    const pipeline = Pipeline.from(range(100))
      .pipe((item, signal) => {
        signals.push(signal);
        if (item === 3) throw new Error('bad item 3');
        return item;
      })
      .pipe((item) => {
        seen.push(item);
        return item;
      });
    await assert.rejects(pipeline.toArray(), /bad item 3/);
    assert.ok(signals.every((signal) => signal.aborted));
    assert.ok(seen.length <= 3);
  });

  test("the caller's abort cancels the pipeline with its reason", async () => {
    const controller = new AbortController();
    const pipeline = Pipeline.from(range(1_000), { signal: controller.signal }).pipe(async (item) => {
      if (item === 10) controller.abort(new Error('user cancelled'));
      await ticks(1);
      return item;
    });
    await assert.rejects(pipeline.toArray(), /user cancelled/);
  });

  test('breaking out of the loop stops the stages', async () => {
    let transformed = 0;
    const pipeline = Pipeline.from(range(10_000)).pipe((item) => {
      transformed++;
      return item;
    });
    for await (const item of pipeline) if (item === 5) break;
    await ticks(50);
    assert.ok(transformed < 100, `${transformed} items were transformed after the consumer left`);
  });
});
