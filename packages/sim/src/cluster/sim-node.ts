// One simulated Synod member: the real Raft core and KV state machine, driven through a simulated
// disk (only fsynced records survive a crash), network, and a drifting clock that paces its ticks.
import type { ConfState, Entry, HardState, Message, RaftConfig, Ready, Snapshot } from '@synod/raft';
import { MemoryStorage, RawNode } from '@synod/raft';
import type { SimClock } from '../engine/clock.js';
import type { SimDisk } from '../engine/disk.js';
import { isTornRecord } from '../engine/disk.js';
import type { EventLoop } from '../engine/event-loop.js';
import type { SimNetwork } from '../engine/network.js';
import type { Prng } from '../engine/prng.js';
import type { KvCall, KvResult } from '../history/history.js';
import type { SimProbe } from '../trace/probe.js';
import type { SafetyObserver } from './invariants.js';
import { encodeCommand, KvStateMachine } from './kv-service.js';

export type DiskRecord =
  | { readonly kind: 'hardState'; readonly hardState: HardState }
  | { readonly kind: 'entry'; readonly entry: Entry }
  | { readonly kind: 'snapshot'; readonly snapshot: Snapshot };

/** Approximate on-disk size of a record, for the disk's statistics. */
export function diskRecordBytes(record: DiskRecord): number {
  switch (record.kind) {
    case 'hardState':
      return 24;
    case 'entry':
      return 24 + record.entry.data.byteLength;
    case 'snapshot':
      return 64 + record.snapshot.data.byteLength;
  }
}

const HARD_STATE_FILE = 'hardstate';
const LOG_FILE = 'log';
const SNAPSHOT_FILE = 'snapshot';

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
    const { disk } = this.env;
    if (ready.snapshot) {
      disk.replaceAtomically(SNAPSHOT_FILE, [{ kind: 'snapshot', snapshot: ready.snapshot }]);
      incarnation.storage.applySnapshot(ready.snapshot);
      disk.replaceAtomically(
        LOG_FILE,
        incarnation.storage.allEntries().map((entry) => ({ kind: 'entry', entry })),
      );
      this.env.trace(this.id, `install snapshot at ${ready.snapshot.metadata.index}`);
      this.env.probe?.snapshotInstalled(this.env.loop.now, this.id, ready.snapshot.metadata);
    }
    if (ready.entries.length > 0) {
      this.appendToLogFile(ready.entries);
      incarnation.storage.append(ready.entries);
      this.env.observer.persisted(this.id, ready.entries);
      this.env.probe?.entriesAppended(this.env.loop.now, this.id, ready.entries);
    }
    if (ready.hardState) {
      disk.replaceAtomically(HARD_STATE_FILE, [{ kind: 'hardState', hardState: ready.hardState }]);
      incarnation.storage.setHardState(ready.hardState);
    }
  }

  private appendToLogFile(entries: readonly Entry[]): void {
    const { disk } = this.env;
    const first = entries[0]!.index;
    const records = disk.read(LOG_FILE);
    const firstRecord = records[0];
    if (firstRecord && !isTornRecord(firstRecord) && firstRecord.kind === 'entry') {
      const fileFirstIndex = firstRecord.entry.index;
      if (first < fileFirstIndex) disk.truncateFrom(LOG_FILE, 0);
      else disk.truncateFrom(LOG_FILE, first - fileFirstIndex); // drop a conflicting suffix
    }
    for (const entry of entries) disk.append(LOG_FILE, { kind: 'entry', entry });
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
    const snapshotIndex = storage.snapshot().metadata.index;
    if (kv.appliedIndex - snapshotIndex < this.env.snapshotEveryEntries) return;
    storage.createSnapshot(kv.appliedIndex, node.raft.confState, kv.snapshot());
    const compactTo = Math.max(storage.firstIndex() - 1, kv.appliedIndex - this.env.entriesKeptAfterSnapshot);
    storage.compact(compactTo);
    const { disk } = this.env;
    disk.replaceAtomically(SNAPSHOT_FILE, [{ kind: 'snapshot', snapshot: storage.snapshot() }]);
    disk.replaceAtomically(
      LOG_FILE,
      storage.allEntries().map((entry) => ({ kind: 'entry', entry })),
    );
  }

  /** Rebuilds stable storage from what survived on disk: torn tails are truncated, never trusted. */
  private recoverStorage(): MemoryStorage {
    const { disk } = this.env;
    const storage = new MemoryStorage(this.env.bootstrapConf);
    const snapshotRecord = disk.read(SNAPSHOT_FILE).at(-1);
    if (snapshotRecord && !isTornRecord(snapshotRecord) && snapshotRecord.kind === 'snapshot') {
      storage.applySnapshot(snapshotRecord.snapshot);
    }
    const records = disk.read(LOG_FILE);
    const tornAt = records.findIndex((record) => isTornRecord(record));
    if (tornAt >= 0) {
      if (tornAt !== records.length - 1)
        throw new Error(`${this.id}: corruption in the middle of the log at record ${tornAt}`);
      disk.truncateFrom(LOG_FILE, tornAt);
      disk.sync();
      this.env.trace(this.id, `recovery: truncated a torn record at the log tail (record ${tornAt})`);
    }
    const snapshotIndex = storage.snapshot().metadata.index;
    const entries: Entry[] = [];
    for (const record of records.slice(0, tornAt >= 0 ? tornAt : records.length)) {
      if (isTornRecord(record) || record.kind !== 'entry' || record.entry.index <= snapshotIndex) continue;
      entries.push(record.entry);
    }
    if (entries.length > 0 && entries[0]!.index !== snapshotIndex + 1) {
      throw new Error(
        `${this.id}: log starts at ${entries[0]!.index} but the snapshot ends at ${snapshotIndex}`,
      );
    }
    storage.append(entries);
    const hardStateRecord = disk.read(HARD_STATE_FILE).at(-1);
    if (hardStateRecord && !isTornRecord(hardStateRecord) && hardStateRecord.kind === 'hardState') {
      const { hardState } = hardStateRecord;
      storage.setHardState({ ...hardState, commit: Math.max(hardState.commit, snapshotIndex) });
    }
    return storage;
  }
}
