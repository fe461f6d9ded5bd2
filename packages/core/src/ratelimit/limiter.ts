import { type Clock, systemClock } from '../time.js';
import { checkCost, type RateLimitAlgorithm, type RateLimitDecision, type RateLimiter } from './algorithm.js';

/**
 * A rate limiter that keeps one algorithm's state and steps it at its clock's time.
 * The state is a plain object: read it with `state`, replace it with `restore` (for example
 * from a replicated log or a snapshot).
 */
export class AlgorithmRateLimiter<State, Config> implements RateLimiter {
  readonly algorithm: RateLimitAlgorithm<State, Config>;
  readonly config: Config;
  readonly clock: Clock;
  #state: State;

  constructor(algorithm: RateLimitAlgorithm<State, Config>, config: Config, clock: Clock = systemClock) {
    algorithm.validateConfig(config);
    this.algorithm = algorithm;
    this.config = config;
    this.clock = clock;
    this.#state = algorithm.initialState(config, clock.now());
  }

  /** The current state (immutable; each step makes a new one). */
  get state(): State {
    return this.#state;
  }

  restore(state: State): void {
    this.#state = state;
  }

  tryAcquire(cost = 1): RateLimitDecision {
    checkCost(cost);
    const step = this.algorithm.acquire(this.#state, this.clock.now(), cost, this.config);
    this.#state = step.state;
    return step.decision;
  }
}
