import { FifoQueue } from '../concurrency/fifo-queue.js';
import { BulkheadRejectedError } from './errors.js';
import {
  type Invoker,
  neverAbortedSignal,
  type Operation,
  operationInvoker,
  type Policy,
  type PolicyContext,
  rootContextFor,
} from './policy.js';

export interface BulkheadOptions {
  /** Calls that may run at once. */
  maxConcurrent: number;
  /** Calls that may wait for a slot; one more is refused with {@link BulkheadRejectedError}. Default 0. */
  maxQueueLength?: number;
}

interface Waiter {
  readonly grant: () => void;
}

/**
 * Isolates a resource by bounding how many calls use it at once and how many may wait.
 * Waiting calls are served first come, first served; an aborted waiter leaves the queue.
 */
export class BulkheadPolicy implements Policy {
  readonly maxConcurrent: number;
  readonly maxQueueLength: number;
  readonly #waiters = new FifoQueue<Waiter>();
  #active = 0;

  constructor(options: BulkheadOptions) {
    this.maxConcurrent = options.maxConcurrent;
    this.maxQueueLength = options.maxQueueLength ?? 0;
    if (!(Number.isInteger(this.maxConcurrent) && this.maxConcurrent >= 1)) {
      throw new RangeError(`bulkhead: maxConcurrent must be an integer ≥ 1 (got ${this.maxConcurrent})`);
    }
    if (!(Number.isInteger(this.maxQueueLength) && this.maxQueueLength >= 0)) {
      throw new RangeError(`bulkhead: maxQueueLength must be an integer ≥ 0 (got ${this.maxQueueLength})`);
    }
  }

  /** Calls running now. */
  get activeCount(): number {
    return this.#active;
  }

  /** Calls waiting for a slot. */
  get queuedCount(): number {
    return this.#waiters.length;
  }

  execute<T>(operation: Operation<T>, signal?: AbortSignal): Promise<T> {
    return this.around(operationInvoker, 0, operation, rootContextFor(signal));
  }

  around<T>(next: Invoker, depth: number, operation: Operation<T>, context: PolicyContext): Promise<T> {
    if (context.signal.aborted) return Promise.reject(context.signal.reason);
    if (this.#active < this.maxConcurrent) {
      this.#active++;
      return next
        .invoke(operation, context, depth)
        .then(this.#releaseAfterSuccess, this.#releaseAfterFailure);
    }
    if (this.#waiters.length >= this.maxQueueLength) {
      return Promise.reject(new BulkheadRejectedError(this.maxConcurrent, this.maxQueueLength));
    }
    return this.#waitForSlot(context.signal).then(() =>
      next.invoke(operation, context, depth).then(this.#releaseAfterSuccess, this.#releaseAfterFailure),
    );
  }

  #waitForSlot(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal === neverAbortedSignal) {
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

  readonly #releaseAfterSuccess = <T>(result: T): T => {
    this.#release();
    return result;
  };

  readonly #releaseAfterFailure = (error: unknown): never => {
    this.#release();
    throw error;
  };

  /** Hands the finished call's slot straight to the oldest waiter, or frees it. */
  #release(): void {
    const waiter = this.#waiters.shift();
    if (waiter === undefined) this.#active--;
    else waiter.grant();
  }
}

/**
 * Creates a {@link BulkheadPolicy}.
 *
 * @example
 * const pool = bulkhead({ maxConcurrent: 8, maxQueueLength: 32 });
 * try {
 *   await pool.execute(() => callDatabase());
 * } catch (error) {
 *   if (error instanceof BulkheadRejectedError) shedLoad();
 * }
 */
export function bulkhead(options: BulkheadOptions): BulkheadPolicy {
  return new BulkheadPolicy(options);
}
