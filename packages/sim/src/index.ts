// @synod/sim: the deterministic simulator (engine), client histories and the linearizability
// checker (history), and the simulated Synod cluster that ties them to the Raft core (cluster).
export * from './cluster/client.js';
export * from './cluster/invariants.js';
export * from './cluster/kv-service.js';
export * from './cluster/raft-disk.js';
export * from './cluster/run.js';
export * from './cluster/sim-node.js';
// Both modules name the same `{ next(): number }` shape; the engine's is the one exported.
export type { RandomSource } from './engine/index.js';
export * from './engine/index.js';
export * from './history/index.js';
export * from './lock/index.js';
export { type ManyRunsSummary, runOneSeed, runSeedsInParallel, type SeedOutcome } from './parallel.js';
export * from './trace/index.js';
