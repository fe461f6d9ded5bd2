/**
 * Least outstanding requests, and its cheap approximation power of two choices (Mitzenmacher,
 * "The Power of Two Choices in Randomized Load Balancing", 2001): sampling two endpoints at
 * random and taking the less loaded brings the maximum load down from Θ(log n / log log n) to
 * Θ(log log n), without scanning every endpoint or herding onto a single least-loaded one.
 */
import { mathRandom, type RandomSource } from '../time.js';
import { assertEndpoints, type Balancer, type EndpointFilter, randomIndex } from './balancer.js';
import { OutstandingRequests } from './outstanding.js';

export interface LoadAwareBalancerOptions {
  /** Breaks ties and samples endpoints. Default `mathRandom`. */
  readonly random?: RandomSource;
}

/**
 * The endpoint with the fewest requests in flight; ties broken at random so that idle
 * endpoints share the load instead of the first one taking it all.
 *
 * @example
 * const balancer = new LeastOutstanding(['a', 'b']);
 * const endpoint = balancer.pick()!;
 * // … request …
 * balancer.report(endpoint, elapsedMs, true); // or balancer.release(endpoint)
 */
export class LeastOutstanding<Endpoint> implements Balancer<Endpoint> {
  readonly endpoints: readonly Endpoint[];
  readonly #random: RandomSource;
  readonly #outstanding = new OutstandingRequests<Endpoint>();

  constructor(endpoints: readonly Endpoint[], options: LoadAwareBalancerOptions = {}) {
    assertEndpoints(endpoints);
    this.endpoints = [...endpoints];
    this.#random = options.random ?? mathRandom;
  }

  outstanding(endpoint: Endpoint): number {
    return this.#outstanding.count(endpoint);
  }

  pick(eligible?: EndpointFilter<Endpoint>): Endpoint | undefined {
    let chosen: Endpoint | undefined;
    let fewest = Number.POSITIVE_INFINITY;
    let ties = 0;
    for (const endpoint of this.endpoints) {
      if (eligible !== undefined && !eligible(endpoint)) continue;
      const count = this.#outstanding.count(endpoint);
      if (count < fewest) {
        fewest = count;
        chosen = endpoint;
        ties = 1;
      } else if (count === fewest) {
        // Reservoir sampling over the tied endpoints: each ends up chosen with probability 1/ties.
        ties++;
        if (this.#random.next() * ties < 1) chosen = endpoint;
      }
    }
    if (chosen !== undefined) this.#outstanding.start(chosen);
    return chosen;
  }

  report(endpoint: Endpoint, _latencyMs: number, _ok: boolean): void {
    this.#outstanding.finish(endpoint);
  }

  release(endpoint: Endpoint): void {
    this.#outstanding.finish(endpoint);
  }
}

/**
 * Power of two choices: two distinct random endpoints, the one with fewer requests in flight.
 *
 * @example
 * const balancer = new PowerOfTwoChoices(endpoints, { random: seededRandom });
 * const endpoint = balancer.pick()!;
 * balancer.report(endpoint, elapsedMs, ok);
 */
export class PowerOfTwoChoices<Endpoint> implements Balancer<Endpoint> {
  readonly endpoints: readonly Endpoint[];
  readonly #random: RandomSource;
  readonly #outstanding = new OutstandingRequests<Endpoint>();

  constructor(endpoints: readonly Endpoint[], options: LoadAwareBalancerOptions = {}) {
    assertEndpoints(endpoints);
    this.endpoints = [...endpoints];
    this.#random = options.random ?? mathRandom;
  }

  outstanding(endpoint: Endpoint): number {
    return this.#outstanding.count(endpoint);
  }

  pick(eligible?: EndpointFilter<Endpoint>): Endpoint | undefined {
    const pair = sampleTwo(this.endpoints, eligible, this.#random);
    if (pair === undefined) return undefined;
    const [first, second] = pair;
    const chosen =
      second !== undefined && this.#outstanding.count(second) < this.#outstanding.count(first)
        ? second
        : first;
    this.#outstanding.start(chosen);
    return chosen;
  }

  report(endpoint: Endpoint, _latencyMs: number, _ok: boolean): void {
    this.#outstanding.finish(endpoint);
  }

  release(endpoint: Endpoint): void {
    this.#outstanding.finish(endpoint);
  }
}

/** Two distinct eligible endpoints drawn uniformly (one when only one is eligible, none when none is). */
export function sampleTwo<Endpoint>(
  endpoints: readonly Endpoint[],
  eligible: EndpointFilter<Endpoint> | undefined,
  random: RandomSource,
): [Endpoint, Endpoint | undefined] | undefined {
  const candidates = eligible === undefined ? endpoints : endpoints.filter(eligible);
  if (candidates.length === 0) return undefined;
  if (candidates.length === 1) return [candidates[0]!, undefined];
  const firstIndex = randomIndex(random.next(), candidates.length);
  // Draw the second from the other n − 1 slots, so it is distinct without retrying.
  let secondIndex = randomIndex(random.next(), candidates.length - 1);
  if (secondIndex >= firstIndex) secondIndex++;
  return [candidates[firstIndex]!, candidates[secondIndex]!];
}
