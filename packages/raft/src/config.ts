// Configuration of one Raft group member, with the defaults a production cluster starts from.
import type { GroupId, NodeId } from './types.js';

/** A uniform random source in [0, 1): injected so the simulator decides every election jitter. */
export interface RandomSource {
  next(): number;
}

/**
 * Deliberately broken behaviours, for tests only: they prove the simulator's checkers can fail.
 * Never enable one outside a test.
 */
export type Mutation =
  /** Grant votes without the §5.4.1 "candidate's log is at least as up to date" check. */
  | 'vote-without-log-check'
  /** Commit entries of previous terms by counting replicas (the Figure 8 bug, §5.4.2). */
  | 'commit-previous-term-by-counting'
  /** Follower truncates everything after prevLogIndex, even without a term conflict. */
  | 'truncate-without-conflict'
  /** Leader answers ReadIndex at once, without confirming leadership with a quorum. */
  | 'read-index-without-quorum'
  /** Commit counts ⌊n/2⌋ acknowledgements as a majority (an off-by-one in quorum arithmetic). */
  | 'commit-quorum-off-by-one';

export type ReadMode =
  /** Confirm leadership with a heartbeat round acknowledged by a quorum (linearizable). */
  | 'read-index'
  /** Trust the leader lease when a quorum was heard from recently; needs check-quorum and bounded clock drift. */
  | 'lease';

export interface RaftConfig {
  readonly id: NodeId;
  readonly group: GroupId;
  /** Followers campaign after a random timeout in [electionTicks, 2·electionTicks). */
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly readMode: ReadMode;
  /** Lease reads: ticks of clock drift tolerated between leader and followers during one election timeout. */
  readonly leaseDriftTicks: number;
  readonly maxEntriesPerMessage: number;
  readonly maxBytesPerMessage: number;
  /** Pipelining window per follower. */
  readonly maxInflightMessages: number;
  readonly maxInflightBytes: number;
  /** Proposals beyond this many uncommitted bytes are refused (back-pressure). */
  readonly maxUncommittedBytes: number;
  /** Committed entries handed out per Ready. */
  readonly maxCommittedBytesPerReady: number;
  readonly snapshotChunkBytes: number;
  readonly maxSnapshotBytes: number;
  readonly maxPendingReads: number;
  readonly random: RandomSource;
  readonly mutations: ReadonlySet<Mutation>;
}

export const DEFAULT_RAFT_CONFIG = {
  group: 'default',
  electionTicks: 10,
  heartbeatTicks: 1,
  preVote: true,
  checkQuorum: true,
  readMode: 'read-index',
  leaseDriftTicks: 2,
  maxEntriesPerMessage: 512,
  maxBytesPerMessage: 1024 * 1024,
  maxInflightMessages: 256,
  maxInflightBytes: 16 * 1024 * 1024,
  maxUncommittedBytes: 64 * 1024 * 1024,
  maxCommittedBytesPerReady: 4 * 1024 * 1024,
  snapshotChunkBytes: 512 * 1024,
  maxSnapshotBytes: 8 * 1024 * 1024 * 1024,
  maxPendingReads: 4096,
  mutations: new Set<Mutation>(),
} as const satisfies Omit<RaftConfig, 'id' | 'random'>;

export function resolveConfig(options: Partial<RaftConfig> & Pick<RaftConfig, 'id' | 'random'>): RaftConfig {
  const config: RaftConfig = { ...DEFAULT_RAFT_CONFIG, ...options };
  if (config.id === '') throw new Error('raft: id must not be empty');
  if (config.heartbeatTicks <= 0 || config.electionTicks <= config.heartbeatTicks) {
    throw new Error('raft: electionTicks must be greater than heartbeatTicks, both positive');
  }
  if (config.readMode === 'lease' && !config.checkQuorum) {
    throw new Error('raft: lease reads are only safe with checkQuorum enabled');
  }
  if (config.readMode === 'lease' && config.leaseDriftTicks >= config.electionTicks) {
    throw new Error('raft: leaseDriftTicks must be smaller than electionTicks');
  }
  for (const limit of [
    'maxEntriesPerMessage',
    'maxBytesPerMessage',
    'snapshotChunkBytes',
    'maxPendingReads',
  ] as const) {
    if (!(config[limit] > 0)) throw new Error(`raft: ${limit} must be positive`);
  }
  return config;
}
