import { mathRandom, type RandomSource } from '../time.js';
import { type Backoff, exponentialBackoff } from './backoff.js';
import { EventSource, type Listener } from './events.js';
import {
  callOperation,
  type Invoker,
  type Operation,
  operationInvoker,
  type Policy,
  type PolicyContext,
  rootContextFor,
} from './policy.js';
import { realScheduler, type Scheduler } from './scheduler.js';

export interface RetryOptions<R = unknown> {
  /** Attempts in all, the first included. Default 3. */
  maxAttempts?: number;
  /** No retry starts if its backoff would end later than this after the first attempt began. Default: no limit. */
  maxElapsedMs?: number;
  /** Delay before each retry. Default: exponential from 100 ms, ×2, capped at 30 s, full jitter. */
  backoff?: Backoff;
  /** Which errors are worth another attempt. Default: every error. */
  shouldRetryError?: (error: unknown, attempt: number) => boolean;
  /** Which results are failures worth another attempt (e.g. HTTP 503). Default: none. */
  shouldRetryResult?: (result: R, attempt: number) => boolean;
  scheduler?: Scheduler;
  random?: RandomSource;
}

/** The outcome of one attempt: the error it threw or the result it returned. */
export type AttemptOutcome<R> =
  | { readonly failed: true; readonly error: unknown }
  | { readonly failed: false; readonly result: R };

export interface RetryEvent<R> {
  /** The attempt that just failed. */
  readonly attempt: number;
  readonly delayMs: number;
  readonly outcome: AttemptOutcome<R>;
}

export interface GiveUpEvent<R> {
  readonly attempts: number;
  readonly reason: 'max-attempts' | 'deadline';
  readonly outcome: AttemptOutcome<R>;
}

export const defaultMaxAttempts = 3;

/**
 * Retries failed attempts with backoff, up to `maxAttempts` and within `maxElapsedMs`.
 * When it gives up it rethrows the last error (or returns the last result). A caller's abort
 * stops it at once. The successful first attempt costs one `then` and no timer.
 */
export class RetryPolicy<R = unknown> implements Policy<R> {
  declare readonly resultType?: (result: R) => void;
  readonly #maxAttempts: number;
  readonly #maxElapsedMs: number;
  readonly #backoff: Backoff;
  readonly #shouldRetryError: (error: unknown, attempt: number) => boolean;
  readonly #shouldRetryResult: ((result: R, attempt: number) => boolean) | undefined;
  readonly #scheduler: Scheduler;
  readonly #random: RandomSource;
  readonly #retries = new EventSource<RetryEvent<R>>();
  readonly #giveUps = new EventSource<GiveUpEvent<R>>();

  constructor(options: RetryOptions<R> = {}) {
    this.#maxAttempts = options.maxAttempts ?? defaultMaxAttempts;
    this.#maxElapsedMs = options.maxElapsedMs ?? Number.POSITIVE_INFINITY;
    if (!(Number.isInteger(this.#maxAttempts) && this.#maxAttempts >= 1)) {
      throw new RangeError(`retry: maxAttempts must be an integer ≥ 1 (got ${this.#maxAttempts})`);
    }
    if (!(this.#maxElapsedMs >= 0))
      throw new RangeError(`retry: maxElapsedMs must be ≥ 0 (got ${this.#maxElapsedMs})`);
    this.#backoff = options.backoff ?? exponentialBackoff();
    this.#shouldRetryError = options.shouldRetryError ?? retryEveryError;
    this.#shouldRetryResult = options.shouldRetryResult;
    this.#scheduler = options.scheduler ?? realScheduler;
    this.#random = options.random ?? mathRandom;
  }

  /** Called before each retry's backoff. Returns an unsubscribe function. */
  onRetry(listener: Listener<RetryEvent<R>>): () => void {
    return this.#retries.subscribe(listener);
  }

  /** Called when attempts or time run out. Returns an unsubscribe function. */
  onGiveUp(listener: Listener<GiveUpEvent<R>>): () => void {
    return this.#giveUps.subscribe(listener);
  }

  execute<T extends R>(operation: Operation<T>, signal?: AbortSignal): Promise<T> {
    // Same as `around(operationInvoker, …)`, one call shallower: this is the hot path.
    const startedMs = this.#startTime();
    const context = rootContextFor(signal);
    return this.#guard(callOperation(operation, context), operationInvoker, 0, operation, context, startedMs);
  }

  around<T extends R>(
    next: Invoker,
    depth: number,
    operation: Operation<T>,
    context: PolicyContext,
  ): Promise<T> {
    const startedMs = this.#startTime();
    const firstContext = context.attempt === 1 ? context : { signal: context.signal, attempt: 1 };
    return this.#guard(
      next.invoke(operation, firstContext, depth),
      next,
      depth,
      operation,
      context,
      startedMs,
    );
  }

  #startTime(): number {
    return this.#maxElapsedMs === Number.POSITIVE_INFINITY ? 0 : this.#scheduler.now();
  }

  /** Watches the first attempt; only a retryable outcome enters the (async) retry loop. */
  #guard<T extends R>(
    firstAttempt: Promise<T>,
    next: Invoker,
    depth: number,
    operation: Operation<T>,
    context: PolicyContext,
    startedMs: number,
  ): Promise<T> {
    if (this.#maxAttempts === 1) return firstAttempt;
    // Inline, unnamed arrows: a named per-call closure costs a `defineProperty` under
    // transpilers that keep function names (tsx does), which dominates a cheap call.
    if (this.#shouldRetryResult === undefined) {
      return firstAttempt.then(undefined, (error: unknown) =>
        this.#afterFirstError<T>(error, next, depth, operation, context.signal, startedMs),
      );
    }
    return firstAttempt.then(
      (result) => this.#afterFirstResult(result, next, depth, operation, context.signal, startedMs),
      (error: unknown) => this.#afterFirstError<T>(error, next, depth, operation, context.signal, startedMs),
    );
  }

  #afterFirstError<T extends R>(
    error: unknown,
    next: Invoker,
    depth: number,
    operation: Operation<T>,
    signal: AbortSignal,
    startedMs: number,
  ): Promise<T> {
    if (signal.aborted || !this.#shouldRetryError(error, 1)) throw error;
    return this.#retryAfter({ failed: true, error }, next, depth, operation, signal, startedMs);
  }

  #afterFirstResult<T extends R>(
    result: T,
    next: Invoker,
    depth: number,
    operation: Operation<T>,
    signal: AbortSignal,
    startedMs: number,
  ): T | Promise<T> {
    if (signal.aborted || !this.#shouldRetryResult?.(result, 1)) return result;
    return this.#retryAfter({ failed: false, result }, next, depth, operation, signal, startedMs);
  }

  /** Attempts 2…maxAttempts, entered once the first attempt's outcome proved retryable. */
  async #retryAfter<T extends R>(
    firstOutcome: AttemptOutcome<T>,
    next: Invoker,
    depth: number,
    operation: Operation<T>,
    signal: AbortSignal,
    startedMs: number,
  ): Promise<T> {
    let outcome = firstOutcome;
    let previousDelayMs = 0;
    for (let attempt = 1; ; attempt++) {
      const delayMs = this.#backoff(attempt, previousDelayMs, this.#random);
      const exhausted = this.#exhaustion(attempt, startedMs, delayMs);
      if (exhausted !== undefined) {
        if (this.#giveUps.hasListeners) this.#giveUps.emit({ attempts: attempt, reason: exhausted, outcome });
        return settle(outcome);
      }
      if (this.#retries.hasListeners) this.#retries.emit({ attempt, delayMs, outcome });
      await this.#scheduler.sleep(delayMs, signal);
      previousDelayMs = delayMs;
      outcome = await attemptOutcome(next.invoke(operation, { signal, attempt: attempt + 1 }, depth));
      if (signal.aborted || !this.#isRetryable(outcome, attempt + 1)) return settle(outcome);
    }
  }

  #exhaustion(attempt: number, startedMs: number, delayMs: number): GiveUpEvent<R>['reason'] | undefined {
    if (attempt >= this.#maxAttempts) return 'max-attempts';
    if (this.#maxElapsedMs === Number.POSITIVE_INFINITY) return undefined;
    return this.#scheduler.now() + delayMs - startedMs > this.#maxElapsedMs ? 'deadline' : undefined;
  }

  #isRetryable(outcome: AttemptOutcome<R>, attempt: number): boolean {
    if (outcome.failed) return this.#shouldRetryError(outcome.error, attempt);
    return this.#shouldRetryResult?.(outcome.result, attempt) ?? false;
  }
}

/**
 * Creates a {@link RetryPolicy}.
 *
 * @example
 * const policy = retry({ maxAttempts: 4, backoff: exponentialBackoff({ jitter: 'decorrelated' }) });
 * const body = await policy.execute(({ signal }) => fetch(url, { signal }).then((r) => r.text()));
 */
export function retry<R = unknown>(options: RetryOptions<R> = {}): RetryPolicy<R> {
  return new RetryPolicy(options);
}

function retryEveryError(): boolean {
  return true;
}

function attemptOutcome<T>(attempt: Promise<T>): Promise<AttemptOutcome<T>> {
  return attempt.then(
    (result) => ({ failed: false, result }),
    (error: unknown) => ({ failed: true, error }),
  );
}

function settle<T>(outcome: AttemptOutcome<T>): T {
  if (outcome.failed) throw outcome.error;
  return outcome.result;
}
