// A hand-driven network of RawNodes for the scenario tests. Each Ready is persisted to the member's
// MemoryStorage, its messages queued, and delivery is explicit, so a test can hold back, drop or
// count any message. InMemoryCluster is the ready-made version without these hooks.
import type { ClusterOptions } from './in-memory-cluster.js';
import { seededRandom } from './in-memory-cluster.js';
import type { Ready } from './raw-node.js';
import { RawNode } from './raw-node.js';
import { MemoryStorage } from './storage.js';
import type { ConfState, Entry, Message, NodeId, ReadState } from './types.js';

export interface Peer {
  readonly node: RawNode;
  readonly storage: MemoryStorage;
  /** Every committed entry handed out by a Ready (empty and config entries too), in order. */
  readonly committed: Entry[];
  readonly readStates: ReadState[];
  readonly droppedReads: string[];
}

/** What happens to a message at delivery: `hold` parks it in `held` until `release()`. */
export type Fate = 'deliver' | 'drop' | 'hold';

/** Bounds every loop of the fixture so a livelock fails the test instead of hanging it. */
const STABILIZE_ROUNDS_MAX = 1_000;

export class Network {
  readonly peers = new Map<NodeId, Peer>();
  /** Messages sent and not yet delivered, in send order. */
  queue: Message[] = [];
  /** Messages parked by `fate`, in arrival order. */
  held: Message[] = [];
  /** Every message any member sent (including ones later dropped), for counting. */
  readonly sent: Message[] = [];
  /** Directed links that drop everything: `${from}->${to}`. */
  readonly cutLinks = new Set<string>();
  fate: (message: Message) => Fate = () => 'deliver';
  private readonly options: ClusterOptions;
  private seed: number;

  constructor(ids: readonly NodeId[], options: ClusterOptions = {}, seed = 1, confState = conf(ids)) {
    this.options = options;
    this.seed = seed;
    for (const id of ids) this.add(id, new MemoryStorage(confState));
  }

  /** Adds (or replaces) a member running on `storage`: a replacement is a reboot that keeps only what was persisted. */
  add(id: NodeId, storage: MemoryStorage, options: ClusterOptions = {}): Peer {
    const node = new RawNode({ ...this.options, ...options, id, random: seededRandom(this.seed++) }, storage);
    const peer: Peer = { node, storage, committed: [], readStates: [], droppedReads: [] };
    this.peers.set(id, peer);
    return peer;
  }

  /** Reboots `id` from its persisted state (volatile state such as leader, progress and leases is lost). */
  restart(id: NodeId, options: ClusterOptions = {}): Peer {
    return this.add(id, this.peer(id).storage, options);
  }

  peer(id: NodeId): Peer {
    const peer = this.peers.get(id);
    if (!peer) throw new Error(`no member ${id}`);
    return peer;
  }

  node(id: NodeId): RawNode {
    return this.peer(id).node;
  }

  leader(): NodeId | undefined {
    for (const [id, { node }] of this.peers) if (node.raft.role === 'leader') return id;
    return undefined;
  }

  /** Handles one Ready of `id` the way a driver must: persist, send, apply, advance. */
  processReady(id: NodeId): Ready | undefined {
    const peer = this.peer(id);
    if (!peer.node.hasReady()) return undefined;
    const ready = peer.node.ready();
    if (ready.snapshot) peer.storage.applySnapshot(ready.snapshot);
    peer.storage.append(ready.entries);
    if (ready.hardState) peer.storage.setHardState(ready.hardState);
    for (const message of ready.messages) {
      this.sent.push(message);
      this.queue.push(message);
    }
    peer.committed.push(...ready.committedEntries);
    peer.readStates.push(...ready.readStates);
    peer.droppedReads.push(...ready.droppedReads);
    peer.node.advance(ready);
    return ready;
  }

  /** Delivers what is queued now (not what the deliveries cause); returns how many were stepped. */
  deliver(): number {
    const batch = this.queue;
    this.queue = [];
    let delivered = 0;
    for (const message of batch) {
      const target = this.peers.get(message.to);
      if (!target || this.cutLinks.has(`${message.from}->${message.to}`)) continue;
      const fate = this.fate(message);
      if (fate === 'drop') continue;
      if (fate === 'hold') {
        this.held.push(message);
        continue;
      }
      target.node.step(message);
      delivered++;
    }
    return delivered;
  }

  /** Puts held messages back in the queue (optionally only those matching `which`). */
  release(which: (message: Message) => boolean = () => true): void {
    const keep: Message[] = [];
    for (const message of this.held) (which(message) ? this.queue : keep).push(message);
    this.held = keep;
  }

  /** Readys and deliveries until nothing moves. */
  stabilize(): void {
    for (let round = 0; round < STABILIZE_ROUNDS_MAX; round++) {
      let moved = false;
      for (const id of this.peers.keys()) if (this.processReady(id)) moved = true;
      if (this.deliver() > 0) moved = true;
      if (!moved && this.queue.length === 0) return;
    }
    throw new Error(`network did not stabilize in ${STABILIZE_ROUNDS_MAX} rounds (livelock?)`);
  }

  tick(times = 1): void {
    for (let round = 0; round < times; round++) {
      for (const { node } of this.peers.values()) node.tick();
      this.stabilize();
    }
  }

  /** Makes `id` campaign now and lets the election play out. */
  campaign(id: NodeId): void {
    this.node(id).campaign();
    this.stabilize();
  }

  isolate(id: NodeId): void {
    for (const other of this.peers.keys()) if (other !== id) this.cut(id, other);
  }

  /** Cuts both directions between `a` and `b`. */
  cut(a: NodeId, b: NodeId): void {
    this.cutLinks.add(`${a}->${b}`);
    this.cutLinks.add(`${b}->${a}`);
  }

  heal(): void {
    this.cutLinks.clear();
  }

  /** The application of `id` snapshots its state `data` at its applied index and compacts its log there. */
  snapshotAndCompact(id: NodeId, data: string): number {
    const { node, storage } = this.peer(id);
    const index = node.raft.log.applied;
    storage.createSnapshot(index, node.raft.confState, bytes(data));
    storage.compact(index);
    return index;
  }

  /** Proposes on the current leader; fails the test if there is none or it refuses. */
  propose(text: string): number {
    const leader = this.leader();
    if (!leader) throw new Error('no leader to propose to');
    const result = this.node(leader).propose(bytes(text));
    if (!result.ok) throw new Error(`proposal refused: ${result.reason}`);
    return result.index;
  }

  /** Payloads of the normal, non-empty entries `id` applied, decoded as text. */
  appliedTexts(id: NodeId): string[] {
    return this.peer(id)
      .committed.filter((entry) => entry.kind === 'normal' && entry.data.byteLength > 0)
      .map((entry) => text(entry.data));
  }
}

export function conf(voters: readonly NodeId[], learners: readonly NodeId[] = []): ConfState {
  return {
    voters: [...voters],
    votersOutgoing: [],
    learners: [...learners],
    learnersNext: [],
    autoLeave: false,
  };
}

export const bytes = (value: string): Uint8Array => new TextEncoder().encode(value);
export const text = (data: Uint8Array): string => new TextDecoder().decode(data);

/** Entries 1..n with the given terms, e.g. `entriesWithTerms([1, 1, 2])`. */
export function entriesWithTerms(terms: readonly number[], firstIndex = 1): Entry[] {
  return terms.map((term, offset) => ({
    term,
    index: firstIndex + offset,
    kind: 'normal' as const,
    data: bytes(`${firstIndex + offset}@${term}`),
  }));
}

/** A storage holding `terms` as a persisted log, with a persisted hard state. */
export function storageWithLog(
  confState: ConfState,
  terms: readonly number[],
  hardState: { term: number; vote?: NodeId; commit: number },
): MemoryStorage {
  const storage = new MemoryStorage(confState);
  storage.append(entriesWithTerms(terms));
  storage.setHardState({ term: hardState.term, vote: hardState.vote ?? '', commit: hardState.commit });
  return storage;
}

/** The message variant(s) whose `type` can be `T` (vote and preVote share one variant, so no Extract). */
export type MessageOf<T extends Message['type']> = Message & { readonly type: T };

/** Messages of `type` from `from` to `to` among `messages`. */
export function messagesOf<T extends Message['type']>(
  messages: readonly Message[],
  type: T,
  from?: NodeId,
  to?: NodeId,
): MessageOf<T>[] {
  return messages.filter(
    (message): message is MessageOf<T> =>
      message.type === type &&
      (from === undefined || message.from === from) &&
      (to === undefined || message.to === to),
  );
}
