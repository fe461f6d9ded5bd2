/**
 * Peak-EWMA latency balancing, after Finagle and Linkerd: each endpoint keeps an exponentially
 * weighted moving average of its latency that jumps up at once to a slower sample (the "peak")
 * and decays toward faster ones with time constant `decayMs`. Its cost is that latency times
 * (requests in flight + 1); power of two choices picks the cheaper of two random endpoints.
 * Idle endpoints' averages decay toward zero, so a once-slow endpoint is tried again later.
 */
import { type Clock, mathRandom, type RandomSource, systemClock } from '../time.js';
import { assertEndpoints, type Balancer, type EndpointFilter } from './balancer.js';
import { sampleTwo } from './least-outstanding.js';
import { OutstandingRequests } from './outstanding.js';

export interface PeakEwmaOptions {
  readonly clock?: Clock;
  readonly random?: RandomSource;
  /** Time constant of the decay (ms): after this long a sample's weight falls to 1/e. Default 10 s. */
  readonly decayMs?: number;
  /** A failed request counts as at least this slow, so failing fast does not attract traffic. Default 1 s. */
  readonly failureLatencyMs?: number;
}

export const defaultDecayMs = 10_000;
export const defaultFailureLatencyMs = 1_000;
/** Cost of an endpoint with requests in flight but no latency measured yet: avoid piling onto it. */
const unmeasuredBusyCost = Number.MAX_SAFE_INTEGER;

interface LatencyEstimate {
  ewmaMs: number;
  updatedAtMs: number;
}

/**
 * @example
 * const balancer = new PeakEwma(['a', 'b'], { clock, random });
 * const endpoint = balancer.pick()!;
 * const started = clock.now();
 * // … request …
 * balancer.report(endpoint, clock.now() - started, ok);
 */
export class PeakEwma<Endpoint> implements Balancer<Endpoint> {
  readonly endpoints: readonly Endpoint[];
  readonly #clock: Clock;
  readonly #random: RandomSource;
  readonly #decayMs: number;
  readonly #failureLatencyMs: number;
  readonly #outstanding = new OutstandingRequests<Endpoint>();
  readonly #estimates = new Map<Endpoint, LatencyEstimate>();

  constructor(endpoints: readonly Endpoint[], options: PeakEwmaOptions = {}) {
    assertEndpoints(endpoints);
    this.endpoints = [...endpoints];
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? mathRandom;
    this.#decayMs = options.decayMs ?? defaultDecayMs;
    this.#failureLatencyMs = options.failureLatencyMs ?? defaultFailureLatencyMs;
    if (!(this.#decayMs > 0)) throw new RangeError(`decayMs must be positive, got ${this.#decayMs}`);
  }

  /** The endpoint's latency estimate now (ms), 0 before any report. */
  latencyMs(endpoint: Endpoint): number {
    const estimate = this.#estimates.get(endpoint);
    if (estimate === undefined) return 0;
    return estimate.ewmaMs * this.#decayFactor(estimate.updatedAtMs);
  }

  /** Latency estimate × (requests in flight + 1): what pick() minimises. */
  cost(endpoint: Endpoint): number {
    const latencyMs = this.latencyMs(endpoint);
    const outstanding = this.#outstanding.count(endpoint);
    if (latencyMs === 0 && outstanding > 0) return unmeasuredBusyCost;
    return latencyMs * (outstanding + 1);
  }

  pick(eligible?: EndpointFilter<Endpoint>): Endpoint | undefined {
    const pair = sampleTwo(this.endpoints, eligible, this.#random);
    if (pair === undefined) return undefined;
    const [first, second] = pair;
    const chosen = second !== undefined && this.cost(second) < this.cost(first) ? second : first;
    this.#outstanding.start(chosen);
    return chosen;
  }

  report(endpoint: Endpoint, latencyMs: number, ok: boolean): void {
    this.#outstanding.finish(endpoint);
    if (!(latencyMs >= 0)) throw new RangeError(`latencyMs must be ≥ 0, got ${latencyMs}`);
    const sampleMs = ok ? latencyMs : Math.max(latencyMs, this.#failureLatencyMs);
    const nowMs = this.#clock.now();
    // A slower sample replaces the estimate outright (the peak); a faster one pulls it down by the
    // weight 1 − w that the time since the last update earns, so the result stays in [sample, current].
    const current = this.latencyMs(endpoint);
    const elapsedWeight = this.#decayFactor(this.#estimates.get(endpoint)?.updatedAtMs ?? nowMs);
    const ewmaMs = sampleMs > current ? sampleMs : current * elapsedWeight + sampleMs * (1 - elapsedWeight);
    this.#estimates.set(endpoint, { ewmaMs, updatedAtMs: nowMs });
  }

  release(endpoint: Endpoint): void {
    this.#outstanding.finish(endpoint);
  }

  /** e^(−elapsed/decay): the weight left to a value last updated at `updatedAtMs`. */
  #decayFactor(updatedAtMs: number): number {
    return Math.exp(-Math.max(0, this.#clock.now() - updatedAtMs) / this.#decayMs);
  }
}
