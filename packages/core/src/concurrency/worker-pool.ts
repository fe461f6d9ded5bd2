import { ClosedError, QueueFullError } from './errors.js';
import { FifoQueue } from './fifo-queue.js';

/** Work for the pool. It receives the signal given with it (or one that never aborts). */
export type Task<T> = (signal: AbortSignal) => PromiseLike<T> | T;

/** What a full queue does to a new task: refuse it at once, or make the submitter wait for room. */
export type WhenFull = 'reject' | 'wait';

export interface WorkerPoolOptions {
  /** Tasks running at once. */
  concurrency: number;
  /** Tasks waiting to start. */
  maxQueueLength: number;
  /** Default `reject`: a full queue refuses with {@link QueueFullError}. */
  whenFull?: WhenFull;
}

/** A task the pool has accepted; `result` settles when it has run. */
export interface Submission<T> {
  readonly result: Promise<T>;
}

interface Job {
  readonly task: Task<unknown>;
  readonly signal: AbortSignal;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  /** Set while the job waits (for room or for a slot) under a signal that may abort. */
  onAbort: (() => void) | undefined;
  /** Set while the submitter waits for room in the queue. */
  admission: { readonly accept: () => void; readonly refuse: (error: unknown) => void } | undefined;
}

const idleSignal: AbortSignal = new AbortController().signal;

/**
 * An async worker pool: at most `concurrency` tasks run, at most `maxQueueLength` wait, and a
 * producer feels back-pressure: `submit` resolves only once the task is accepted, so
 * `await pool.submit(task)` in a loop never outruns the pool.
 *
 * @example
 * const pool = new WorkerPool({ concurrency: 8, maxQueueLength: 64, whenFull: 'wait' });
 * for await (const url of urls) {
 *   const { result } = await pool.submit((signal) => fetch(url, { signal }));
 *   result.then(store, logFailure);
 * }
 * await pool.onIdle();
 */
export class WorkerPool {
  readonly concurrency: number;
  readonly maxQueueLength: number;
  readonly whenFull: WhenFull;
  readonly #queue = new FifoQueue<Job>();
  readonly #roomWaiters = new FifoQueue<Job>();
  readonly #idleWaiters: (() => void)[] = [];
  #active = 0;
  #closed = false;

  constructor(options: WorkerPoolOptions) {
    this.concurrency = options.concurrency;
    this.maxQueueLength = options.maxQueueLength;
    this.whenFull = options.whenFull ?? 'reject';
    if (!(Number.isInteger(this.concurrency) && this.concurrency >= 1)) {
      throw new RangeError(`WorkerPool: concurrency must be an integer ≥ 1 (got ${this.concurrency})`);
    }
    if (!(Number.isInteger(this.maxQueueLength) && this.maxQueueLength >= 0)) {
      throw new RangeError(`WorkerPool: maxQueueLength must be an integer ≥ 0 (got ${this.maxQueueLength})`);
    }
  }

  get activeCount(): number {
    return this.#active;
  }

  get queuedCount(): number {
    return this.#queue.length;
  }

  /** Submitters waiting for room in the queue (with `whenFull: 'wait'`). */
  get waitingSubmitters(): number {
    return this.#roomWaiters.length;
  }

  /** Runs `task` through the pool and resolves with its result. */
  run<T>(task: Task<T>, signal?: AbortSignal): Promise<T> {
    if (this.#active < this.concurrency && !this.#closed && !signal?.aborted) {
      // Fast path: a free slot, no queueing, one `then`.
      this.#active++;
      return callTask(task, signal ?? idleSignal).then(this.#finishedWithValue, this.#finishedWithError);
    }
    if (!this.#closed && !signal?.aborted && this.#queue.length < this.maxQueueLength) {
      // Queue directly, without the submission wrapper `submit` returns.
      return new Promise<T>((resolve, reject) => {
        const job: Job = {
          task,
          signal: signal ?? idleSignal,
          resolve: resolve as (value: unknown) => void,
          reject,
          onAbort: undefined,
          admission: undefined,
        };
        this.#queue.push(job);
        this.#watchAbort(job);
      });
    }
    return this.submit(task, signal).then((submission) => submission.result);
  }

  /**
   * Hands `task` to the pool; resolves once it is running or queued (after waiting for room
   * with `whenFull: 'wait'`). Rejects with {@link QueueFullError} or {@link ClosedError}, or the
   * abort reason if `signal` aborts before the task starts.
   */
  submit<T>(task: Task<T>, signal?: AbortSignal): Promise<Submission<T>> {
    if (this.#closed) return Promise.reject(new ClosedError('WorkerPool'));
    if (signal?.aborted) return Promise.reject(signal.reason);
    const hasRoom = this.#active < this.concurrency || this.#queue.length < this.maxQueueLength;
    if (!hasRoom && this.whenFull === 'reject') {
      return Promise.reject(new QueueFullError('WorkerPool', this.maxQueueLength));
    }
    let resolve: (value: unknown) => void = noop;
    let reject: (error: unknown) => void = noop;
    const result = new Promise<T>((resolveResult, rejectResult) => {
      resolve = resolveResult as (value: unknown) => void;
      reject = rejectResult;
    });
    const job: Job = {
      task,
      signal: signal ?? idleSignal,
      resolve,
      reject,
      onAbort: undefined,
      admission: undefined,
    };
    const submission: Submission<T> = { result };
    if (hasRoom) {
      this.#accept(job);
      return Promise.resolve(submission);
    }
    return new Promise<Submission<T>>((accept, refuse) => {
      job.admission = { accept: () => accept(submission), refuse };
      this.#roomWaiters.push(job);
      this.#watchAbort(job);
    });
  }

  /** Resolves when nothing runs, waits or wants in. */
  onIdle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Accepts no more work and refuses waiting submitters; queued tasks still run. Resolves when idle. */
  close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#roomWaiters.drain()) {
      this.#unwatchAbort(job);
      job.admission?.refuse(new ClosedError('WorkerPool'));
    }
    return this.onIdle();
  }

  #accept(job: Job): void {
    if (this.#active < this.concurrency) this.#start(job);
    else {
      this.#queue.push(job);
      this.#watchAbort(job);
    }
  }

  #start(job: Job): void {
    this.#unwatchAbort(job);
    this.#active++;
    callTask(job.task, job.signal).then(
      (value) => {
        this.#taskFinished();
        job.resolve(value);
      },
      (error: unknown) => {
        this.#taskFinished();
        job.reject(error);
      },
    );
  }

  readonly #finishedWithValue = <T>(value: T): T => {
    this.#taskFinished();
    return value;
  };

  readonly #finishedWithError = (error: unknown): never => {
    this.#taskFinished();
    throw error;
  };

  /** Frees a slot: starts the oldest queued job, lets a waiting submitter in, or signals idleness. */
  #taskFinished(): void {
    this.#active--;
    const next = this.#queue.shift();
    if (next !== undefined) this.#start(next);
    const admitted = this.#roomWaiters.shift();
    if (admitted !== undefined) {
      this.#accept(admitted);
      admitted.admission?.accept();
      admitted.admission = undefined;
    }
    this.#notifyIfIdle();
  }

  #notifyIfIdle(): void {
    if (this.#idleWaiters.length === 0 || !this.#isIdle()) return;
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  #isIdle(): boolean {
    return this.#active === 0 && this.#queue.length === 0 && this.#roomWaiters.length === 0;
  }

  /** A job that has not started leaves the line if its signal aborts. */
  #watchAbort(job: Job): void {
    if (job.signal === idleSignal || job.onAbort !== undefined) return;
    job.onAbort = () => {
      job.onAbort = undefined;
      if (this.#queue.remove(job)) job.reject(job.signal.reason);
      else if (this.#roomWaiters.remove(job)) job.admission?.refuse(job.signal.reason);
      this.#notifyIfIdle();
    };
    job.signal.addEventListener('abort', job.onAbort, { once: true });
  }

  #unwatchAbort(job: Job): void {
    if (job.onAbort === undefined) return;
    job.signal.removeEventListener('abort', job.onAbort);
    job.onAbort = undefined;
  }
}

/** Calls `task`, turning a synchronous throw or plain value into a promise. */
function callTask<T>(task: Task<T>, signal: AbortSignal): Promise<T> {
  try {
    const result = task(signal);
    return result instanceof Promise ? result : Promise.resolve(result);
  } catch (error) {
    return Promise.reject(error);
  }
}

function noop(): void {}
