// @synod/core: pure, dependency-free primitives. Each module is also importable on its own
// (e.g. '@synod/core/ratelimit'); the Node-only thread pool lives at '@synod/core/concurrency/node'.
export * from './balance/index.js';
export * from './clocks/index.js';
export * from './concurrency/index.js';
export * from './crdt/index.js';
export * from './hashing/index.js';
export * from './ratelimit/index.js';
export * from './resilience/index.js';
export * from './sketch/index.js';
export { type Clock, mathRandom, type RandomSource, systemClock } from './time.js';
