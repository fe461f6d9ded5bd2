// The SimTrace JSON format: one simulator run as data, for the dashboard's replay view and for
// files written by `npm run sim -- --seed N --out FILE`. README.md in this folder documents it;
// any change to a field's meaning bumps SIM_TRACE_VERSION.
import type { Role } from '@synod/raft';
import type { ViolationKind } from '../cluster/invariants.js';
import type { DropReason } from '../engine/network.js';
import type { PartitionShape } from '../engine/partition.js';
import type { OperationOutcome } from '../history/history.js';

export const SIM_TRACE_FORMAT = 'synod.sim-trace';
export const SIM_TRACE_VERSION = 1;

/** Most records one trace holds (all kinds together). */
export const TRACE_RECORDS_MAX = 200_000;
/**
 * Chatty records (messages, log appends, commit progress) stop here, so the records that explain
 * a run (faults, role changes, violations, client operations) keep the last 40,000 places.
 */
export const TRACE_DETAIL_RECORDS_MAX = 160_000;
/** Longest text kept for a log entry's summary. */
export const ENTRY_SUMMARY_CHARS_MAX = 48;
/** Entries of the recovered log a `start` record shows (the newest). */
export const START_LOG_TAIL_ENTRIES = 5;
/** Longest violation message kept (a crash carries a stack trace). */
export const VIOLATION_MESSAGE_CHARS_MAX = 2_000;

/** The run's parameters: enough to replay it with `npm run sim`. */
export interface TraceParams {
  readonly seed: number;
  /** Node ids, in order (`n1` …). */
  readonly nodes: readonly string[];
  readonly nemesis: 'all' | 'none' | readonly string[];
  /** The deliberately broken core, or null for the correct one. */
  readonly mutant: string | null;
  readonly durationMs: number;
  /** Faults stop here; the rest of the run must make progress. */
  readonly quiesceAtMs: number;
  readonly intensity: number;
  readonly readMode: string;
  readonly clients: number;
  readonly keys: number;
}

interface RecordBase {
  /** Virtual milliseconds since the run began, rounded to the microsecond. */
  readonly atMs: number;
}

/** A node's Raft state after it changed (role, term, leader, commit or applied index). */
export interface NodeStateRecord extends RecordBase {
  readonly kind: 'node';
  readonly node: string;
  readonly role: Role;
  readonly term: number;
  /** The leader this node follows; '' when it knows none. */
  readonly leader: string;
  readonly commit: number;
  readonly applied: number;
}

/** A log entry as the replay view shows it. */
export interface TraceEntry {
  readonly index: number;
  readonly term: number;
  /** e.g. `put k1=p3-7`, `cas k2 p1-0→p3-8`, `(empty)`, `(config)`; at most ENTRY_SUMMARY_CHARS_MAX. */
  readonly command: string;
}

/** An entry written to a node's log; it replaces any entry at `index` and every entry after it. */
export interface AppendRecord extends RecordBase, TraceEntry {
  readonly kind: 'append';
  readonly node: string;
}

/** A node installed a snapshot: its log now starts after `index`. */
export interface SnapshotRecord extends RecordBase {
  readonly kind: 'snapshot';
  readonly node: string;
  readonly index: number;
  readonly term: number;
}

/** A node process came up with what survived on its disk. */
export interface StartRecord extends RecordBase {
  readonly kind: 'start';
  readonly node: string;
  /** 1 at boot, then one more per restart. */
  readonly incarnation: number;
  readonly term: number;
  readonly commit: number;
  /** The snapshot index: a restarted node re-applies its log from there. */
  readonly applied: number;
  readonly lastIndex: number;
  /** The newest START_LOG_TAIL_ENTRIES entries of the recovered log, oldest first. */
  readonly logTail: readonly TraceEntry[];
}

export interface CrashRecord extends RecordBase {
  readonly kind: 'crash';
  readonly node: string;
  /** Log, vote and snapshot records written but not yet fsynced, lost with the process. */
  readonly lostRecords: number;
  readonly tornTail: boolean;
}

/**
 * A message handed to the network. `index` is the log position it is about: prevLogIndex for
 * `append`, lastLogIndex for votes, the matched or rejected index for `appendResponse`, the
 * snapshot index for snapshots, the read index for `readIndexResponse`.
 */
export interface SendRecord extends RecordBase {
  readonly kind: 'send';
  /** Pairs this send with its `deliver` or `drop`. */
  readonly id: number;
  readonly from: string;
  readonly to: string;
  readonly type: string;
  readonly term: number;
  readonly index?: number;
  /** The term of the entry at `index` (prevLogTerm, lastLogTerm). */
  readonly logTerm?: number;
  /** Entries carried (`append`, `propose`). */
  readonly entries?: number;
  readonly commit?: number;
  /** Present (true) only on a refusal: a rejected append, a denied vote, a refused snapshot. */
  readonly reject?: true;
}

export interface DeliverRecord extends RecordBase {
  readonly kind: 'deliver';
  readonly id: number;
}

export interface DropRecord extends RecordBase {
  readonly kind: 'drop';
  readonly id: number;
  readonly reason: DropReason;
}

/** The network will deliver a second copy of message `of`; the copy travels as message `id`. */
export interface DuplicateRecord extends RecordBase {
  readonly kind: 'duplicate';
  readonly id: number;
  readonly of: number;
}

export interface PartitionRecord extends RecordBase {
  readonly kind: 'partition';
  readonly shape: PartitionShape;
  /** e.g. `n1,n4 | n2,n3,n5` or `n3 isolated`. */
  readonly description: string;
  /** Nodes that see the network alike (the same blocked links out and in); a shading for the view. */
  readonly groups: readonly (readonly string[])[];
  /** Directed links that drop every message. */
  readonly blocked: readonly { readonly from: string; readonly to: string }[];
}

export interface HealRecord extends RecordBase {
  readonly kind: 'heal';
}

export interface ClockRecord extends RecordBase {
  readonly kind: 'clock';
  readonly node: string;
  readonly offsetMs: number;
  readonly driftPpm: number;
}

/** The network's weather from now on (loss, duplication, reordering). */
export interface NetworkRecord extends RecordBase {
  readonly kind: 'network';
  readonly loss: number;
  readonly duplication: number;
  readonly reorder: number;
  readonly latencyMeanMs: number;
}

/** A safety invariant broke (Raft's Figure 3 properties, a core assertion) at `atMs`. */
export interface ViolationRecord extends RecordBase {
  readonly kind: 'violation';
  readonly violation: ViolationKind;
  readonly node?: string;
  readonly message: string;
}

/**
 * A client operation, recorded at its invocation and carrying its completion. `outcome` uses
 * Jepsen's words: `ok` took effect, `fail` did not, `info` is unknown (the client gave up).
 */
export interface OperationRecord extends RecordBase {
  readonly kind: 'op';
  /** The history's operation id, which the verdict's counterexample refers to. */
  readonly op: number;
  readonly process: number;
  readonly call: 'put' | 'get' | 'cas';
  readonly key: string;
  /** Written by `put` and `cas`. */
  readonly value?: string;
  /** `cas` only: the value compared against (null: the key must be absent). */
  readonly expected?: string | null;
  readonly outcome: TraceOutcome;
  /** When the client learnt the outcome; null if it never did. */
  readonly endMs: number | null;
  /** `get` that succeeded: the value read (null: absent). */
  readonly read?: string | null;
  /** `cas` that succeeded: whether the comparison held. */
  readonly succeeded?: boolean;
}

export type TraceOutcome = 'ok' | 'fail' | 'info';

export type TraceRecord =
  | NodeStateRecord
  | AppendRecord
  | SnapshotRecord
  | StartRecord
  | CrashRecord
  | SendRecord
  | DeliverRecord
  | DropRecord
  | DuplicateRecord
  | PartitionRecord
  | HealRecord
  | ClockRecord
  | NetworkRecord
  | ViolationRecord
  | OperationRecord;

export type TraceRecordKind = TraceRecord['kind'];

/** The checker's counterexample, by operation id. */
export interface TraceCounterexample {
  readonly key: string;
  /** The operation the checker could not place. */
  readonly blockedOp: number;
  /** The last write it would have had to follow, if any. */
  readonly lastWriteOp?: number;
  /** Other operations that could have come next and did not fit either. */
  readonly alsoUnplaceableOps: readonly number[];
  /** Operations running at the same time as the blocked one. */
  readonly concurrentOps: readonly number[];
  /** Every operation above, ordered by invocation time: the ones to highlight. */
  readonly opIds: readonly number[];
  readonly reason: string;
  readonly stateAfterPrefix: string;
  /** The checker's own explanation, as printed by the CLI. */
  readonly lines: readonly string[];
}

export interface TraceVerdict {
  /** The linearizability checker's answer on the client history. */
  readonly linearizability: 'linearizable' | 'not-linearizable' | 'unknown';
  /** No violation of any kind: invariants, linearizability, liveness. */
  readonly passed: boolean;
  readonly violations: readonly {
    readonly kind: ViolationKind;
    readonly atMs: number;
    readonly node?: string;
    readonly message: string;
  }[];
  readonly counterexample?: TraceCounterexample;
}

export interface TraceSummary {
  readonly operations: number;
  readonly okOperations: number;
  readonly failedOperations: number;
  readonly indeterminateOperations: number;
  readonly leaderElections: number;
  readonly committedEntries: number;
  readonly messagesSent: number;
  readonly eventsExecuted: number;
  /** Where the run ended (earlier than `durationMs` if a core assertion stopped it). */
  readonly virtualMs: number;
}

/** Present when records were left out because a limit was reached. */
export interface TraceTruncation {
  /** Time of the first record left out. */
  readonly atMs: number;
  /** Chatty records left out after TRACE_DETAIL_RECORDS_MAX. */
  readonly detailRecordsDropped: number;
  /** Other records left out after TRACE_RECORDS_MAX. */
  readonly recordsDropped: number;
}

/** One simulator run: parameters, time-ordered records, and the checkers' verdict. */
export interface SimTrace {
  readonly format: typeof SIM_TRACE_FORMAT;
  readonly version: typeof SIM_TRACE_VERSION;
  readonly params: TraceParams;
  readonly limits: { readonly recordsMax: number; readonly detailRecordsMax: number };
  /** Sorted by `atMs`; records at the same time are in the order they happened. */
  readonly records: readonly TraceRecord[];
  readonly truncated: TraceTruncation | null;
  readonly verdict: TraceVerdict;
  readonly summary: TraceSummary;
}

/** Maps the history's outcome words to the trace's. */
export function traceOutcome(outcome: OperationOutcome): TraceOutcome {
  return outcome === 'indeterminate' ? 'info' : outcome;
}
