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
    return new Promise<T>((resolve, reject) => {
      const call = new TimedCall<T>(
        this.durationMs,
        this.#strategy,
        this.#abortOnReturn,
        parent,
        resolve,
        reject,
      );
      // Unnamed arrows and a listener object: no named closure per call (see retry.ts).
      this.#scheduler
        .sleep(this.durationMs, call.timer.signal)
        .then(() => call.deadlinePassed(), ignoreCancelledTimer);
      next.invoke(operation, { signal: call.operation.signal, attempt: context.attempt }, depth).then(
        (result) => call.succeeded(result),
        (error: unknown) => call.failed(error),
      );
    });
  }
}

/** The state of one call under a timeout; settles the caller's promise exactly once. */
class TimedCall<T> {
  /** Aborted at the deadline or by the caller: the operation's signal. */
  readonly operation = new AbortController();
  /** Aborted when the call settles, cancelling the deadline timer. */
  readonly timer = new AbortController();
  readonly #durationMs: number;
  readonly #strategy: TimeoutStrategy;
  readonly #abortOnReturn: boolean;
  readonly #parent: AbortSignal;
  readonly #resolve: (result: T) => void;
  readonly #reject: (error: unknown) => void;
  #finished = false;
  #timedOut = false;

  constructor(
    durationMs: number,
    strategy: TimeoutStrategy,
    abortOnReturn: boolean,
    parent: AbortSignal,
    resolve: (result: T) => void,
    reject: (error: unknown) => void,
  ) {
    this.#durationMs = durationMs;
    this.#strategy = strategy;
    this.#abortOnReturn = abortOnReturn;
    this.#parent = parent;
    this.#resolve = resolve;
    this.#reject = reject;
    if (parent !== neverAbortedSignal) parent.addEventListener('abort', this, { once: true });
  }

  /** The caller aborted (this object is the parent signal's listener). */
  handleEvent(): void {
    this.operation.abort(this.#parent.reason);
    if (this.#strategy === 'aggressive') this.#settle(false, this.#parent.reason);
  }

  deadlinePassed(): void {
    if (this.#finished) return;
    this.#timedOut = true;
    const error = new TimeoutError(this.#durationMs);
    this.operation.abort(error);
    if (this.#strategy === 'aggressive') this.#settle(false, error);
  }

  succeeded(result: T): void {
    this.#settle(true, result);
  }

  failed(error: unknown): void {
    const timedOut = this.#timedOut && !(error instanceof TimeoutError);
    this.#settle(false, timedOut ? new TimeoutError(this.#durationMs, { cause: error }) : error);
  }

  #settle(succeeded: boolean, outcome: unknown): void {
    if (this.#finished) return;
    this.#finished = true;
    this.timer.abort();
    if (this.#parent !== neverAbortedSignal) this.#parent.removeEventListener('abort', this);
    if (this.#abortOnReturn) this.operation.abort();
    if (succeeded) this.#resolve(outcome as T);
    else this.#reject(outcome);
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
