// One simulated member of the lock scenario: the real Raft core replicating the real ClusterState
// (MVCC KV + leases), persisted through a simulated disk, ticking by its own drifting clock, and
// on the leader a LeaseExpiryTracker fed by that clock. Clients reach it over the client network.
// The Raft driving follows cluster/sim-node.ts (persist, fsync, then send, apply, advance).
import type { ConfState, Entry, Message, RaftConfig, Ready } from '@synod/raft';
import { type MemoryStorage, RawNode } from '@synod/raft';
import { type ClusterApplied, ClusterState, type EtcdError } from '@synod/state';
import type { SafetyObserver } from '../cluster/invariants.js';
import {
  type DiskRecord,
  persistReady,
  recoverRaftStorage,
  snapshotAndCompact,
} from '../cluster/raft-disk.js';
import type { SimClock } from '../engine/clock.js';
import type { SimDisk } from '../engine/disk.js';
import type { EventLoop } from '../engine/event-loop.js';
import type { SimNetwork } from '../engine/network.js';
import type { Prng } from '../engine/prng.js';
import {
  decodeProposedCommand,
  EXPIRY_REQUEST_PREFIX,
  encodeProposedCommand,
  type ProposedCommand,
} from './command-codec.js';
import type { LeaseAuditSink } from './lease-audit.js';
import { LeaseLeader, type LeaseLeaderOptions } from './lease-leader.js';
import type { ClientNetworkMessage, NodeReply, NodeRequest } from './lock-messages.js';

export interface LockNodeEnvironment {
  readonly loop: EventLoop;
  readonly raftNetwork: SimNetwork<Message>;
  readonly clientNetwork: SimNetwork<ClientNetworkMessage>;
  readonly disk: SimDisk<DiskRecord>;
  readonly clock: SimClock;
  readonly observer: SafetyObserver;
  readonly bootstrapConf: ConfState;
  readonly raftOptions: Partial<Omit<RaftConfig, 'id' | 'random'>>;
  readonly tickMs: number;
  readonly snapshotEveryEntries: number;
  readonly entriesKeptAfterSnapshot: number;
  readonly lease: LeaseLeaderOptions;
  readonly audit: LeaseAuditSink;
  /** Every entry this member applies, with its decoded command (the checks' reference replica). */
  readonly onApplied: (node: string, entry: Entry, proposed: ProposedCommand | undefined) => void;
  /** A keep-alive this member answered with a renewal (for the lease liveness check). */
  readonly onRenewed: (node: string, lease: bigint) => void;
  readonly trace: (node: string, text: string) => void;
}

interface PendingProposal {
  readonly requestId: string;
  /** The client to answer; undefined for the leader's own lease proposals. */
  readonly client: string | undefined;
}

interface PendingRead {
  readonly request: Extract<NodeRequest, { kind: 'read' }>;
  readonly client: string;
  index: number;
}

/** One process lifetime; a crash discards it (the tracker too) and a restart rebuilds from disk. */
class Incarnation {
  readonly node: RawNode;
  readonly storage: MemoryStorage;
  readonly leases: LeaseLeader;
  state = new ClusterState();
  appliedIndex = 0;
  readonly proposals = new Map<number, PendingProposal>();
  readonly reads = new Map<string, PendingRead>();
  readyInFlight = false;
  tickTimer = -1;
  nextReadId = 0;
  nextOwnProposal = 0;

  constructor(node: RawNode, storage: MemoryStorage, leases: LeaseLeader) {
    this.node = node;
    this.storage = storage;
    this.leases = leases;
  }
}

export class LockNode {
  readonly id: string;
  private readonly env: LockNodeEnvironment;
  private readonly random: Prng;
  private current: Incarnation | undefined;
  private incarnationCount = 0;

  constructor(id: string, env: LockNodeEnvironment, random: Prng) {
    this.id = id;
    this.env = env;
    this.random = random;
  }

  get clock(): SimClock {
    return this.env.clock;
  }

  get raft(): RawNode | undefined {
    return this.current?.node;
  }

  /** The member's applied state (undefined while crashed). */
  get state(): ClusterState | undefined {
    return this.current?.state;
  }

  start(): void {
    if (this.current) return;
    const storage = this.recoverStorage();
    const node = new RawNode(
      { ...this.env.raftOptions, id: this.id, random: this.random.fork(`raft/${this.incarnationCount}`) },
      storage,
    );
    this.incarnationCount++;
    const leases = new LeaseLeader(this.id, this.env.clock, this.env.loop, this.env.audit, this.env.lease);
    const incarnation = new Incarnation(node, storage, leases);
    const snapshot = storage.snapshot();
    restoreState(incarnation, snapshot.data, snapshot.metadata.index);
    this.current = incarnation;
    this.env.raftNetwork.setNodeDown(this.id, false);
    this.env.clientNetwork.setNodeDown(this.id, false);
    this.env.observer.nodeStarted(this.id, node);
    this.env.trace(
      this.id,
      `start (incarnation ${this.incarnationCount}, last index ${storage.lastIndex()})`,
    );
    this.scheduleTick(incarnation);
  }

  crash(): void {
    const incarnation = this.current;
    if (!incarnation) return;
    this.current = undefined;
    incarnation.leases.demote();
    this.env.loop.cancel(incarnation.tickTimer);
    this.env.raftNetwork.setNodeDown(this.id, true);
    this.env.clientNetwork.setNodeDown(this.id, true);
    const report = this.env.disk.crash(this.random.fork(`crash/${this.incarnationCount}`));
    this.env.trace(this.id, `crash (lost ${report.lostRecords} unsynced records)`);
  }

  receive(message: Message): void {
    const incarnation = this.current;
    if (!incarnation) return;
    incarnation.node.step(message);
    this.afterStep(incarnation);
  }

  /** A client's request arrived over the client network. */
  handleRequest(client: string, request: NodeRequest): void {
    const incarnation = this.current;
    if (!incarnation) return;
    switch (request.kind) {
      case 'propose':
        this.propose(incarnation, { requestId: request.requestId, command: request.command }, client);
        break;
      case 'read':
        this.startRead(incarnation, client, request);
        break;
      case 'keepAlive':
        this.keepAlive(incarnation, client, request.requestId, request.lease);
        break;
    }
    this.afterStep(incarnation);
  }

  private reply(client: string, reply: NodeReply): void {
    this.env.clientNetwork.send(this.id, client, { kind: 'reply', reply });
  }

  private propose(incarnation: Incarnation, proposed: ProposedCommand, client: string | undefined): void {
    const result = incarnation.node.propose(encodeProposedCommand(proposed));
    if (result.ok) {
      incarnation.proposals.set(result.index, { requestId: proposed.requestId, client });
      return;
    }
    if (client === undefined) return; // the lease loop offers the lease again later
    const { requestId } = proposed;
    this.reply(
      client,
      result.reason === 'notLeader'
        ? { kind: 'notLeader', requestId, leader: incarnation.node.raft.lead }
        : { kind: 'failed', requestId, reason: result.reason },
    );
  }

  private startRead(incarnation: Incarnation, client: string, request: PendingRead['request']): void {
    const context = `${this.id}/${this.incarnationCount}/${incarnation.nextReadId++}`;
    const result = incarnation.node.readIndex(context);
    if (!result.ok) {
      const { requestId } = request;
      this.reply(
        client,
        result.reason === 'noLeader'
          ? { kind: 'notLeader', requestId, leader: '' }
          : { kind: 'failed', requestId, reason: result.reason },
      );
      return;
    }
    incarnation.reads.set(context, { request, client, index: -1 });
  }

  private keepAlive(incarnation: Incarnation, client: string, requestId: string, lease: bigint): void {
    const answer = incarnation.leases.keepAlive(lease);
    switch (answer.kind) {
      case 'notLeader':
        this.reply(client, { kind: 'notLeader', requestId, leader: incarnation.node.raft.lead });
        return;
      case 'notFound':
        this.reply(client, { kind: 'keepAlive', requestId, ttlSeconds: 0 });
        return;
      case 'renewed':
        this.env.onRenewed(this.id, lease);
        // A renewed lease must not restart from a stale checkpoint on the next leader.
        if (answer.clearCheckpoint)
          this.proposeOwn(incarnation, {
            kind: 'leaseCheckpoint',
            checkpoints: [{ id: lease, remainingTtlSeconds: 0 }],
          });
        this.reply(client, { kind: 'keepAlive', requestId, ttlSeconds: answer.ttlSeconds });
        return;
    }
  }

  private proposeOwn(incarnation: Incarnation, command: ProposedCommand['command'], prefix = 'lease/'): void {
    const requestId = `${prefix}${this.id}/${this.incarnationCount}/${incarnation.nextOwnProposal++}`;
    this.propose(incarnation, { requestId, command }, undefined);
  }

  private scheduleTick(incarnation: Incarnation): void {
    // A fast clock ticks more often: drift is what leases must tolerate.
    const delayMs = this.env.tickMs / (1 + this.env.clock.driftPpm / 1e6);
    incarnation.tickTimer = this.env.loop.schedule(delayMs, () => {
      if (this.current !== incarnation) return;
      incarnation.node.tick();
      this.runLeaseLoop(incarnation);
      this.afterStep(incarnation);
      this.scheduleTick(incarnation);
    });
  }

  private runLeaseLoop(incarnation: Incarnation): void {
    const { revokes, checkpoints } = incarnation.leases.tick();
    for (const id of revokes) {
      this.env.trace(this.id, `lease ${id.toString(16)} expired: proposing its revoke`);
      this.proposeOwn(incarnation, { kind: 'leaseRevoke', id }, EXPIRY_REQUEST_PREFIX);
    }
    if (checkpoints.length > 0) this.proposeOwn(incarnation, { kind: 'leaseCheckpoint', checkpoints });
  }

  private afterStep(incarnation: Incarnation): void {
    const raft = incarnation.node.raft;
    incarnation.leases.observeRole(raft.role, raft.term);
    this.env.observer.observe(this.id, incarnation.node);
    this.pump(incarnation);
  }

  /** The Ready cycle: persist, fsync (virtual latency), then send, apply and advance. */
  private pump(incarnation: Incarnation): void {
    if (incarnation.readyInFlight || !incarnation.node.hasReady()) return;
    const ready = incarnation.node.ready();
    incarnation.readyInFlight = true;
    this.persist(incarnation, ready);
    const mustSync = ready.mustSync || ready.snapshot !== undefined;
    const delayMs = mustSync ? this.env.disk.sync() : 0;
    this.env.loop.schedule(delayMs, () => {
      if (this.current !== incarnation) return; // crashed while fsync was running
      this.finishReady(incarnation, ready);
    });
  }

  private persist(incarnation: Incarnation, ready: Ready): void {
    persistReady(this.env.disk, incarnation.storage, ready);
    if (ready.entries.length > 0) this.env.observer.persisted(this.id, ready.entries);
  }

  private finishReady(incarnation: Incarnation, ready: Ready): void {
    for (const message of ready.messages) this.env.raftNetwork.send(this.id, message.to, message);
    if (ready.snapshot) restoreState(incarnation, ready.snapshot.data, ready.snapshot.metadata.index);
    for (const entry of ready.committedEntries) this.applyEntry(incarnation, entry);
    for (const state of ready.readStates) {
      const read = incarnation.reads.get(state.context);
      if (read) read.index = state.index;
    }
    for (const context of ready.droppedReads) {
      const read = incarnation.reads.get(context);
      incarnation.reads.delete(context);
      if (read)
        this.reply(read.client, { kind: 'failed', requestId: read.request.requestId, reason: 'dropped' });
    }
    this.serveReads(incarnation);
    incarnation.node.advance(ready);
    incarnation.readyInFlight = false;
    this.maybeCompact(incarnation);
    this.afterStep(incarnation);
  }

  private applyEntry(incarnation: Incarnation, entry: Entry): void {
    if (entry.index !== incarnation.appliedIndex + 1)
      throw new Error(`${this.id} applies entry ${entry.index} after ${incarnation.appliedIndex}`);
    incarnation.appliedIndex = entry.index;
    this.env.observer.applied(this.id, entry);
    const pending = incarnation.proposals.get(entry.index);
    incarnation.proposals.delete(entry.index);
    const proposed =
      entry.kind === 'normal' && entry.data.byteLength > 0 ? decodeProposedCommand(entry.data) : undefined;
    this.env.onApplied(this.id, entry, proposed);
    if (proposed === undefined) {
      this.maybePromote(incarnation, entry);
      if (pending?.client) this.reply(pending.client, replaced(pending.requestId));
      return;
    }
    const result = incarnation.state.apply(proposed.command, entry.index);
    incarnation.leases.applied(proposed.command, result);
    if (pending?.client === undefined) return;
    // Another entry at our index means ours was overwritten and can never commit.
    if (proposed.requestId !== pending.requestId) this.reply(pending.client, replaced(pending.requestId));
    else this.reply(pending.client, answerOf(pending.requestId, result));
  }

  /** The leader's own empty entry of its term: everything before it is applied (etcd promotes here). */
  private maybePromote(incarnation: Incarnation, entry: Entry): void {
    const raft = incarnation.node.raft;
    if (entry.kind !== 'normal' || raft.role !== 'leader' || entry.term !== raft.term) return;
    incarnation.leases.promote(raft.term, incarnation.state);
    this.env.trace(this.id, `lease tracker promoted in term ${raft.term}`);
  }

  private serveReads(incarnation: Incarnation): void {
    for (const [context, read] of incarnation.reads) {
      if (read.index < 0 || incarnation.appliedIndex < read.index) continue;
      incarnation.reads.delete(context);
      const { kv } = incarnation.state;
      const responses = [];
      for (const range of read.request.ranges) {
        const response = kv.range(range);
        if ('error' in response) throw new Error(`a lock read failed: ${response.error.message}`);
        responses.push(response);
      }
      const { requestId } = read.request;
      this.reply(read.client, { kind: 'read', requestId, revision: kv.currentRevision, responses });
    }
  }

  private maybeCompact(incarnation: Incarnation): void {
    const { storage, node, appliedIndex } = incarnation;
    if (appliedIndex - storage.snapshot().metadata.index < this.env.snapshotEveryEntries) return;
    const snapshot = {
      index: appliedIndex,
      confState: node.raft.confState,
      data: incarnation.state.snapshot(),
    };
    snapshotAndCompact(this.env.disk, storage, snapshot, this.env.entriesKeptAfterSnapshot);
  }

  private recoverStorage(): MemoryStorage {
    return recoverRaftStorage(this.env.disk, this.env.bootstrapConf, this.id);
  }
}

function restoreState(incarnation: Incarnation, data: Uint8Array, index: number): void {
  incarnation.state = data.byteLength > 0 ? ClusterState.restore(data) : new ClusterState();
  incarnation.appliedIndex = index;
}

function replaced(requestId: string): NodeReply {
  return { kind: 'failed', requestId, reason: 'entry replaced' };
}

function answerOf(requestId: string, result: ClusterApplied | { error: EtcdError }): NodeReply {
  if ('error' in result) return { kind: 'refused', requestId, error: result.error };
  return { kind: 'applied', requestId, revision: result.revision, response: result.response };
}
