import { AttemptSupersededError } from './errors.js';
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

export interface HedgeOptions {
  /** How long the latest attempt may run before another one starts beside it. */
  delayMs: number;
  /** Extra attempts beyond the first. Default 1. */
  maxHedgedAttempts?: number;
  scheduler?: Scheduler;
}

/**
 * Hedged requests: if an attempt has not answered after `delayMs`, start another one beside it;
 * the first success wins and the others are aborted with {@link AttemptSupersededError}.
 * An attempt that fails starts the next one at once rather than waiting out the delay.
 * If every attempt fails, the call rejects with the last error. Operations must be safe to
 * run more than once (idempotent reads, or writes with an idempotency key).
 */
export class HedgePolicy implements Policy {
  readonly delayMs: number;
  readonly maxHedgedAttempts: number;
  readonly #scheduler: Scheduler;

  constructor(options: HedgeOptions) {
    this.delayMs = options.delayMs;
    this.maxHedgedAttempts = options.maxHedgedAttempts ?? 1;
    this.#scheduler = options.scheduler ?? realScheduler;
    if (!(this.delayMs >= 0)) throw new RangeError(`hedge: delayMs must be ≥ 0 (got ${this.delayMs})`);
    if (!(Number.isInteger(this.maxHedgedAttempts) && this.maxHedgedAttempts >= 0)) {
      throw new RangeError(`hedge: maxHedgedAttempts must be an integer ≥ 0 (got ${this.maxHedgedAttempts})`);
    }
  }

  execute<T>(operation: Operation<T>, signal?: AbortSignal): Promise<T> {
    return this.around(operationInvoker, 0, operation, rootContextFor(signal));
  }

  around<T>(next: Invoker, depth: number, operation: Operation<T>, context: PolicyContext): Promise<T> {
    const parent = context.signal;
    if (parent.aborted) return Promise.reject(parent.reason);
    const maxAttempts = 1 + this.maxHedgedAttempts;
    return new Promise<T>((resolve, reject) => {
      const attempts: AbortController[] = [];
      const timerController = new AbortController();
      let running = 0;
      let finished = false;
      const finish = (winner: AbortController | undefined, reason: unknown): void => {
        finished = true;
        timerController.abort();
        if (parent !== neverAbortedSignal) parent.removeEventListener('abort', onParentAbort);
        for (const attempt of attempts) if (attempt !== winner) attempt.abort(reason);
      };
      const onParentAbort = (): void => {
        finish(undefined, parent.reason);
        reject(parent.reason);
      };
      const launch = (): void => {
        const attempt = new AbortController();
        attempts.push(attempt);
        running++;
        next.invoke(operation, { signal: attempt.signal, attempt: attempts.length }, depth).then(
          (result) => {
            if (finished) return;
            finish(attempt, new AttemptSupersededError());
            resolve(result);
          },
          (error: unknown) => {
            running--;
            if (finished) return;
            if (attempts.length < maxAttempts) launch();
            else if (running === 0) {
              finish(undefined, error);
              reject(error);
            }
          },
        );
      };
      if (parent !== neverAbortedSignal) parent.addEventListener('abort', onParentAbort, { once: true });
      launch();
      this.#launchHedges(maxAttempts, timerController.signal, () => attempts.length, launch);
    });
  }

  /** Every `delayMs`, starts another attempt until all are started or the call settled (timer aborted). */
  async #launchHedges(maxAttempts: number, signal: AbortSignal, started: () => number, launch: () => void) {
    try {
      while (started() < maxAttempts) {
        const startedBefore = started();
        await this.#scheduler.sleep(this.delayMs, signal);
        // If an attempt failed meanwhile, it already started a successor; give that one a full delay.
        if (started() === startedBefore && started() < maxAttempts) launch();
      }
    } catch {
      // The call settled and cancelled the timer.
    }
  }
}

/**
 * Creates a {@link HedgePolicy}.
 *
 * @example
 * const hedged = hedge({ delayMs: 50 }); // about the p95 latency of the downstream
 * const row = await hedged.execute(({ signal }) => replica.read(key, { signal }));
 */
export function hedge(options: HedgeOptions): HedgePolicy {
  return new HedgePolicy(options);
}
