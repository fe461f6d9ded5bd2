/**
 * Outlier detection in the manner of Envoy's: wraps any balancer and ejects an endpoint that
 * fails `consecutiveErrors` times in a row, or whose error rate over an interval reaches
 * `errorRateThreshold` (once it has served `minimumRequests`). An ejection lasts
 * `baseEjectionMs` × the number of times the endpoint has been ejected (capped at
 * `maxEjectionMs`), so a flapping endpoint stays out longer each time; the count falls by one
 * for each interval the endpoint then spends healthy. At most `maxEjectionPercent` of the
 * endpoints are out at once (at least one, never all), so detection cannot empty the pool.
 */
import { type Clock, systemClock } from '../time.js';
import type { Balancer, EndpointFilter } from './balancer.js';

export interface OutlierDetectionOptions<Endpoint> {
  readonly clock?: Clock;
  /** Eject after this many failures in a row. Default 5. */
  readonly consecutiveErrors?: number;
  /** Eject when failures / requests in an interval reach this (0..1]. Default 0.5. */
  readonly errorRateThreshold?: number;
  /** Requests an endpoint must serve in an interval before its error rate counts. Default 20. */
  readonly minimumRequests?: number;
  /** Length of the error-rate window (ms). Default 10 s. */
  readonly intervalMs?: number;
  /** First ejection time (ms); the n-th ejection lasts n times this. Default 30 s. */
  readonly baseEjectionMs?: number;
  /** Longest ejection (ms). Default 300 s. */
  readonly maxEjectionMs?: number;
  /** Most endpoints out at once, as a percentage of all. Default 10 (but at least one). */
  readonly maxEjectionPercent?: number;
  readonly onEject?: (endpoint: Endpoint, untilMs: number, reason: EjectionReason) => void;
  readonly onReturn?: (endpoint: Endpoint) => void;
}

export type EjectionReason = 'consecutive-errors' | 'error-rate';

export const outlierDetectionDefaults = {
  consecutiveErrors: 5,
  errorRateThreshold: 0.5,
  minimumRequests: 20,
  intervalMs: 10_000,
  baseEjectionMs: 30_000,
  maxEjectionMs: 300_000,
  maxEjectionPercent: 10,
} as const;

interface EndpointHealth {
  consecutiveErrors: number;
  intervalRequests: number;
  intervalErrors: number;
  /** Ejections not yet forgiven: the multiplier of the next ejection time. */
  ejectionCount: number;
  ejectedUntilMs: number | undefined;
  /** Ejected at some point of the current interval: that interval does not count as healthy. */
  ejectedThisInterval: boolean;
}

/** Intervals closed one by one when catching up after a silence; the rest are closed together. */
const catchUpIntervalsMax = 1000;

type Settings = Required<Omit<OutlierDetectionOptions<unknown>, 'clock' | 'onEject' | 'onReturn'>>;

/**
 * @example
 * const balancer = new OutlierDetection(new RoundRobin(['a', 'b', 'c']), { consecutiveErrors: 3 });
 * const endpoint = balancer.pick()!;
 * balancer.report(endpoint, latencyMs, ok); // three failures in a row eject it for 30 s
 */
export class OutlierDetection<Endpoint> implements Balancer<Endpoint> {
  readonly #inner: Balancer<Endpoint>;
  readonly #clock: Clock;
  readonly #settings: Settings;
  readonly #onEject: OutlierDetectionOptions<Endpoint>['onEject'];
  readonly #onReturn: OutlierDetectionOptions<Endpoint>['onReturn'];
  readonly #health = new Map<Endpoint, EndpointHealth>();
  #intervalStartMs: number;

  constructor(inner: Balancer<Endpoint>, options: OutlierDetectionOptions<Endpoint> = {}) {
    this.#inner = inner;
    this.#clock = options.clock ?? systemClock;
    const { clock: _clock, onEject, onReturn, ...overrides } = options;
    this.#settings = { ...outlierDetectionDefaults, ...overrides };
    assertSettings(this.#settings);
    this.#onEject = onEject;
    this.#onReturn = onReturn;
    for (const endpoint of inner.endpoints) this.#health.set(endpoint, newHealth());
    this.#intervalStartMs = this.#clock.now();
  }

  get endpoints(): readonly Endpoint[] {
    return this.#inner.endpoints;
  }

  isEjected(endpoint: Endpoint): boolean {
    this.#advance(this.#clock.now());
    return this.#health.get(endpoint)?.ejectedUntilMs !== undefined;
  }

  /** Endpoints currently ejected, in the inner balancer's order. */
  ejectedEndpoints(): Endpoint[] {
    this.#advance(this.#clock.now());
    return this.endpoints.filter((endpoint) => this.#health.get(endpoint)?.ejectedUntilMs !== undefined);
  }

  pick(eligible?: EndpointFilter<Endpoint>): Endpoint | undefined {
    this.#advance(this.#clock.now());
    return this.#inner.pick((endpoint) => {
      if (this.#health.get(endpoint)?.ejectedUntilMs !== undefined) return false;
      return eligible === undefined || eligible(endpoint);
    });
  }

  report(endpoint: Endpoint, latencyMs: number, ok: boolean): void {
    this.#inner.report(endpoint, latencyMs, ok);
    const nowMs = this.#clock.now();
    this.#advance(nowMs);
    const health = this.#health.get(endpoint);
    if (health === undefined || health.ejectedUntilMs !== undefined) return;
    health.intervalRequests++;
    if (ok) {
      health.consecutiveErrors = 0;
      return;
    }
    health.consecutiveErrors++;
    health.intervalErrors++;
    const reason = this.#ejectionReason(health);
    if (reason !== undefined) this.#eject(endpoint, health, nowMs, reason);
  }

  release(endpoint: Endpoint): void {
    this.#inner.release(endpoint);
  }

  #ejectionReason(health: EndpointHealth): EjectionReason | undefined {
    if (health.consecutiveErrors >= this.#settings.consecutiveErrors) return 'consecutive-errors';
    const { minimumRequests, errorRateThreshold } = this.#settings;
    if (
      health.intervalRequests >= minimumRequests &&
      health.intervalErrors / health.intervalRequests >= errorRateThreshold
    ) {
      return 'error-rate';
    }
    return undefined;
  }

  #eject(endpoint: Endpoint, health: EndpointHealth, nowMs: number, reason: EjectionReason): void {
    if (this.ejectedEndpoints().length >= this.#maxEjectedCount()) return;
    health.ejectionCount++;
    const durationMs = Math.min(
      this.#settings.baseEjectionMs * health.ejectionCount,
      this.#settings.maxEjectionMs,
    );
    health.ejectedUntilMs = nowMs + durationMs;
    health.ejectedThisInterval = true;
    health.consecutiveErrors = 0;
    health.intervalRequests = 0;
    health.intervalErrors = 0;
    this.#onEject?.(endpoint, health.ejectedUntilMs, reason);
  }

  #maxEjectedCount(): number {
    const count = this.endpoints.length;
    if (this.#settings.maxEjectionPercent <= 0 || count < 2) return 0;
    return Math.min(count - 1, Math.max(1, Math.floor((count * this.#settings.maxEjectionPercent) / 100)));
  }

  /**
   * Brings the state up to `nowMs`: closes each elapsed interval in turn (returning endpoints whose
   * ejection ended within it first, so forgiveness counts the intervals they spent back in).
   */
  #advance(nowMs: number): void {
    const { intervalMs } = this.#settings;
    let closed = 0;
    while (nowMs - this.#intervalStartMs >= intervalMs && closed < catchUpIntervalsMax) {
      const intervalEndMs = this.#intervalStartMs + intervalMs;
      this.#returnExpired(intervalEndMs);
      this.#closeInterval(1);
      this.#intervalStartMs = intervalEndMs;
      closed++;
    }
    const remaining = Math.floor((nowMs - this.#intervalStartMs) / intervalMs);
    if (remaining > 0) {
      // Only after a very long silence: every remaining interval saw no request at all.
      this.#returnExpired(nowMs);
      this.#closeInterval(remaining);
      this.#intervalStartMs += remaining * intervalMs;
    }
    this.#returnExpired(nowMs);
  }

  #returnExpired(atMs: number): void {
    for (const [endpoint, health] of this.#health) {
      if (health.ejectedUntilMs !== undefined && atMs >= health.ejectedUntilMs) {
        health.ejectedUntilMs = undefined;
        this.#onReturn?.(endpoint);
      }
    }
  }

  /** Forgives one past ejection per healthy interval, as Envoy decrements its multiplier. */
  #closeInterval(intervalCount: number): void {
    for (const health of this.#health.values()) {
      const healthy = !health.ejectedThisInterval && health.intervalErrors === 0;
      if (healthy) health.ejectionCount = Math.max(0, health.ejectionCount - intervalCount);
      health.ejectedThisInterval = health.ejectedUntilMs !== undefined;
      health.intervalRequests = 0;
      health.intervalErrors = 0;
    }
  }
}

function newHealth(): EndpointHealth {
  return {
    consecutiveErrors: 0,
    intervalRequests: 0,
    intervalErrors: 0,
    ejectionCount: 0,
    ejectedUntilMs: undefined,
    ejectedThisInterval: false,
  };
}

function assertSettings(settings: Settings): void {
  const positive: (keyof Settings)[] = [
    'consecutiveErrors',
    'minimumRequests',
    'intervalMs',
    'baseEjectionMs',
    'maxEjectionMs',
  ];
  for (const name of positive) {
    if (!(settings[name] > 0)) throw new RangeError(`${name} must be positive, got ${settings[name]}`);
  }
  if (!(settings.errorRateThreshold > 0 && settings.errorRateThreshold <= 1)) {
    throw new RangeError(`errorRateThreshold must be in (0, 1], got ${settings.errorRateThreshold}`);
  }
}
