export { BoundedLoadHash, type BoundedLoadOptions, defaultLoadFactor } from './bounded-load.js';
export { crc32c, crc32cCombine } from './crc32c.js';
export { jumpBucketCountMax, jumpHash } from './jump.js';
export { type KeyMovement, loadImbalance, measureKeyMovement } from './movement.js';
export { murmur3Hash32, murmur3Hash32Pair, murmur3HashUint32 } from './murmur3.js';
export { RendezvousHash, type RendezvousOptions } from './rendezvous.js';
export {
  ConsistentHashRing,
  defaultVirtualNodesPerWeight,
  type RingOptions,
  ringNodeCountMax,
  ringPointsPerNodeMax,
  type WeightedNode,
} from './ring.js';
export type { Uint64 } from './uint64.js';
export type { HashInput } from './utf8.js';
export { xxHash64, xxHash64Into } from './xxhash64.js';
