// The lock scenario's checks on a finished run (check 3's safety half runs during the run, see
// lease-audit.ts): fencing at the resource, mutual exclusion of the recipe's grants in revision
// order, revocation of abandoned leases, and progress once the faults stopped.
import type { Entry } from '@synod/raft';
import { ClusterState } from '@synod/state';
import { EXPIRY_REQUEST_PREFIX, type ProposedCommand } from './command-codec.js';
import type { AcceptedWrite } from './fenced-resource.js';
import { hex } from './lease-audit.js';
import { oldestContender } from './lock-recipe.js';
import type { LockViolation } from './lock-violation.js';

/** A client was told it holds a lock: its key was the oldest under the lock as of `readRevision`. */
export interface LockGrant {
  readonly atMs: number;
  readonly holder: string;
  readonly lock: string;
  readonly key: string;
  /** The key's create revision: the fencing token. */
  readonly token: number;
  /** The revision of the answer that told the client it holds the lock. */
  readonly readRevision: number;
}

const decoder = new TextDecoder();

/**
 * The applied log as one replica: each index applied once, in order, the first time any member
 * applies it (Raft's state machine safety makes every member's entry at an index the same).
 * It keeps the whole MVCC history, so a grant can be checked at its revision.
 */
export class ReferenceReplica {
  readonly state = new ClusterState();
  appliedIndex = 0;
  expiryRevokes = 0;
  keysDeletedByExpiry = 0;
  /** Virtual time of each lease's grant or latest renewal (any member). */
  readonly lastRenewedAtMs = new Map<bigint, number>();

  /** Returns an error text when an index was skipped (a driver bug: it would blind the checks). */
  apply(entry: Entry, proposed: ProposedCommand | undefined, atMs: number): string | undefined {
    if (entry.index <= this.appliedIndex) return undefined;
    if (entry.index !== this.appliedIndex + 1)
      return `reference replica: entry ${entry.index} applied first while ${this.appliedIndex} is the last seen`;
    this.appliedIndex = entry.index;
    if (proposed === undefined) return undefined;
    const { command } = proposed;
    const result = this.state.apply(command, entry.index);
    if ('error' in result) return undefined;
    if (command.kind === 'leaseGrant') this.lastRenewedAtMs.set(command.id, atMs);
    if (command.kind === 'leaseRevoke' && proposed.requestId.startsWith(EXPIRY_REQUEST_PREFIX)) {
      this.expiryRevokes++;
      this.keysDeletedByExpiry += result.events.length;
    }
    return undefined;
  }

  renewed(lease: bigint, atMs: number): void {
    if (this.state.leases.has(lease)) this.lastRenewedAtMs.set(lease, atMs);
  }
}

/**
 * Check 1: per resource, accepted tokens never go down (a lower token after a higher one means two
 * holders' writes interleave), and every accepted token was granted to the writer.
 */
export function checkFencing(
  accepted: readonly AcceptedWrite[],
  grants: readonly LockGrant[],
): LockViolation[] {
  const violations: LockViolation[] = [];
  const tokenOf = new Map(grants.map((grant) => [grant.holder, grant.token]));
  const highest = new Map<string, AcceptedWrite>();
  for (const write of accepted) {
    if (tokenOf.get(write.holder) !== write.token) {
      violations.push({
        kind: 'fencing',
        atMs: write.atMs,
        message: `${write.holder} wrote ${write.resource} with token ${write.token}, which it was never granted`,
      });
    }
    const previous = highest.get(write.resource);
    if (previous !== undefined && write.token < previous.token) {
      violations.push({
        kind: 'fencing',
        atMs: write.atMs,
        message:
          `holders overlap on ${write.resource}: ${write.holder} (token ${write.token}) wrote at ` +
          `t=${write.atMs.toFixed(1)}ms after ${previous.holder} (token ${previous.token}) wrote at ` +
          `t=${previous.atMs.toFixed(1)}ms`,
      });
    }
    if (previous === undefined || write.token >= previous.token) highest.set(write.resource, write);
  }
  return violations;
}

/**
 * Check 2: for each grant, the granted key was the oldest live key under the lock at the grant's
 * read revision, in the applied history. Two grants can then never overlap in revision order.
 */
export function checkLockExclusion(grants: readonly LockGrant[], replica: ReferenceReplica): LockViolation[] {
  const violations: LockViolation[] = [];
  for (const grant of grants) {
    const answer = replica.state.kv.range(oldestContender(grant.lock, grant.readRevision));
    const violation = (why: string): LockViolation => ({
      kind: 'lock-exclusion',
      atMs: grant.atMs,
      message: `${grant.holder} was told it holds ${grant.lock} (key ${grant.key}, token ${grant.token}) at revision ${grant.readRevision}, but ${why}`,
    });
    if ('error' in answer) {
      violations.push(violation(`that revision cannot be read: ${answer.error.message}`));
      continue;
    }
    const oldest = answer.kvs[0];
    if (oldest === undefined) violations.push(violation('no key existed under the lock then'));
    else if (decoder.decode(oldest.key) !== grant.key || oldest.createRevision !== grant.token)
      violations.push(
        violation(
          `the oldest key then was ${decoder.decode(oldest.key)} (created at ${oldest.createRevision})`,
        ),
      );
  }
  return violations;
}

export interface LivenessWindow {
  /** From here on the cluster is healed and has had time to recover. */
  readonly fromMs: number;
  readonly endMs: number;
  /** Time a lease may outlive its TTL: promote extension, expiry check interval and commit. */
  readonly leaseSlackMs: number;
}

/** Check 3, liveness: a lease nobody renewed is revoked within its TTL (plus slack) once calm. */
export function checkLeaseLiveness(replica: ReferenceReplica, window: LivenessWindow): LockViolation[] {
  const violations: LockViolation[] = [];
  for (const lease of replica.state.leases.list()) {
    const renewedAtMs = replica.lastRenewedAtMs.get(lease.id) ?? 0;
    const deadlineMs = Math.max(renewedAtMs, window.fromMs) + lease.grantedTtl * 1_000 + window.leaseSlackMs;
    if (window.endMs < deadlineMs) continue;
    violations.push({
      kind: 'lease-liveness',
      atMs: window.endMs,
      message: `lease ${hex(lease.id)} (TTL ${lease.grantedTtl} s, last renewed at t=${renewedAtMs.toFixed(1)}ms) was not revoked by t=${deadlineMs.toFixed(1)}ms`,
    });
  }
  return violations;
}

export function checkLockLiveness(grants: readonly LockGrant[], window: LivenessWindow): LockViolation[] {
  if (grants.some((grant) => grant.atMs >= window.fromMs)) return [];
  return [
    {
      kind: 'lock-liveness',
      atMs: window.endMs,
      message: `no client acquired a lock after the faults stopped (from t=${window.fromMs}ms)`,
    },
  ];
}
