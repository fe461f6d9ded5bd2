/**
 * The one interface every load balancer here implements, so that wrappers such as outlier
 * detection compose with any of them.
 */

/** Accepts or refuses an endpoint for one pick (e.g. to skip ejected or draining endpoints). */
export type EndpointFilter<Endpoint> = (endpoint: Endpoint) => boolean;

export interface Balancer<Endpoint> {
  /** Every endpoint this balancer chooses among, in the order given. */
  readonly endpoints: readonly Endpoint[];
  /**
   * Chooses the endpoint for the next request among those `eligible` accepts (default: all);
   * undefined when there is none. Balancers that count requests in flight count this one.
   */
  pick(eligible?: EndpointFilter<Endpoint>): Endpoint | undefined;
  /** Reports how a picked request ended. Latency-aware balancers learn from it. */
  report(endpoint: Endpoint, latencyMs: number, ok: boolean): void;
  /** Ends a picked request without a measurement (cancelled, abandoned). */
  release(endpoint: Endpoint): void;
}

/** An endpoint with a relative weight (positive; an endpoint of weight 2 takes twice the share). */
export interface WeightedEndpoint<Endpoint> {
  readonly endpoint: Endpoint;
  readonly weight: number;
}

export function assertEndpoints<Endpoint>(endpoints: readonly Endpoint[]): void {
  if (new Set(endpoints).size !== endpoints.length) throw new RangeError('endpoints must be distinct');
}

/** Index of a uniformly random element of [0, count), from a random source's [0, 1) draw. */
export function randomIndex(draw: number, count: number): number {
  return Math.min(count - 1, Math.floor(draw * count));
}
