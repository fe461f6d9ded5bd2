// A follower told that its connection to the leader closed campaigns within a tick or two
// instead of a whole election timeout; the remaining voters go in id order, so they do not split.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InMemoryCluster } from './in-memory-cluster.js';

const ELECTION_TICKS = 10;

function ticksToNewLeader(cluster: InMemoryCluster, oldLeader: string, maxTicks: number): number {
  for (let tick = 1; tick <= maxTicks; tick++) {
    cluster.tick();
    const leader = cluster.leader();
    if (leader !== undefined && leader !== oldLeader) return tick;
  }
  return Number.POSITIVE_INFINITY;
}

describe('leaderUnreachable', () => {
  test('a dead leader is replaced within 3 ticks when both followers are told, for many seeds', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const cluster = new InMemoryCluster(['a', 'b', 'c'], { electionTicks: ELECTION_TICKS }, seed);
      const leader = cluster.electLeader();
      cluster.tick(3);
      cluster.isolate(leader);
      cluster.members.delete(leader); // killed: it neither ticks nor answers
      for (const { node } of cluster.members.values()) node.raft.leaderUnreachable(leader);
      const ticks = ticksToNewLeader(cluster, leader, 4 * ELECTION_TICKS);
      assert.ok(ticks <= 3, `seed ${seed}: a new leader after ${ticks} ticks`);
    }
  });

  test('without the hint a follower waits at least an election timeout', () => {
    const cluster = new InMemoryCluster(['a', 'b', 'c'], { electionTicks: ELECTION_TICKS }, 3);
    const leader = cluster.electLeader();
    cluster.tick(3);
    cluster.isolate(leader);
    cluster.members.delete(leader);
    assert.ok(ticksToNewLeader(cluster, leader, 4 * ELECTION_TICKS) >= ELECTION_TICKS);
  });

  test('a hint about a peer that is not the leader, or to the leader itself, changes nothing', () => {
    const cluster = new InMemoryCluster(['a', 'b', 'c'], { electionTicks: ELECTION_TICKS }, 5);
    const leader = cluster.electLeader();
    const follower = [...cluster.members.keys()].find((id) => id !== leader)!;
    const other = [...cluster.members.keys()].find((id) => id !== leader && id !== follower)!;
    const raft = cluster.member(follower).node.raft;
    const before = raft.electionElapsed;
    raft.leaderUnreachable(other);
    assert.equal(raft.lead, leader);
    assert.equal(raft.electionElapsed, before);
    cluster.member(leader).node.raft.leaderUnreachable(follower);
    assert.equal(cluster.leader(), leader);
  });

  test('if the leader is in fact alive, its next heartbeat makes it the leader again, term unchanged', () => {
    const cluster = new InMemoryCluster(['a', 'b', 'c'], { electionTicks: ELECTION_TICKS }, 7);
    const leader = cluster.electLeader();
    const term = cluster.member(leader).node.raft.term;
    const follower = [...cluster.members.keys()].find((id) => id !== leader)!;
    cluster.member(follower).node.raft.leaderUnreachable(leader);
    cluster.tick(1);
    assert.equal(cluster.leader(), leader);
    assert.equal(cluster.member(follower).node.raft.lead, leader);
    // A lone follower's pre-vote is refused by the other follower, which still hears the leader.
    assert.equal(cluster.member(leader).node.raft.term, term);
  });
});
