// What the admin HTTP server shows and controls, as an interface: the server only speaks HTTP;
// a backend (synod-admin-backend.ts for a real member, a fake in tests) knows the member.
// NodeView is the JSON the dashboard reads (see the admin contract in the README).
import type { KeyValue } from '@synod/state';
import type { RaftRoleName } from '../observability/metrics.js';

/** Another member, as this member knows it. */
export interface MemberView {
  readonly name: string;
  readonly raftId: string;
  readonly memberId: string;
  readonly clientUrl: string;
  readonly adminUrl: string;
  readonly isLearner: boolean;
  /** The leader's matchIndex for this member; null unless this member is the leader. */
  readonly matchIndex: number | null;
  /** This member's connection to it is up. */
  readonly connected: boolean;
}

export interface MessageRate {
  /** Raft id of the receiving member. */
  readonly to: string;
  readonly perSecond: number;
  readonly queueDepth: number;
}

export interface ElectionView {
  readonly term: number;
  readonly leader: string;
  readonly atMs: number;
}

/** One member's state, as `GET /api/node` and the `node` events of `/api/node/stream` carry it. */
export interface NodeView {
  readonly name: string;
  readonly memberId: string;
  readonly raftId: string;
  readonly clusterId: string;
  readonly clientUrl: string;
  readonly adminUrl: string;
  readonly role: RaftRoleName;
  readonly term: number;
  /** The leader's raft id, '' when none is known. */
  readonly leader: string;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
  readonly revision: number;
  readonly keys: number;
  /** The other members (not this one), by name. */
  readonly members: readonly MemberView[];
  readonly messageRates: readonly MessageRate[];
  /** The last elections this member saw, oldest first. */
  readonly elections: readonly ElectionView[];
  /** Started by `synod dev`: the dev fault controls are on. */
  readonly dev: boolean;
  readonly uptimeMs: number;
}

/** A page of `/api/keys`. */
export interface KeysPage {
  readonly revision: number;
  readonly kvs: readonly KeyValue[];
  readonly more: boolean;
}

/** A failure a route reports with an HTTP status (bad input, not available here). */
export interface RouteFailure {
  readonly ok: false;
  readonly status: number;
  readonly message: string;
}

export type KeysResult = { readonly ok: true; readonly page: KeysPage } | RouteFailure;

/** A change under a watched prefix (`/api/watch`). */
export interface WatchTailEvent {
  readonly type: 'PUT' | 'DELETE';
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly modRevision: number;
}

/** Subscribes to changes under `prefix`; returns the unsubscribe function. */
export type WatchTail = (prefix: Uint8Array, onEvent: (event: WatchTailEvent) => void) => () => void;

/** A simulator trace as JSON text (sent as is), or why there is none. */
export type SimTraceResult = { readonly ok: true; readonly json: string } | RouteFailure;

export type FaultsResult = { readonly ok: true; readonly blockedPeers: readonly string[] } | RouteFailure;

/**
 * The member behind an admin server.
 *
 * @example
 * const admin = new AdminServer({ backend: new SynodAdminBackend({ server, … }), metrics, logger });
 */
export interface AdminBackend {
  nodeView(): NodeView;
  /** Calls `onChange` when the member's state may have changed (often; the server coalesces). */
  subscribe(onChange: () => void): () => void;
  /** A serializable (local) range of keys starting with `prefix`, at most `limit`. */
  keys(prefix: Uint8Array, limit: number): Promise<KeysResult>;
  /** Changes under `prefix` from now on; undefined when this member cannot tail changes (501). */
  readonly watchTail: WatchTail | undefined;
  /**
   * One simulator run's trace (the replay view), for the query of `/api/sim/trace` (`seed`,
   * `nodes`, `mutant`, … as the simulator validates them); 501 when the simulator is not there.
   */
  simTrace(query: URLSearchParams): Promise<SimTraceResult>;
  /** Drops all traffic to and from these peers (raft ids); `[]` heals. */
  applyFaults(blockedPeers: readonly string[]): FaultsResult;
}

/** How far applied may trail commit on a ready member: a few Ready batches under load. */
export const READY_APPLY_LAG_ENTRIES_MAX = 1_000;

export type Readiness = { readonly ready: true } | { readonly ready: false; readonly reason: string };

/** `/health/ready`: the member knows a leader and has applied (nearly) all it knows is committed. */
export function readinessOf(view: NodeView): Readiness {
  if (view.leader === '') {
    return { ready: false, reason: 'no leader known: an election is under way or this member is cut off' };
  }
  const lag = view.commitIndex - view.appliedIndex;
  if (lag > READY_APPLY_LAG_ENTRIES_MAX) {
    return {
      ready: false,
      reason: `applied index ${view.appliedIndex} trails commit index ${view.commitIndex} by ${lag} entries (more than ${READY_APPLY_LAG_ENTRIES_MAX})`,
    };
  }
  return { ready: true };
}
