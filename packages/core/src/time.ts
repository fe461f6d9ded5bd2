/**
 * The two injected sources of non-determinism shared by every `@synod/core` primitive.
 * Algorithms never read the wall clock or `Math.random()` directly; they take these,
 * so a test or the simulator can replace them with a virtual clock and a seeded generator.
 */

/** A monotonic source of time in milliseconds. Only differences between readings are meaningful. */
export interface Clock {
  now(): number;
}

/** A source of uniform random numbers in [0, 1). */
export interface RandomSource {
  next(): number;
}

/**
 * The default clock: `performance.now()` where available (monotonic, sub-millisecond),
 * falling back to `Date.now()` in runtimes without the High Resolution Time API.
 *
 * @example
 * const started = systemClock.now();
 * // … work …
 * const elapsedMs = systemClock.now() - started;
 */
export const systemClock: Clock =
  typeof globalThis.performance?.now === 'function'
    ? { now: () => globalThis.performance.now() }
    : { now: () => Date.now() };

/**
 * The default random source, backed by `Math.random()`. Replace it with a seeded generator
 * wherever a run must be reproducible.
 *
 * @example
 * const jitter = mathRandom.next() * 100; // 0 ≤ jitter < 100
 */
export const mathRandom: RandomSource = { next: () => Math.random() };
