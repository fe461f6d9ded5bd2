import { type Clock, systemClock } from '../time.js';
import { BrokenCircuitError } from './errors.js';
import { EventSource, type Listener } from './events.js';
import { createFailureTracker, type FailureTracker, type TripPolicy } from './failure-tracker.js';
import {
  callOperation,
  type Invoker,
  type Operation,
  operationInvoker,
  type Policy,
  type PolicyContext,
  rootContextFor,
} from './policy.js';

/**
 * `closed`: calls pass and outcomes are counted. `open`: calls are refused until
 * `openDurationMs` has passed. `half-open`: up to `halfOpenMaxProbes` calls probe the
 * downstream; a probe's success closes the breaker, its failure reopens it.
 */
export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions<R = unknown> {
  /** When to open. Default: 5 consecutive failures. */
  tripPolicy?: TripPolicy;
  /** How long the breaker stays open before letting probes through. Default 10 000 ms. */
  openDurationMs?: number;
  /** Concurrent probe calls allowed while half-open. Default 1. */
  halfOpenMaxProbes?: number;
  /** Which errors count as failures; others pass through and count as successes. Default: all. */
  isFailure?: (error: unknown) => boolean;
  /** Which results count as failures (the result is still returned). Default: none. */
  isFailureResult?: (result: R) => boolean;
  clock?: Clock;
}

export interface CircuitBreakerEvents {
  stateChange: { readonly from: CircuitState; readonly to: CircuitState; readonly atMs: number };
  /** A call finished and counted as a success; `state` is the state it started in. */
  success: { readonly state: CircuitState };
  /** A call finished and counted as a failure; `error` is the thrown error or the failing result. */
  failure: { readonly state: CircuitState; readonly error: unknown };
  /** A call was refused without running. */
  rejection: { readonly state: CircuitState; readonly retryAfterMs: number };
}

export const defaultFailureThreshold = 5;
export const defaultOpenDurationMs = 10_000;
export const defaultHalfOpenMaxProbes = 1;

/**
 * A circuit breaker: stops calling a failing downstream for a while, then probes it.
 * While closed, a call costs one `then` with handlers bound once per breaker.
 */
export class CircuitBreakerPolicy<R = unknown> implements Policy<R> {
  declare readonly resultType?: (result: R) => void;
  readonly #tracker: FailureTracker;
  readonly #openDurationMs: number;
  readonly #halfOpenMaxProbes: number;
  readonly #isFailure: (error: unknown) => boolean;
  readonly #isFailureResult: ((result: R) => boolean) | undefined;
  readonly #clock: Clock;
  readonly #events: { readonly [K in keyof CircuitBreakerEvents]: EventSource<CircuitBreakerEvents[K]> } = {
    stateChange: new EventSource<CircuitBreakerEvents['stateChange']>(),
    success: new EventSource<CircuitBreakerEvents['success']>(),
    failure: new EventSource<CircuitBreakerEvents['failure']>(),
    rejection: new EventSource<CircuitBreakerEvents['rejection']>(),
  };
  #state: CircuitState = 'closed';
  #openedAtMs = 0;
  #probesInFlight = 0;

  constructor(options: CircuitBreakerOptions<R> = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#tracker = createFailureTracker(
      options.tripPolicy ?? { kind: 'consecutive', failureThreshold: defaultFailureThreshold },
      this.#clock,
    );
    this.#openDurationMs = options.openDurationMs ?? defaultOpenDurationMs;
    this.#halfOpenMaxProbes = options.halfOpenMaxProbes ?? defaultHalfOpenMaxProbes;
    if (!(this.#openDurationMs >= 0)) throw new RangeError(`circuit breaker: openDurationMs must be ≥ 0`);
    if (!(Number.isInteger(this.#halfOpenMaxProbes) && this.#halfOpenMaxProbes >= 1)) {
      throw new RangeError(`circuit breaker: halfOpenMaxProbes must be an integer ≥ 1`);
    }
    this.#isFailure = options.isFailure ?? everyErrorIsFailure;
    this.#isFailureResult = options.isFailureResult;
  }

  /** The current state; an open breaker whose open duration has passed reports (and becomes) half-open. */
  get state(): CircuitState {
    if (this.#state === 'open' && this.#remainingOpenMs() <= 0) this.#transition('half-open');
    return this.#state;
  }

  /**
   * Subscribes to an event; returns an unsubscribe function.
   *
   * @example
   * breaker.on('stateChange', ({ from, to }) => log.warn({ from, to }, 'breaker changed state'));
   */
  on<K extends keyof CircuitBreakerEvents>(
    event: K,
    listener: Listener<CircuitBreakerEvents[K]>,
  ): () => void {
    return this.#events[event].subscribe(listener);
  }

  /** Opens the breaker now, as if it had just tripped (e.g. an operator isolating a downstream). */
  trip(): void {
    this.#open();
  }

  /** Closes the breaker now and forgets past outcomes. */
  reset(): void {
    this.#tracker.reset();
    this.#transition('closed');
  }

  execute<T extends R>(operation: Operation<T>, signal?: AbortSignal): Promise<T> {
    if (this.#state === 'closed') {
      // Same as `around(operationInvoker, …)`, one call shallower: this is the hot path.
      return callOperation(operation, rootContextFor(signal)).then(
        this.#onClosedSuccess,
        this.#onClosedFailure,
      );
    }
    return this.around(operationInvoker, 0, operation, rootContextFor(signal));
  }

  around<T extends R>(
    next: Invoker,
    depth: number,
    operation: Operation<T>,
    context: PolicyContext,
  ): Promise<T> {
    if (this.#state === 'closed') {
      return next.invoke(operation, context, depth).then(this.#onClosedSuccess, this.#onClosedFailure);
    }
    if (this.#state === 'open') {
      const remainingMs = this.#remainingOpenMs();
      if (remainingMs > 0) return this.#reject(remainingMs);
      this.#transition('half-open');
    }
    if (this.#probesInFlight >= this.#halfOpenMaxProbes) return this.#reject(0);
    this.#probesInFlight++;
    return next.invoke(operation, context, depth).then(this.#onProbeSuccess, this.#onProbeFailure);
  }

  // Handlers bound once per breaker, so the hot path allocates no closures. Which pair a call
  // uses records the state it started in; a late answer from an older state is not counted.
  readonly #onClosedSuccess = <T>(result: T): T => {
    if (this.#isFailureResult?.(result as unknown as R)) this.#closedFailure(result);
    else this.#closedSuccess();
    return result;
  };

  readonly #onClosedFailure = (error: unknown): never => {
    if (this.#isFailure(error)) this.#closedFailure(error);
    else this.#closedSuccess();
    throw error;
  };

  readonly #onProbeSuccess = <T>(result: T): T => {
    this.#probeFinished(!this.#isFailureResult?.(result as unknown as R), result);
    return result;
  };

  readonly #onProbeFailure = (error: unknown): never => {
    this.#probeFinished(!this.#isFailure(error), error);
    throw error;
  };

  #closedSuccess(): void {
    if (this.#state === 'closed') this.#tracker.recordSuccess();
    if (this.#events.success.hasListeners) this.#events.success.emit({ state: 'closed' });
  }

  #closedFailure(error: unknown): void {
    if (this.#events.failure.hasListeners) this.#events.failure.emit({ state: 'closed', error });
    if (this.#state === 'closed' && this.#tracker.recordFailure()) this.#open();
  }

  #probeFinished(succeeded: boolean, errorOrResult: unknown): void {
    this.#probesInFlight--;
    if (succeeded) {
      if (this.#events.success.hasListeners) this.#events.success.emit({ state: 'half-open' });
      if (this.#state === 'half-open') this.reset();
      return;
    }
    if (this.#events.failure.hasListeners)
      this.#events.failure.emit({ state: 'half-open', error: errorOrResult });
    if (this.#state === 'half-open') this.#open();
  }

  #reject<T>(retryAfterMs: number): Promise<T> {
    if (this.#events.rejection.hasListeners)
      this.#events.rejection.emit({ state: this.#state, retryAfterMs });
    return Promise.reject(new BrokenCircuitError(retryAfterMs));
  }

  #remainingOpenMs(): number {
    return this.#openedAtMs + this.#openDurationMs - this.#clock.now();
  }

  #open(): void {
    this.#openedAtMs = this.#clock.now();
    this.#transition('open');
  }

  #transition(to: CircuitState): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    if (this.#events.stateChange.hasListeners) {
      this.#events.stateChange.emit({ from, to, atMs: this.#clock.now() });
    }
  }
}

/**
 * Creates a {@link CircuitBreakerPolicy}.
 *
 * @example
 * const breaker = circuitBreaker({
 *   tripPolicy: { kind: 'failure-rate', failureRateThreshold: 0.5, windowMs: 10_000, minimumThroughput: 20 },
 *   openDurationMs: 5_000,
 * });
 * const user = await breaker.execute(() => loadUser(id));
 */
export function circuitBreaker<R = unknown>(options: CircuitBreakerOptions<R> = {}): CircuitBreakerPolicy<R> {
  return new CircuitBreakerPolicy(options);
}

function everyErrorIsFailure(): boolean {
  return true;
}
