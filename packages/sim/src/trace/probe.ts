// What the simulated cluster reports to a structured trace while it runs. The cluster calls these
// only when a probe is set, so an untraced run pays one `undefined` check per hook and nothing else.
// A probe only observes: it must not draw randomness, schedule events or change any node.
import type { Entry, Message, RawNode, SnapshotMetadata } from '@synod/raft';
import type { Violation } from '../cluster/invariants.js';
import type { NemesisAction } from '../engine/nemesis.js';
import type { NetworkTraceEvent } from '../engine/network.js';

/** A node process came up (at boot or after a crash) with what it recovered from its disk. */
export interface NodeStart {
  readonly incarnation: number;
  readonly raft: RawNode;
  /** The recovered log, oldest first (entries after the snapshot). */
  readonly entries: readonly Entry[];
}

/** A node process died; what its disk lost. */
export interface NodeCrash {
  readonly lostRecords: number;
  readonly tornTail: boolean;
}

/** Hooks a simulation run calls at each observable change; `atMs` is the virtual time. */
export interface SimProbe {
  /** After every step, tick and Ready of a running node (a probe keeps only changes). */
  nodeStepped(atMs: number, node: string, raft: RawNode): void;
  nodeStarted(atMs: number, node: string, start: NodeStart): void;
  nodeCrashed(atMs: number, node: string, crash: NodeCrash): void;
  /** Entries written to a node's log; an entry at an existing index replaces it and all after it. */
  entriesAppended(atMs: number, node: string, entries: readonly Entry[]): void;
  snapshotInstalled(atMs: number, node: string, metadata: SnapshotMetadata): void;
  /** Every send, delivery, duplicate and drop of the simulated network, in order. */
  message(event: NetworkTraceEvent<Message>): void;
  /** A fault or recovery as applied (a partition after it was aimed at the leader). */
  nemesisApplied(atMs: number, action: NemesisAction): void;
  violation(violation: Violation): void;
}
