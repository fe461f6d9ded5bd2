import { Channel } from './channel.js';
import { ClosedError } from './errors.js';
import { FifoQueue } from './fifo-queue.js';

/** One stage's work on one item. The signal aborts when the pipeline fails or is cancelled. */
export type Transform<I, O> = (item: I, signal: AbortSignal) => PromiseLike<O> | O;

export interface StageOptions {
  /** Items this stage works on at once. Default 1. */
  concurrency?: number;
  /** Items buffered between this stage and the next. Default 16. */
  bufferSize?: number;
  /** Emit results in input order (default true) or as they finish. */
  ordered?: boolean;
}

export interface PipelineOptions {
  /** Cancels the whole pipeline: transforms see it abort and iteration rejects with its reason. */
  signal?: AbortSignal;
  /** Items read ahead from the source. Default 16. */
  sourceBufferSize?: number;
}

interface Stage {
  readonly transform: Transform<unknown, unknown>;
  readonly concurrency: number;
  readonly bufferSize: number;
  readonly ordered: boolean;
}

export const defaultBufferSize = 16;

/**
 * A pipeline of async stages joined by bounded buffers: a slow stage makes the ones before it
 * wait (back-pressure) instead of piling up items, and memory stays bounded by the buffer
 * sizes and concurrencies. The first error, or the caller's abort, stops every stage.
 * Each iteration runs the pipeline afresh; breaking out of the loop stops it.
 *
 * @example
 * const sizes = Pipeline.from(urls, { signal })
 *   .pipe((url, signal) => fetch(url, { signal }), { concurrency: 8 })
 *   .pipe((response) => response.arrayBuffer())
 *   .pipe((body) => body.byteLength);
 * for await (const size of sizes) console.log(size);
 */
export class Pipeline<T> implements AsyncIterable<T> {
  readonly #source: Iterable<unknown> | AsyncIterable<unknown>;
  readonly #stages: readonly Stage[];
  readonly #options: PipelineOptions;

  private constructor(
    source: Iterable<unknown> | AsyncIterable<unknown>,
    stages: readonly Stage[],
    options: PipelineOptions,
  ) {
    this.#source = source;
    this.#stages = stages;
    this.#options = options;
  }

  static from<T>(source: Iterable<T> | AsyncIterable<T>, options: PipelineOptions = {}): Pipeline<T> {
    return new Pipeline<T>(source, [], options);
  }

  /** A new pipeline with one more stage. */
  pipe<O>(transform: Transform<T, O>, options: StageOptions = {}): Pipeline<O> {
    const stage: Stage = {
      transform: transform as Transform<unknown, unknown>,
      concurrency: options.concurrency ?? 1,
      bufferSize: options.bufferSize ?? defaultBufferSize,
      ordered: options.ordered ?? true,
    };
    if (!(Number.isInteger(stage.concurrency) && stage.concurrency >= 1)) {
      throw new RangeError(`Pipeline: concurrency must be an integer ≥ 1 (got ${stage.concurrency})`);
    }
    return new Pipeline<O>(this.#source, [...this.#stages, stage], this.#options);
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return run(this.#source, this.#stages, this.#options) as AsyncIterator<T>;
  }

  /** Runs the pipeline to the end and collects its output. */
  async toArray(): Promise<T[]> {
    const items: T[] = [];
    for await (const item of this) items.push(item);
    return items;
  }
}

async function* run(
  source: Iterable<unknown> | AsyncIterable<unknown>,
  stages: readonly Stage[],
  options: PipelineOptions,
): AsyncGenerator<unknown> {
  const controller = new AbortController();
  const cancel = (): void => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) throw options.signal.reason;
  options.signal?.addEventListener('abort', cancel, { once: true });
  const channels = [
    new Channel<unknown>(options.sourceBufferSize ?? defaultBufferSize),
    ...stages.map((stage) => new Channel<unknown>(stage.bufferSize)),
  ];
  // Whatever stops the pipeline (an error, the caller, the consumer leaving) fails every buffer,
  // which wakes and stops every stage blocked on one.
  controller.signal.addEventListener('abort', () => {
    for (const channel of channels) channel.fail(controller.signal.reason);
  });
  const stop = (error: unknown): void => {
    if (!controller.signal.aborted) controller.abort(error);
  };
  pump(source, channels[0] as Channel<unknown>, controller.signal).catch(stop);
  stages.forEach((stage, index) => {
    const input = channels[index] as Channel<unknown>;
    const output = channels[index + 1] as Channel<unknown>;
    const running = stage.ordered
      ? runOrdered(stage, input, output, controller.signal)
      : runUnordered(stage, input, output, controller.signal);
    running.catch(stop);
  });
  try {
    yield* channels[channels.length - 1] as Channel<unknown>;
  } finally {
    options.signal?.removeEventListener('abort', cancel);
    stop(new ClosedError('Pipeline'));
  }
}

async function pump(
  source: Iterable<unknown> | AsyncIterable<unknown>,
  output: Channel<unknown>,
  signal: AbortSignal,
) {
  for await (const item of source) {
    if (signal.aborted) return;
    await output.send(item);
  }
  output.close();
}

/** Keeps up to `concurrency` transforms in flight and emits their results in input order. */
async function runOrdered(
  stage: Stage,
  input: Channel<unknown>,
  output: Channel<unknown>,
  signal: AbortSignal,
) {
  const inFlight = new FifoQueue<Promise<unknown>>();
  for (let next = await input.receive(); !next.done; next = await input.receive()) {
    const result = callTransform(stage.transform, next.value, signal);
    result.catch(ignoreHere); // reported when awaited below, in order
    inFlight.push(result);
    if (inFlight.length >= stage.concurrency) await output.send(await inFlight.shift());
  }
  while (inFlight.length > 0) await output.send(await inFlight.shift());
  output.close();
}

/** `concurrency` workers each take an item, transform it and pass it on as soon as it is done. */
async function runUnordered(
  stage: Stage,
  input: Channel<unknown>,
  output: Channel<unknown>,
  signal: AbortSignal,
) {
  const worker = async (): Promise<void> => {
    for (let next = await input.receive(); !next.done; next = await input.receive()) {
      await output.send(await callTransform(stage.transform, next.value, signal));
    }
  };
  await Promise.all(Array.from({ length: stage.concurrency }, worker));
  output.close();
}

function callTransform(
  transform: Transform<unknown, unknown>,
  item: unknown,
  signal: AbortSignal,
): Promise<unknown> {
  try {
    return Promise.resolve(transform(item, signal));
  } catch (error) {
    return Promise.reject(error);
  }
}

function ignoreHere(): void {}
