// How the server drives the lease pieces, run end to end without Raft: a log of commands that
// every member applies in order (LeaseStore + MvccStore), and a leader-only LeaseExpiryTracker
// that turns time into proposed commands. README.md in this folder walks through the same flow.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KvWriteRequest } from '../mvcc/etcd-types.js';
import { rangeRequest, text, write } from '../mvcc/mvcc.fixture.js';
import { MvccStore } from '../mvcc/store.js';
import { type LeaseCheckpoint, LeaseExpiryTracker } from './expiry-tracker.js';
import { LeaseStore } from './lease-store.js';
import { LEASE_CHECKPOINT_BATCH_MAX, LEASE_ERRORS, LEASE_REVOKE_BATCH_MAX } from './lease-types.js';
import { leaseRevokeWrite } from './revoke-write.js';

/** The replicated commands leases add to the log (the lead's command envelope carries these). */
type Command =
  | { readonly kind: 'leaseGrant'; readonly id: bigint; readonly ttl: number }
  | { readonly kind: 'leaseRevoke'; readonly id: bigint }
  | { readonly kind: 'leaseCheckpoint'; readonly checkpoints: readonly LeaseCheckpoint[] }
  | { readonly kind: 'kv'; readonly write: KvWriteRequest };

const ELECTION_TIMEOUT_MS = 1_000;

/** One member: the replicated state, and the tracker that only matters while it leads. */
class Member {
  readonly mvcc = new MvccStore();
  readonly leases = new LeaseStore({ minTtlSeconds: 2 });
  readonly tracker = new LeaseExpiryTracker({ checkpointIntervalMs: 60_000 });

  /** Applies one committed command; `nowMs` is this member's monotonic clock at apply time. */
  apply(command: Command, nowMs: number): string | undefined {
    switch (command.kind) {
      case 'leaseGrant': {
        const granted = this.leases.grant(command.id, command.ttl);
        if ('error' in granted) return granted.error.message;
        this.tracker.onGrant(command.id, granted.lease.grantedTtl, nowMs);
        return undefined;
      }
      case 'leaseRevoke': {
        const revoked = this.leases.revoke(command.id);
        if ('error' in revoked) return revoked.error.message;
        this.tracker.onRevoke(command.id);
        const deletion = leaseRevokeWrite(revoked.keys);
        if (deletion !== undefined) this.applyKv(deletion);
        return undefined;
      }
      case 'leaseCheckpoint':
        for (const { id, remainingTtlSeconds } of command.checkpoints)
          this.leases.checkpoint(id, remainingTtlSeconds);
        return undefined;
      case 'kv': {
        // etcd refuses a put naming a missing lease at apply time (the lease may have been revoked
        // since the proposal). Txn puts need the same check on the branch the compares select.
        const request = command.write;
        if (
          request.kind === 'put' &&
          request.request.lease !== 0n &&
          !this.leases.has(request.request.lease)
        ) {
          return LEASE_ERRORS.leaseNotFound.message;
        }
        return this.applyKv(request);
      }
    }
  }

  private applyKv(request: KvWriteRequest): string | undefined {
    const applied = this.mvcc.apply(request);
    if ('error' in applied) return applied.error.message;
    assert.equal(this.leases.observe(applied.events), 0);
    return undefined;
  }
}

/** A log every member applies in order: what Raft guarantees, minus Raft. */
class Cluster {
  readonly members = [new Member(), new Member()];
  readonly log: Command[] = [];

  commit(command: Command, nowMs: number): (string | undefined)[] {
    this.log.push(command);
    return this.members.map((member) => member.apply(command, nowMs));
  }

  /** The leader's periodic work: revoke what expired, checkpoint what is due. */
  leaderTick(leader: Member, nowMs: number): void {
    for (const id of leader.tracker.expired(nowMs, LEASE_REVOKE_BATCH_MAX))
      this.commit({ kind: 'leaseRevoke', id }, nowMs);
    const checkpoints = leader.tracker.checkpointsDue(nowMs, LEASE_CHECKPOINT_BATCH_MAX);
    if (checkpoints.length > 0) this.commit({ kind: 'leaseCheckpoint', checkpoints }, nowMs);
  }
}

const keys = (member: Member): string[] => {
  const all = member.mvcc.range(rangeRequest('\0', '\0'));
  assert.ok(!('error' in all));
  return all.kvs.map((kv) => text(kv.key));
};

describe('lease apply flow', () => {
  test('grant, attach, expire on the leader, revoke through the log: every member deletes the keys at one revision', () => {
    const cluster = new Cluster();
    const [leader, follower] = cluster.members as [Member, Member];
    leader.tracker.promote(0, leader.leases.list(), ELECTION_TIMEOUT_MS);

    cluster.commit({ kind: 'leaseGrant', id: 7n, ttl: 5 }, 0);
    cluster.commit({ kind: 'kv', write: write.put('svc/a', 'x', { lease: 7n }) }, 10);
    cluster.commit({ kind: 'kv', write: write.put('svc/b', 'y', { lease: 7n }) }, 20);
    cluster.commit({ kind: 'kv', write: write.put('plain', 'z') }, 30);
    assert.deepEqual(cluster.commit({ kind: 'kv', write: write.put('bad', 'v', { lease: 99n }) }, 40), [
      LEASE_ERRORS.leaseNotFound.message,
      LEASE_ERRORS.leaseNotFound.message,
    ]);

    // The follower tracks nothing; the leader renews on KeepAlive.
    assert.deepEqual(follower.tracker.renew(7n, 1_000), { ok: false, reason: 'notLeader' });
    assert.ok(leader.tracker.renew(7n, 1_000).ok);
    cluster.leaderTick(leader, 5_999);
    assert.ok(leader.leases.has(7n));
    const revisionBefore = leader.mvcc.currentRevision;
    cluster.leaderTick(leader, 6_000);
    for (const member of cluster.members) {
      assert.equal(member.leases.has(7n), false);
      assert.deepEqual(keys(member), ['plain']);
      assert.equal(member.mvcc.currentRevision, revisionBefore + 1);
    }
    assert.deepEqual(leader.leases.snapshot(), follower.leases.snapshot());
  });

  test('a new leader starts leases from the checkpointed remaining TTL plus an election timeout', () => {
    const cluster = new Cluster();
    const [oldLeader, newLeader] = cluster.members as [Member, Member];
    oldLeader.tracker.promote(0, oldLeader.leases.list(), ELECTION_TIMEOUT_MS);
    cluster.commit({ kind: 'leaseGrant', id: 1n, ttl: 600 }, 0);
    cluster.commit({ kind: 'kv', write: write.put('held', 'v', { lease: 1n }) }, 0);
    cluster.leaderTick(oldLeader, 60_000); // one checkpoint interval: 540 s left is replicated
    assert.equal(newLeader.leases.get(1n)?.remainingTtl, 540);

    // Leadership moves at 100 s; the new leader's clock is its own (here it reads 5,000 ms).
    oldLeader.tracker.demote();
    newLeader.tracker.promote(5_000, newLeader.leases.list(), ELECTION_TIMEOUT_MS);
    assert.deepEqual(newLeader.tracker.remainingTtlSeconds(1n, 5_000), { ok: true, ttlSeconds: 541 });
    assert.deepEqual(newLeader.tracker.expired(5_000 + 541_000 - 1, LEASE_REVOKE_BATCH_MAX), []);
    cluster.leaderTick(newLeader, 5_000 + 541_000);
    for (const member of cluster.members) assert.deepEqual(keys(member), []);
  });
});
