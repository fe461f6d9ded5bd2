export type { Mutation, RaftConfig, RandomSource, ReadMode } from './config.js';
export { DEFAULT_RAFT_CONFIG, resolveConfig } from './config.js';
export { InMemoryCluster, seededRandom } from './in-memory-cluster.js';
export type { ProposeResult, ReadIndexResult } from './leader.js';
export { Raft } from './leader.js';
export {
  allMembers,
  applyConfChange,
  decodeConfChange,
  encodeConfChange,
  isJoint,
  isLearner,
  isVoter,
} from './membership.js';
export type { Ready, Status } from './raw-node.js';
export { RawNode } from './raw-node.js';
export type { InitialState, Storage } from './storage.js';
export { EMPTY_CONF_STATE, EMPTY_HARD_STATE, MemoryStorage } from './storage.js';
export * from './types.js';
