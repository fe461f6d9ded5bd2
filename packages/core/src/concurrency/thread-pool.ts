// Node-only (worker_threads): exported from `concurrency/node.ts`, never from `concurrency/index.ts`,
// so the rest of the package stays usable in browsers.
import { availableParallelism } from 'node:os';
import { type TransferListItem, Worker, type WorkerOptions } from 'node:worker_threads';
import { ClosedError, QueueFullError, WorkerFailedError } from './errors.js';
import { FifoQueue } from './fifo-queue.js';
import { deserializeError, type TaskReply, type TaskRequest } from './thread-protocol.js';

export interface ThreadPoolOptions {
  /** The worker script; it must call `serveThreadTasks`. */
  workerUrl: URL | string;
  /** Worker threads at most (started on demand). Default: available parallelism − 1, at least 1. */
  size?: number;
  /** Tasks waiting for a free thread; one more is refused with {@link QueueFullError}. Default 1024. */
  maxQueueLength?: number;
  /** Passed to each `new Worker` (e.g. `resourceLimits`, `env`). */
  workerOptions?: WorkerOptions;
  /** Replaces `new Worker(workerUrl, workerOptions)`, e.g. to register a TypeScript loader first. */
  createWorker?: (workerUrl: URL | string, workerOptions: WorkerOptions | undefined) => Worker;
}

export interface ThreadTaskOptions {
  /** Objects moved to the worker instead of copied (e.g. an `ArrayBuffer`). */
  transferList?: readonly TransferListItem[];
  /** Aborting a queued task drops it; aborting a running one terminates its thread (CPU work cannot be interrupted otherwise). */
  signal?: AbortSignal;
}

interface ThreadTask {
  readonly taskId: number;
  readonly input: unknown;
  readonly options: ThreadTaskOptions;
  readonly resolve: (output: unknown) => void;
  readonly reject: (error: unknown) => void;
  onAbort: (() => void) | undefined;
}

interface Thread {
  readonly worker: Worker;
  current: ThreadTask | undefined;
  /** Why the pool terminated this thread, if it did: the reason its task rejects with. */
  terminationReason: unknown;
}

export const defaultThreadQueueLength = 1024;

/**
 * A pool of `worker_threads` for CPU-bound work: tasks queue (bounded) for a free thread; a
 * thread that crashes fails only its own task and is replaced.
 *
 * @example
 * const hashes = new ThreadPool<Uint8Array, string>({ workerUrl: new URL('./hash-worker.js', import.meta.url) });
 * const digest = await hashes.run(bytes);
 * await hashes.close();
 */
export class ThreadPool<Input, Output> {
  readonly size: number;
  readonly maxQueueLength: number;
  readonly #options: ThreadPoolOptions;
  readonly #threads = new Set<Thread>();
  readonly #queue = new FifoQueue<ThreadTask>();
  readonly #idleWaiters: (() => void)[] = [];
  #nextTaskId = 1;
  #closed = false;

  constructor(options: ThreadPoolOptions) {
    this.size = options.size ?? Math.max(1, availableParallelism() - 1);
    this.maxQueueLength = options.maxQueueLength ?? defaultThreadQueueLength;
    if (!(Number.isInteger(this.size) && this.size >= 1)) {
      throw new RangeError(`ThreadPool: size must be an integer ≥ 1 (got ${this.size})`);
    }
    this.#options = options;
  }

  /** Threads running a task now. */
  get busyCount(): number {
    let busy = 0;
    for (const thread of this.#threads) if (thread.current !== undefined) busy++;
    return busy;
  }

  get queuedCount(): number {
    return this.#queue.length;
  }

  /** Threads alive now (started on demand, up to `size`). */
  get threadCount(): number {
    return this.#threads.size;
  }

  /** Runs `input` through the worker's handler on some thread. */
  run(input: Input, options: ThreadTaskOptions = {}): Promise<Output> {
    if (this.#closed) return Promise.reject(new ClosedError('ThreadPool'));
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    if (
      this.#idleThread() === undefined &&
      this.#threads.size >= this.size &&
      this.#queue.length >= this.maxQueueLength
    ) {
      return Promise.reject(new QueueFullError('ThreadPool', this.maxQueueLength));
    }
    return new Promise<Output>((resolve, reject) => {
      const task: ThreadTask = {
        taskId: this.#nextTaskId++,
        input,
        options,
        resolve: resolve as (output: unknown) => void,
        reject,
        onAbort: undefined,
      };
      this.#watchAbort(task);
      this.#queue.push(task);
      this.#dispatch();
    });
  }

  /** Accepts no more tasks, lets queued and running ones finish, then stops every thread. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#queue.length > 0 || this.busyCount > 0) {
      await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    }
    await this.#terminateAll(new ClosedError('ThreadPool'));
  }

  /** Stops every thread now; queued and running tasks reject with {@link ClosedError}. */
  async destroy(): Promise<void> {
    this.#closed = true;
    for (const task of this.#queue.drain()) this.#settle(task, false, new ClosedError('ThreadPool'));
    await this.#terminateAll(new ClosedError('ThreadPool'));
  }

  /** Starts queued tasks on idle threads, spawning threads up to `size`. */
  #dispatch(): void {
    while (this.#queue.length > 0) {
      const thread = this.#idleThread() ?? (this.#threads.size < this.size ? this.#spawn() : undefined);
      if (thread === undefined) return;
      const task = this.#queue.shift() as ThreadTask;
      thread.current = task;
      const request: TaskRequest<unknown> = { taskId: task.taskId, input: task.input };
      thread.worker.postMessage(request, task.options.transferList);
    }
  }

  #idleThread(): Thread | undefined {
    for (const thread of this.#threads) if (thread.current === undefined) return thread;
    return undefined;
  }

  #spawn(): Thread {
    const { workerUrl, workerOptions, createWorker } = this.#options;
    const worker = createWorker
      ? createWorker(workerUrl, workerOptions)
      : new Worker(workerUrl, workerOptions);
    const thread: Thread = { worker, current: undefined, terminationReason: undefined };
    worker.on('message', (reply: TaskReply<unknown>) => this.#onReply(thread, reply));
    worker.on('error', (error) =>
      this.#onThreadDied(thread, new WorkerFailedError(error.message, { cause: error })),
    );
    worker.on('exit', (exitCode) =>
      this.#onThreadDied(thread, new WorkerFailedError(`exited with code ${exitCode}`)),
    );
    this.#threads.add(thread);
    return thread;
  }

  #onReply(thread: Thread, reply: TaskReply<unknown>): void {
    const task = thread.current;
    if (task === undefined || task.taskId !== reply.taskId) return;
    thread.current = undefined;
    if (reply.ok) this.#settle(task, true, reply.output);
    else this.#settle(task, false, deserializeError(reply.error));
    this.#afterTask();
  }

  /** A thread crashed or exited: fail its task (with the abort reason if the pool killed it) and move on. */
  #onThreadDied(thread: Thread, failure: WorkerFailedError): void {
    if (!this.#threads.delete(thread)) return; // 'error' is followed by 'exit'; handle once
    const task = thread.current;
    thread.current = undefined;
    if (task !== undefined) this.#settle(task, false, thread.terminationReason ?? failure);
    this.#afterTask();
  }

  #afterTask(): void {
    this.#dispatch();
    if (this.#queue.length === 0 && this.busyCount === 0) {
      for (const resolve of this.#idleWaiters.splice(0)) resolve();
    }
  }

  #settle(task: ThreadTask, ok: boolean, outcome: unknown): void {
    if (task.onAbort !== undefined) task.options.signal?.removeEventListener('abort', task.onAbort);
    task.onAbort = undefined;
    if (ok) task.resolve(outcome);
    else task.reject(outcome);
  }

  #watchAbort(task: ThreadTask): void {
    const signal = task.options.signal;
    if (signal === undefined) return;
    task.onAbort = () => {
      task.onAbort = undefined;
      if (this.#queue.remove(task)) {
        task.reject(signal.reason);
        return;
      }
      for (const thread of this.#threads) {
        if (thread.current !== task) continue;
        thread.terminationReason = signal.reason;
        void thread.worker.terminate();
      }
    };
    signal.addEventListener('abort', task.onAbort, { once: true });
  }

  async #terminateAll(reason: unknown): Promise<void> {
    const threads = [...this.#threads];
    for (const thread of threads) thread.terminationReason = reason;
    await Promise.all(threads.map((thread) => thread.worker.terminate()));
  }
}
