// Raft's safety properties (Raft paper Figure 3), checked after every step of every node:
// election safety, log matching, leader completeness, state machine safety, and a commit index
// that never goes back within a node's life.
import type { Entry, RawNode } from '@synod/raft';

export type ViolationKind =
  | 'election-safety'
  | 'log-matching'
  | 'leader-completeness'
  | 'state-machine-safety'
  | 'commit-regressed'
  | 'linearizability'
  | 'liveness'
  | 'crash';

export interface Violation {
  readonly kind: ViolationKind;
  readonly atMs: number;
  readonly node?: string;
  readonly message: string;
}

/** Bound on recorded violations per run: the first ones explain the failure. */
const MAX_VIOLATIONS = 20;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class SafetyObserver {
  readonly violations: Violation[] = [];
  private readonly leaderOfTerm = new Map<number, string>();
  /** index → the committed entry (first seen applied anywhere). */
  private readonly committed = new Map<number, Entry>();
  /** `${index}/${term}` → data of the first entry persisted with that index and term. */
  private readonly entryByIndexTerm = new Map<string, Uint8Array>();
  private readonly lastSeen = new Map<string, { role: string; term: number; commit: number }>();
  private readonly now: () => number;
  private readonly onViolation: (violation: Violation) => void;

  private readonly onRoleChange: (node: string, text: string) => void;

  constructor(
    now: () => number,
    onViolation: (violation: Violation) => void = () => {},
    onRoleChange: (node: string, text: string) => void = () => {},
  ) {
    this.now = now;
    this.onViolation = onViolation;
    this.onRoleChange = onRoleChange;
  }

  report(kind: ViolationKind, message: string, node?: string): void {
    const violation: Violation =
      node === undefined ? { kind, atMs: this.now(), message } : { kind, atMs: this.now(), node, message };
    // The end-of-run verdicts are always kept, even after many step-level violations.
    const verdict = kind === 'linearizability' || kind === 'liveness';
    if (this.violations.length < MAX_VIOLATIONS || verdict) this.violations.push(violation);
    this.onViolation(violation);
  }

  nodeStarted(id: string, node: RawNode): void {
    this.lastSeen.set(id, { role: node.raft.role, term: node.raft.term, commit: node.raft.log.committed });
  }

  /** Called after every step, tick and Ready of a node. */
  observe(id: string, node: RawNode): void {
    const raft = node.raft;
    const previous = this.lastSeen.get(id);
    if (previous && raft.log.committed < previous.commit) {
      this.report(
        'commit-regressed',
        `commit index went back from ${previous.commit} to ${raft.log.committed}`,
        id,
      );
    }
    if (previous && (previous.role !== raft.role || previous.term !== raft.term)) {
      this.onRoleChange(
        id,
        `${raft.role} in term ${raft.term}${raft.lead && raft.role === 'follower' ? ` (leader ${raft.lead})` : ''}`,
      );
    }
    if (raft.role === 'leader' && (previous?.role !== 'leader' || previous.term !== raft.term)) {
      this.leaderElected(id, node);
    }
    this.lastSeen.set(id, { role: raft.role, term: raft.term, commit: raft.log.committed });
  }

  private leaderElected(id: string, node: RawNode): void {
    const term = node.raft.term;
    const existing = this.leaderOfTerm.get(term);
    if (existing !== undefined && existing !== id) {
      this.report('election-safety', `two leaders in term ${term}: ${existing} and ${id}`, id);
    }
    this.leaderOfTerm.set(term, id);
    // Leader completeness: every entry committed so far must be in the new leader's log.
    const log = node.raft.log;
    const snapshotIndex = log.firstIndex() - 1;
    for (const [index, entry] of this.committed) {
      if (index <= snapshotIndex) continue;
      const term = log.term(index);
      if (term !== entry.term) {
        this.report(
          'leader-completeness',
          `leader of term ${node.raft.term} lacks committed entry ${index} (term ${entry.term}); its log has ${term === undefined ? 'nothing' : `term ${term}`} there`,
          id,
        );
        return;
      }
    }
  }

  /** Entries a node wrote to its log. */
  persisted(id: string, entries: readonly Entry[]): void {
    for (const entry of entries) {
      const key = `${entry.index}/${entry.term}`;
      const known = this.entryByIndexTerm.get(key);
      if (known === undefined) this.entryByIndexTerm.set(key, entry.data);
      else if (!sameBytes(known, entry.data)) {
        this.report(
          'log-matching',
          `two different entries at index ${entry.index} in term ${entry.term}`,
          id,
        );
      }
    }
  }

  /** An entry a node applied to its state machine. */
  applied(id: string, entry: Entry): void {
    const known = this.committed.get(entry.index);
    if (known === undefined) {
      this.committed.set(entry.index, entry);
      return;
    }
    if (known.term !== entry.term || !sameBytes(known.data, entry.data)) {
      this.report(
        'state-machine-safety',
        `applied a different entry at index ${entry.index} (term ${entry.term}) than another node (term ${known.term})`,
        id,
      );
    }
  }

  leaderElections(): number {
    return this.leaderOfTerm.size;
  }

  maxCommittedIndex(): number {
    let max = 0;
    for (const index of this.committed.keys()) if (index > max) max = index;
    return max;
  }
}
