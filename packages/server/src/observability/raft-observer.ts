// Watches one Raft group's state after every Ready the driver handles and turns changes into
// events: a new leader (counted, and kept in a short history for the dashboard) and a new
// snapshot (saved or received). Reading state after each Ready sees every leader change, since a
// change of leader or term always produces a Ready (messages or a hard state to persist).

/** Elections kept per member: NodeView shows the last 20. */
export const ELECTIONS_KEPT_MAX = 20;

export interface ObservedElection {
  readonly term: number;
  /** Raft id of the leader elected. */
  readonly leader: string;
  /** When this member first saw it (ms since epoch). */
  readonly atMs: number;
}

export interface ObservedRaftState {
  readonly term: number;
  /** '' when no leader is known. */
  readonly leader: string;
  /** Index of the latest snapshot in storage (0 before any). */
  readonly snapshotIndex: number;
}

export interface RaftObserverOptions {
  readonly onLeaderChange?: () => void;
  readonly onSnapshot?: () => void;
  /** Milliseconds since epoch (default Date.now). */
  readonly now?: () => number;
}

/**
 * @example
 * const observer = new RaftObserver({ onLeaderChange: () => metrics.raft.onLeaderChange() });
 * driver.onApplied(() => observer.observe({ term: raft.term, leader: raft.lead, snapshotIndex }));
 * observer.elections(); // [{ term: 2, leader: 'a1…', atMs: … }]
 */
export class RaftObserver {
  private readonly options: RaftObserverOptions;
  private readonly history: ObservedElection[] = [];
  private lastLeader = '';
  private lastLeaderTerm = -1;
  private lastSnapshotIndex: number | undefined;

  constructor(options: RaftObserverOptions = {}) {
    this.options = options;
  }

  observe(state: ObservedRaftState): void {
    if (state.leader !== '' && (state.leader !== this.lastLeader || state.term !== this.lastLeaderTerm)) {
      this.lastLeader = state.leader;
      this.lastLeaderTerm = state.term;
      this.history.push({ term: state.term, leader: state.leader, atMs: (this.options.now ?? Date.now)() });
      if (this.history.length > ELECTIONS_KEPT_MAX) this.history.shift();
      this.options.onLeaderChange?.();
    }
    // The first observation is the snapshot the member started from, not a new one.
    if (this.lastSnapshotIndex !== undefined && state.snapshotIndex > this.lastSnapshotIndex) {
      this.options.onSnapshot?.();
    }
    this.lastSnapshotIndex = Math.max(this.lastSnapshotIndex ?? 0, state.snapshotIndex);
  }

  /** The last {@link ELECTIONS_KEPT_MAX} leaders seen, oldest first. */
  elections(): readonly ObservedElection[] {
    return this.history;
  }
}
