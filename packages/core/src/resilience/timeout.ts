import { TimeoutError } from './errors.js';
import {
  type Invoker,
  neverAbortedSignal,
  type Operation,
  operationInvoker,
  type Policy,
  type PolicyContext,
  rootContextFor,
} from './policy.js';
import { realScheduler, type Scheduler } from './scheduler.js';

/**
 * `cooperative`: at the deadline the operation's signal aborts and the policy waits for the
 * operation to stop (a rejection then becomes {@link TimeoutError}; a late result is kept).
 * `aggressive`: at the deadline the policy also rejects at once, even if the operation ignores
 * its signal and keeps running in the background.
 */
export type TimeoutStrategy = 'cooperative' | 'aggressive';

export interface TimeoutOptions {
  /** Default `cooperative`. */
  strategy?: TimeoutStrategy;
  /**
   * Abort the operation's signal once it has returned, to release whatever it left running.
   * Default false: a returned HTTP response may still be streaming its body under that signal.
   */
  abortOnReturn?: boolean;
  scheduler?: Scheduler;
}

/** Bounds how long an operation may take, propagating cancellation through an `AbortSignal`. */
export class TimeoutPolicy implements Policy {
  readonly durationMs: number;
  readonly #strategy: TimeoutStrategy;
  readonly #abortOnReturn: boolean;
  readonly #scheduler: Scheduler;

  constructor(durationMs: number, options: TimeoutOptions = {}) {
    if (!(durationMs >= 0)) throw new RangeError(`timeout: durationMs must be ≥ 0 (got ${durationMs})`);
    this.durationMs = durationMs;
    this.#strategy = options.strategy ?? 'cooperative';
    this.#abortOnReturn = options.abortOnReturn ?? false;
    this.#scheduler = options.scheduler ?? realScheduler;
  }

  execute<T>(operation: Operation<T>, signal?: AbortSignal): Promise<T> {
    return this.around(operationInvoker, 0, operation, rootContextFor(signal));
  }

  around<T>(next: Invoker, depth: number, operation: Operation<T>, context: PolicyContext): Promise<T> {
    const parent = context.signal;
    if (parent.aborted) return Promise.reject(parent.reason);
    const operationController = new AbortController();
    const timerController = new AbortController();
    const aggressive = this.#strategy === 'aggressive';
    return new Promise<T>((resolve, reject) => {
      let finished = false;
      let timedOut = false;
      const finish = (): void => {
        finished = true;
        timerController.abort();
        if (parent !== neverAbortedSignal) parent.removeEventListener('abort', onParentAbort);
        if (this.#abortOnReturn) operationController.abort();
      };
      const onParentAbort = (): void => {
        operationController.abort(parent.reason);
        if (!aggressive) return;
        finish();
        reject(parent.reason);
      };
      if (parent !== neverAbortedSignal) parent.addEventListener('abort', onParentAbort, { once: true });
      this.#scheduler.sleep(this.durationMs, timerController.signal).then(() => {
        if (finished) return;
        timedOut = true;
        const error = new TimeoutError(this.durationMs);
        operationController.abort(error);
        if (!aggressive) return;
        finish();
        reject(error);
      }, ignoreCancelledTimer);
      next.invoke(operation, { signal: operationController.signal, attempt: context.attempt }, depth).then(
        (result) => {
          if (finished) return;
          finish();
          resolve(result);
        },
        (error: unknown) => {
          if (finished) return;
          finish();
          reject(
            timedOut && !(error instanceof TimeoutError)
              ? new TimeoutError(this.durationMs, { cause: error })
              : error,
          );
        },
      );
    });
  }
}

/**
 * Creates a {@link TimeoutPolicy}.
 *
 * @example
 * const deadline = timeout(2_000, { strategy: 'aggressive' });
 * const page = await deadline.execute(({ signal }) => fetch(url, { signal }));
 */
export function timeout(durationMs: number, options: TimeoutOptions = {}): TimeoutPolicy {
  return new TimeoutPolicy(durationMs, options);
}

function ignoreCancelledTimer(): void {}
