// Wire and storage types of the Raft core. Everything here is plain data, so drivers can encode
// it however they like (the simulator passes objects, the server encodes frames).

/** A member's identity. Node ids are non-empty strings (etcd's member names map onto them). */
export type NodeId = string;

/** Raft group identifier: many groups share one process and one transport. */
export type GroupId = string;

/** "No node": used for votedFor and the leader hint. */
export const NO_NODE: NodeId = '';

export type EntryKind = 'normal' | 'config';

/** One log entry. Config entries carry an encoded {@link ConfChange} in `data`. */
export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly kind: EntryKind;
  readonly data: Uint8Array;
}

/** The state Raft must persist before it answers any message (Raft Figure 2: currentTerm, votedFor) plus commit. */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
}

/** Membership: voters of the incoming (and, during joint consensus, the outgoing) configuration, and learners. */
export interface ConfState {
  readonly voters: readonly NodeId[];
  /** Non-empty only in a joint configuration (Raft §6 / thesis §4.3). */
  readonly votersOutgoing: readonly NodeId[];
  readonly learners: readonly NodeId[];
  /** Voters of the outgoing configuration that become learners when the joint configuration is left. */
  readonly learnersNext: readonly NodeId[];
  /** Leave the joint configuration automatically once it is applied. */
  readonly autoLeave: boolean;
}

export interface SnapshotMetadata {
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState;
}

/** An application snapshot: the state machine at `metadata.index`, opaque to Raft. */
export interface Snapshot {
  readonly metadata: SnapshotMetadata;
  readonly data: Uint8Array;
}

export type ConfChangeType = 'addVoter' | 'addLearner' | 'removeNode';

export interface ConfChangeSingle {
  readonly type: ConfChangeType;
  readonly node: NodeId;
}

/**
 * A membership change. One voter change is applied directly (simple change); several changes
 * (or `transition: 'joint'`) go through a joint configuration. An empty change list leaves a joint configuration.
 */
export interface ConfChange {
  readonly changes: readonly ConfChangeSingle[];
  /** 'auto': simple if possible, else joint with automatic leave; 'joint': always joint, leave explicitly. */
  readonly transition: 'auto' | 'joint';
  /** Opaque to Raft, replicated with the change (the application's details: who asked, member URLs). */
  readonly context?: string;
}

/** A read the application may serve once it has applied up to `index` (ReadIndex, Raft thesis §6.4). */
export interface ReadState {
  readonly index: number;
  readonly context: string;
}

interface MessageBase {
  readonly group: GroupId;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
}

export interface AppendMessage extends MessageBase {
  readonly type: 'append';
  readonly prevLogIndex: number;
  readonly prevLogTerm: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
}

export interface AppendResponseMessage extends MessageBase {
  readonly type: 'appendResponse';
  readonly reject: boolean;
  /** On success: the index now matched. On reject: the index the leader tried (prevLogIndex). */
  readonly index: number;
  /** On reject: a hint for fast backtracking: the follower's last index at or below `index` whose term is ≤ hintTerm. */
  readonly rejectHint: number;
  readonly hintTerm: number;
}

export interface VoteMessage extends MessageBase {
  readonly type: 'vote' | 'preVote';
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
  /** Set by leadership transfer: voters grant even while they still hear from a leader. */
  readonly transfer: boolean;
}

export interface VoteResponseMessage extends MessageBase {
  readonly type: 'voteResponse' | 'preVoteResponse';
  readonly reject: boolean;
}

export interface HeartbeatMessage extends MessageBase {
  readonly type: 'heartbeat';
  readonly commit: number;
  /** ReadIndex context being confirmed by this round, or '' for a plain heartbeat. */
  readonly context: string;
  /** The leader's tick when it sent this round; echoed back to measure the lease (lease reads). */
  readonly sentTick: number;
}

export interface HeartbeatResponseMessage extends MessageBase {
  readonly type: 'heartbeatResponse';
  readonly context: string;
  readonly sentTick: number;
}

export interface SnapshotChunkMessage extends MessageBase {
  readonly type: 'snapshot';
  readonly metadata: SnapshotMetadata;
  /** Byte offset of this chunk in the snapshot data. */
  readonly offset: number;
  readonly totalBytes: number;
  readonly chunk: Uint8Array;
  readonly done: boolean;
}

export interface SnapshotResponseMessage extends MessageBase {
  readonly type: 'snapshotResponse';
  readonly snapshotIndex: number;
  /** Bytes received so far (the next offset wanted); -1 rejects the transfer and asks for a restart. */
  readonly receivedBytes: number;
  readonly done: boolean;
}

export interface TimeoutNowMessage extends MessageBase {
  readonly type: 'timeoutNow';
}

export interface ReadIndexMessage extends MessageBase {
  readonly type: 'readIndex';
  readonly context: string;
}

export interface ReadIndexResponseMessage extends MessageBase {
  readonly type: 'readIndexResponse';
  readonly context: string;
  /** -1 when the leader could not serve the read (no entry committed in its term yet). */
  readonly index: number;
}

/** A follower forwards client proposals to the leader (the follower learns the outcome by applying). */
export interface ProposeMessage extends MessageBase {
  readonly type: 'propose';
  readonly entries: readonly Uint8Array[];
}

export type Message =
  | ProposeMessage
  | AppendMessage
  | AppendResponseMessage
  | VoteMessage
  | VoteResponseMessage
  | HeartbeatMessage
  | HeartbeatResponseMessage
  | SnapshotChunkMessage
  | SnapshotResponseMessage
  | TimeoutNowMessage
  | ReadIndexMessage
  | ReadIndexResponseMessage;

export type MessageType = Message['type'];

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

/** Thrown when a protocol invariant is broken: a bug, never an operating condition. */
export class RaftInvariantError extends Error {
  override readonly name = 'RaftInvariantError';
}

export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new RaftInvariantError(message);
}

/** Bytes an entry costs against batching limits (payload plus a fixed header estimate). */
export const ENTRY_OVERHEAD_BYTES = 24;

export function entryBytes(entry: Entry): number {
  return entry.data.byteLength + ENTRY_OVERHEAD_BYTES;
}
