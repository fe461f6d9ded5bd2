// One simulated Synod member: the real Raft core and KV state machine, driven through a simulated
// disk (only fsynced records survive a crash), network, and a drifting clock that paces its ticks.
import type { ConfState, Entry, Message, RaftConfig, Ready } from '@synod/raft';
import { type MemoryStorage, RawNode } from '@synod/raft';
import type { SimClock } from '../engine/clock.js';
import type { SimDisk } from '../engine/disk.js';
import type { EventLoop } from '../engine/event-loop.js';
import type { SimNetwork } from '../engine/network.js';
import type { Prng } from '../engine/prng.js';
import type { KvCall, KvResult } from '../history/history.js';
import type { SimProbe } from '../trace/probe.js';
import type { SafetyObserver } from './invariants.js';
import { encodeCommand, KvStateMachine } from './kv-service.js';
import { type DiskRecord, persistReady, recoverRaftStorage, snapshotAndCompact } from './raft-disk.js';

export type ClientResponse =
  | { readonly kind: 'ok'; readonly result: KvResult }
  | { readonly kind: 'notLeader'; readonly leader: string }
  /** Definitely not applied. */
  | { readonly kind: 'fail'; readonly reason: string };

export interface SimNodeEnvironment {
  readonly loop: EventLoop;
  readonly network: SimNetwork<Message>;
  readonly disk: SimDisk<DiskRecord>;
  readonly clock: SimClock;
  readonly observer: SafetyObserver;
  readonly bootstrapConf: ConfState;
  readonly raftOptions: Partial<Omit<RaftConfig, 'id' | 'random'>>;
  readonly tickMs: number;
  /** Take a snapshot every this many applied entries... */
  readonly snapshotEveryEntries: number;
  /** ...and keep this many entries behind it for slow followers. */
  readonly entriesKeptAfterSnapshot: number;
  readonly trace: (node: string, text: string) => void;
  /** Structured trace hooks; absent in ordinary runs. */
  readonly probe?: SimProbe | undefined;
  /**
   * Drive Raft as the server's driver does: apply a Ready's committed entries at once, take the
   * next Ready while earlier writes are still being synced, and confirm each write in order.
   */
  readonly pipelined?: boolean;
}

interface PendingProposal {
  readonly requestId: string;
  readonly reply: (response: ClientResponse) => void;
}

interface PendingRead {
  readonly key: string;
  readonly reply: (response: ClientResponse) => void;
  index: number;
}

/** One incarnation of a node process; a crash discards it and a restart builds a new one from disk. */
class Incarnation {
  readonly node: RawNode;
  readonly storage: MemoryStorage;
  readonly kv = new KvStateMachine();
  readonly proposals = new Map<number, PendingProposal>();
  readonly reads = new Map<string, PendingRead>();
  readyInFlight = false;
  /** Pipelined mode: when the newest write in flight completes (writes complete in order). */
  lastSyncDoneAt = 0;
  tickTimer = -1;
  nextReadId = 0;

  constructor(node: RawNode, storage: MemoryStorage) {
    this.node = node;
    this.storage = storage;
  }
}

export class SimNode {
  readonly id: string;
  private readonly env: SimNodeEnvironment;
  private readonly random: Prng;
  private current: Incarnation | undefined;
  private incarnationCount = 0;

  constructor(id: string, env: SimNodeEnvironment, random: Prng) {
    this.id = id;
    this.env = env;
    this.random = random;
  }

  get clock(): SimClock {
    return this.env.clock;
  }

  get alive(): boolean {
    return this.current !== undefined;
  }

  get raft(): RawNode | undefined {
    return this.current?.node;
  }

  start(): void {
    if (this.current) return;
    const storage = this.recoverStorage();
    const node = new RawNode(
      { ...this.env.raftOptions, id: this.id, random: this.random.fork(`raft/${this.incarnationCount}`) },
      storage,
    );
    this.incarnationCount++;
    const incarnation = new Incarnation(node, storage);
    const snapshot = storage.snapshot();
    incarnation.kv.restore(snapshot.data, snapshot.metadata.index);
    this.current = incarnation;
    this.env.network.setNodeDown(this.id, false);
    this.env.observer.nodeStarted(this.id, node);
    this.env.trace(
      this.id,
      `start (incarnation ${this.incarnationCount}, term ${node.raft.term}, last index ${storage.lastIndex()})`,
    );
    this.env.probe?.nodeStarted(this.env.loop.now, this.id, {
      incarnation: this.incarnationCount,
      raft: node,
      entries: storage.allEntries(),
    });
    this.scheduleTick(incarnation);
  }

  crash(): void {
    const incarnation = this.current;
    if (!incarnation) return;
    this.current = undefined;
    this.env.loop.cancel(incarnation.tickTimer);
    this.env.network.setNodeDown(this.id, true);
    const report = this.env.disk.crash(this.random.fork(`crash/${this.incarnationCount}`));
    this.env.trace(
      this.id,
      `crash (lost ${report.lostRecords} unsynced records${report.tornFile ? ', torn tail' : ''})`,
    );
    this.env.probe?.nodeCrashed(this.env.loop.now, this.id, {
      lostRecords: report.lostRecords,
      tornTail: report.tornFile !== undefined,
    });
  }

  receive(message: Message): void {
    const incarnation = this.current;
    if (!incarnation) return;
    incarnation.node.step(message);
    this.afterStep(incarnation);
  }

  /** A client request arriving at this node. `reply` may never be called (crash, lost read). */
  handleClientRequest(requestId: string, call: KvCall, reply: (response: ClientResponse) => void): void {
    const incarnation = this.current;
    if (!incarnation) return;
    const raft = incarnation.node.raft;
    if (call.kind === 'get') {
      const context = `${this.id}/${this.incarnationCount}/${incarnation.nextReadId++}`;
      const result = incarnation.node.readIndex(context);
      if (!result.ok) {
        reply(
          result.reason === 'noLeader'
            ? { kind: 'notLeader', leader: '' }
            : { kind: 'fail', reason: result.reason },
        );
        return;
      }
      incarnation.reads.set(context, { key: call.key, reply, index: -1 });
    } else {
      const proposed = incarnation.node.propose(encodeCommand({ requestId, call }));
      if (!proposed.ok) {
        reply(
          proposed.reason === 'notLeader'
            ? { kind: 'notLeader', leader: raft.lead }
            : { kind: 'fail', reason: proposed.reason },
        );
        return;
      }
      incarnation.proposals.set(proposed.index, { requestId, reply });
    }
    this.afterStep(incarnation);
  }

  private scheduleTick(incarnation: Incarnation): void {
    // A fast clock ticks more often: drift is what lease reads must tolerate.
    const delayMs = this.env.tickMs / (1 + this.env.clock.driftPpm / 1e6);
    incarnation.tickTimer = this.env.loop.schedule(delayMs, () => {
      if (this.current !== incarnation) return;
      incarnation.node.tick();
      this.afterStep(incarnation);
      this.scheduleTick(incarnation);
    });
  }

  private afterStep(incarnation: Incarnation): void {
    this.env.observer.observe(this.id, incarnation.node);
    this.env.probe?.nodeStepped(this.env.loop.now, this.id, incarnation.node);
    this.pump(incarnation);
  }

  /** Runs the Ready cycle: persist, fsync (virtual latency), then send, apply and advance. */
  private pump(incarnation: Incarnation): void {
    if (this.env.pipelined) {
      this.pumpPipelined(incarnation);
      return;
    }
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

  /**
   * The server driver's order: committed entries are applied (they are durable on a quorum) while
   * this Ready's writes sync, the next Ready may start meanwhile, and each Ready's messages go out
   * and its write is confirmed only once it and every earlier write are synced. A snapshot waits
   * until it is durable before it is installed.
   */
  private pumpPipelined(incarnation: Incarnation): void {
    while (this.current === incarnation && incarnation.node.hasReady()) {
      const ready = incarnation.node.ready();
      this.persist(incarnation, ready);
      const mustSync = ready.mustSync || ready.snapshot !== undefined;
      const syncedAt = Math.max(
        incarnation.lastSyncDoneAt,
        this.env.loop.now + (mustSync ? this.env.disk.sync() : 0),
      );
      incarnation.lastSyncDoneAt = syncedAt;
      if (!ready.snapshot) this.applyReady(incarnation, ready);
      this.env.loop.schedule(syncedAt - this.env.loop.now, () => {
        if (this.current !== incarnation) return; // crashed before the write was durable
        for (const message of ready.messages) this.env.network.send(this.id, message.to, message);
        incarnation.node.advancePersisted(ready);
        if (ready.snapshot) {
          incarnation.kv.restore(ready.snapshot.data, ready.snapshot.metadata.index);
          this.applyReady(incarnation, ready);
        }
        this.afterStep(incarnation);
      });
    }
  }

  /** Applies a Ready's committed entries, serves reads, and confirms to Raft (pipelined mode). */
  private applyReady(incarnation: Incarnation, ready: Ready): void {
    this.applyCommitted(incarnation, ready);
    const confState = incarnation.node.advanceApplied(ready);
    if (confState) this.env.trace(this.id, `membership now voters=${confState.voters.join(',')}`);
    this.maybeCompact(incarnation);
  }

  private persist(incarnation: Incarnation, ready: Ready): void {
    persistReady(this.env.disk, incarnation.storage, ready);
    if (ready.snapshot) {
      this.env.trace(this.id, `install snapshot at ${ready.snapshot.metadata.index}`);
      this.env.probe?.snapshotInstalled(this.env.loop.now, this.id, ready.snapshot.metadata);
    }
    if (ready.entries.length > 0) {
      this.env.observer.persisted(this.id, ready.entries);
      this.env.probe?.entriesAppended(this.env.loop.now, this.id, ready.entries);
    }
  }

  private finishReady(incarnation: Incarnation, ready: Ready): void {
    for (const message of ready.messages) this.env.network.send(this.id, message.to, message);
    if (ready.snapshot) incarnation.kv.restore(ready.snapshot.data, ready.snapshot.metadata.index);
    this.applyCommitted(incarnation, ready);
    const confState = incarnation.node.advance(ready);
    if (confState) this.env.trace(this.id, `membership now voters=${confState.voters.join(',')}`);
    incarnation.readyInFlight = false;
    this.maybeCompact(incarnation);
    this.afterStep(incarnation);
  }

  /** A Ready's committed entries and read points, applied and served (Raft is told by the caller). */
  private applyCommitted(incarnation: Incarnation, ready: Ready): void {
    for (const entry of ready.committedEntries) this.applyEntry(incarnation, entry);
    for (const state of ready.readStates) {
      const read = incarnation.reads.get(state.context);
      if (read) read.index = state.index;
    }
    for (const context of ready.droppedReads) {
      incarnation.reads.get(context)?.reply({ kind: 'fail', reason: 'read dropped' });
      incarnation.reads.delete(context);
    }
    this.serveReads(incarnation);
  }

  private applyEntry(incarnation: Incarnation, entry: Entry): void {
    this.env.observer.applied(this.id, entry);
    const pending = incarnation.proposals.get(entry.index);
    incarnation.proposals.delete(entry.index);
    if (entry.kind !== 'normal') {
      incarnation.kv.skip(entry.index);
      pending?.reply({ kind: 'fail', reason: 'entry replaced' });
      return;
    }
    const applied = incarnation.kv.apply(entry.index, entry.data);
    if (!pending) return;
    // A different entry at our index means ours was overwritten and can never commit: a definite failure.
    if (applied && applied.command.requestId === pending.requestId)
      pending.reply({ kind: 'ok', result: applied.result });
    else pending.reply({ kind: 'fail', reason: 'entry replaced' });
  }

  private serveReads(incarnation: Incarnation): void {
    for (const [context, read] of incarnation.reads) {
      if (read.index < 0 || incarnation.kv.appliedIndex < read.index) continue;
      incarnation.reads.delete(context);
      read.reply({ kind: 'ok', result: { value: incarnation.kv.read(read.key) } });
    }
  }

  private maybeCompact(incarnation: Incarnation): void {
    const { storage, kv, node } = incarnation;
    if (kv.appliedIndex - storage.snapshot().metadata.index < this.env.snapshotEveryEntries) return;
    const snapshot = { index: kv.appliedIndex, confState: node.raft.confState, data: kv.snapshot() };
    snapshotAndCompact(this.env.disk, storage, snapshot, this.env.entriesKeptAfterSnapshot);
  }

  private recoverStorage(): MemoryStorage {
    return recoverRaftStorage(this.env.disk, this.env.bootstrapConf, this.id, (record) =>
      this.env.trace(this.id, `recovery: truncated a torn record at the log tail (record ${record})`),
    );
  }
}
