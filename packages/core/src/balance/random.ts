/** Uniform random choice: no state, no coordination, and the baseline every smarter balancer must beat. */
import { mathRandom, type RandomSource } from '../time.js';
import { assertEndpoints, type Balancer, type EndpointFilter, randomIndex } from './balancer.js';

export interface RandomBalancerOptions {
  /** Default `mathRandom`; inject a seeded source for reproducible runs. */
  readonly random?: RandomSource;
}

/**
 * @example
 * const balancer = new RandomBalancer(['a', 'b', 'c'], { random: seededRandom });
 * balancer.pick(); // each endpoint with probability 1/3
 */
export class RandomBalancer<Endpoint> implements Balancer<Endpoint> {
  readonly endpoints: readonly Endpoint[];
  readonly #random: RandomSource;

  constructor(endpoints: readonly Endpoint[], options: RandomBalancerOptions = {}) {
    assertEndpoints(endpoints);
    this.endpoints = [...endpoints];
    this.#random = options.random ?? mathRandom;
  }

  pick(eligible?: EndpointFilter<Endpoint>): Endpoint | undefined {
    const candidates = eligible === undefined ? this.endpoints : this.endpoints.filter(eligible);
    if (candidates.length === 0) return undefined;
    return candidates[randomIndex(this.#random.next(), candidates.length)];
  }

  report(_endpoint: Endpoint, _latencyMs: number, _ok: boolean): void {}

  release(_endpoint: Endpoint): void {}
}
