import { QueueFullError } from './errors.js';
import { FifoQueue } from './fifo-queue.js';

export interface SemaphoreOptions {
  /** Acquirers that may wait; one more is refused with {@link QueueFullError}. Default: no limit. */
  maxWaiters?: number;
}

interface Waiter {
  readonly grant: () => void;
}

/**
 * A counting semaphore with fair (first come, first served) waiting: a permit released while
 * others wait goes to the oldest waiter, and `tryAcquire` never jumps the queue.
 *
 * @example
 * const connections = new Semaphore(4);
 * await connections.acquire(signal);
 * try {
 *   await query();
 * } finally {
 *   connections.release();
 * }
 */
export class Semaphore {
  readonly permits: number;
  readonly maxWaiters: number;
  readonly #waiters = new FifoQueue<Waiter>();
  #available: number;

  constructor(permits: number, options: SemaphoreOptions = {}) {
    if (!(Number.isInteger(permits) && permits >= 1)) {
      throw new RangeError(`Semaphore: permits must be an integer ≥ 1 (got ${permits})`);
    }
    this.permits = permits;
    this.maxWaiters = options.maxWaiters ?? Number.POSITIVE_INFINITY;
    this.#available = permits;
  }

  /** Permits free right now. */
  get available(): number {
    return this.#available;
  }

  /** Acquirers waiting for a permit. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** Takes a permit if one is free and nobody is waiting for it. */
  tryAcquire(): boolean {
    if (this.#available === 0 || this.#waiters.length > 0) return false;
    this.#available--;
    return true;
  }

  /** Resolves once a permit is held; rejects with the abort reason if `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.tryAcquire()) return Promise.resolve();
    if (this.#waiters.length >= this.maxWaiters) {
      return Promise.reject(new QueueFullError('Semaphore', this.maxWaiters));
    }
    return new Promise<void>((resolve, reject) => {
      if (signal === undefined) {
        this.#waiters.push({ grant: resolve });
        return;
      }
      const onAbort = (): void => {
        this.#waiters.remove(waiter);
        reject(signal.reason);
      };
      const waiter: Waiter = {
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Returns a permit, handing it straight to the oldest waiter if there is one. */
  release(): void {
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      waiter.grant();
      return;
    }
    // Releasing a permit never acquired is a bug in the caller, not an operating condition.
    if (this.#available >= this.permits) {
      throw new Error(
        `Semaphore released more often than acquired (all ${this.permits} permits are already free).`,
      );
    }
    this.#available++;
  }

  /** Runs `work` holding a permit, releasing it however `work` ends. */
  withPermit<T>(work: () => PromiseLike<T> | T, signal?: AbortSignal): Promise<T> {
    if (!signal?.aborted && this.tryAcquire()) {
      return callWork(work).then(this.#releaseWithValue, this.#releaseWithError);
    }
    return this.acquire(signal).then(() =>
      callWork(work).then(this.#releaseWithValue, this.#releaseWithError),
    );
  }

  // Bound once per semaphore: the hot path of `withPermit` allocates no closure.
  readonly #releaseWithValue = <T>(value: T): T => {
    this.release();
    return value;
  };

  readonly #releaseWithError = (error: unknown): never => {
    this.release();
    throw error;
  };
}

function callWork<T>(work: () => PromiseLike<T> | T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error);
  }
}
