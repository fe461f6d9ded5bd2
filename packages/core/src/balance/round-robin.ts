/**
 * Round robin and smooth weighted round robin (the nginx algorithm): every endpoint in turn,
 * or in proportion to its weight with picks of one endpoint spread out, not bunched.
 */
import { assertEndpoints, type Balancer, type EndpointFilter, type WeightedEndpoint } from './balancer.js';

/**
 * @example
 * const balancer = new RoundRobin(['a', 'b', 'c']);
 * balancer.pick(); // 'a', then 'b', 'c', 'a', …
 */
export class RoundRobin<Endpoint> implements Balancer<Endpoint> {
  readonly endpoints: readonly Endpoint[];
  #next = 0;

  constructor(endpoints: readonly Endpoint[]) {
    assertEndpoints(endpoints);
    this.endpoints = [...endpoints];
  }

  pick(eligible?: EndpointFilter<Endpoint>): Endpoint | undefined {
    const count = this.endpoints.length;
    for (let offset = 0; offset < count; offset++) {
      const index = (this.#next + offset) % count;
      const endpoint = this.endpoints[index]!;
      if (eligible === undefined || eligible(endpoint)) {
        this.#next = (index + 1) % count;
        return endpoint;
      }
    }
    return undefined;
  }

  report(_endpoint: Endpoint, _latencyMs: number, _ok: boolean): void {}

  release(_endpoint: Endpoint): void {}
}

/**
 * Smooth weighted round robin as nginx does it: each pick, every eligible endpoint's current
 * weight grows by its weight; the largest wins and drops by the total. With integer weights, a
 * cycle of Σweights picks chooses each endpoint exactly `weight` times, interleaved.
 *
 * @example
 * const balancer = new SmoothWeightedRoundRobin([
 *   { endpoint: 'a', weight: 5 },
 *   { endpoint: 'b', weight: 1 },
 *   { endpoint: 'c', weight: 1 },
 * ]);
 * // picks: a a b a c a a, then again
 */
export class SmoothWeightedRoundRobin<Endpoint> implements Balancer<Endpoint> {
  readonly endpoints: readonly Endpoint[];
  readonly #weights: readonly number[];
  readonly #currentWeights: number[];

  constructor(entries: readonly WeightedEndpoint<Endpoint>[]) {
    this.endpoints = entries.map((entry) => entry.endpoint);
    assertEndpoints(this.endpoints);
    for (const { endpoint, weight } of entries) {
      if (!(weight > 0) || !Number.isFinite(weight))
        throw new RangeError(`weight of ${String(endpoint)} must be positive`);
    }
    this.#weights = entries.map((entry) => entry.weight);
    this.#currentWeights = entries.map(() => 0);
  }

  pick(eligible?: EndpointFilter<Endpoint>): Endpoint | undefined {
    let best = -1;
    let totalWeight = 0;
    for (let index = 0; index < this.endpoints.length; index++) {
      if (eligible !== undefined && !eligible(this.endpoints[index]!)) continue;
      this.#currentWeights[index]! += this.#weights[index]!;
      totalWeight += this.#weights[index]!;
      if (best < 0 || this.#currentWeights[index]! > this.#currentWeights[best]!) best = index;
    }
    if (best < 0) return undefined;
    this.#currentWeights[best]! -= totalWeight;
    return this.endpoints[best];
  }

  report(_endpoint: Endpoint, _latencyMs: number, _ok: boolean): void {}

  release(_endpoint: Endpoint): void {}
}
