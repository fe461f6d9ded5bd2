// A whole Raft group in memory with instant, lossless delivery (unless a link is cut): for unit
// tests, examples and the throughput benchmark. The fault-injecting driver is the simulator.
import type { RaftConfig } from './config.js';
import type { ProposeResult } from './leader.js';
import type { Ready } from './raw-node.js';
import { RawNode } from './raw-node.js';
import { MemoryStorage } from './storage.js';
import type { ConfState, Entry, Message, NodeId } from './types.js';

/** A tiny deterministic generator (mulberry32) so in-memory clusters need no setup. */
export function seededRandom(seed: number): { next(): number } {
  let state = seed >>> 0;
  return {
    next() {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

export interface MemberState {
  readonly node: RawNode;
  readonly storage: MemoryStorage;
  /** Normal entries with data, in apply order. */
  readonly applied: Entry[];
}

export type ClusterOptions = Partial<Omit<RaftConfig, 'id' | 'random'>>;

export class InMemoryCluster {
  readonly members = new Map<NodeId, MemberState>();
  /** Directed links that drop every message: `${from}->${to}`. */
  readonly cutLinks = new Set<string>();
  private queue: Message[] = [];
  private readonly options: ClusterOptions;
  private seed: number;
  messagesDelivered = 0;

  constructor(ids: readonly NodeId[], options: ClusterOptions = {}, seed = 1) {
    this.options = options;
    this.seed = seed;
    const confState: ConfState = {
      voters: [...ids],
      votersOutgoing: [],
      learners: [],
      learnersNext: [],
      autoLeave: false,
    };
    for (const id of ids) this.addMember(id, confState);
  }

  /** Creates a member (a fresh node joining gets an empty configuration and learns it from the leader). */
  addMember(id: NodeId, confState: ConfState): MemberState {
    const storage = new MemoryStorage(confState);
    const node = new RawNode({ ...this.options, id, random: seededRandom(this.seed++) }, storage);
    const member = { node, storage, applied: [] };
    this.members.set(id, member);
    return member;
  }

  member(id: NodeId): MemberState {
    const member = this.members.get(id);
    if (!member) throw new Error(`no member ${id}`);
    return member;
  }

  leader(): NodeId | undefined {
    for (const [id, { node }] of this.members) if (node.raft.role === 'leader') return id;
    return undefined;
  }

  isolate(id: NodeId): void {
    for (const other of this.members.keys()) {
      if (other === id) continue;
      this.cutLinks.add(`${id}->${other}`);
      this.cutLinks.add(`${other}->${id}`);
    }
  }

  heal(): void {
    this.cutLinks.clear();
  }

  tick(times = 1): void {
    for (let round = 0; round < times; round++) {
      for (const { node } of this.members.values()) node.tick();
      this.stabilize();
    }
  }

  /** Ticks until some member leads (bounded). */
  electLeader(maxTicks = 200): NodeId {
    for (let tick = 0; tick < maxTicks; tick++) {
      const leader = this.leader();
      if (leader) return leader;
      this.tick();
    }
    throw new Error(`no leader after ${maxTicks} ticks`);
  }

  propose(data: Uint8Array): ProposeResult {
    const leader = this.leader();
    if (!leader) return { ok: false, reason: 'notLeader', leader: '' };
    return this.member(leader).node.propose(data);
  }

  /** Processes Readys and delivers messages until nothing moves (bounded). */
  stabilize(maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds; round++) {
      let progressed = false;
      for (const member of this.members.values()) {
        if (member.node.hasReady()) {
          this.handleReady(member, member.node.ready());
          progressed = true;
        }
      }
      const batch = this.queue;
      this.queue = [];
      for (const message of batch) {
        const target = this.members.get(message.to);
        if (!target || this.cutLinks.has(`${message.from}->${message.to}`)) continue;
        target.node.step(message);
        this.messagesDelivered++;
        progressed = true;
      }
      if (!progressed) return;
    }
    throw new Error(`cluster did not stabilize in ${maxRounds} rounds`);
  }

  private handleReady(member: MemberState, ready: Ready): void {
    if (ready.snapshot) member.storage.applySnapshot(ready.snapshot);
    member.storage.append(ready.entries);
    if (ready.hardState) member.storage.setHardState(ready.hardState);
    for (const message of ready.messages) this.queue.push(message);
    for (const entry of ready.committedEntries) {
      if (entry.kind === 'normal' && entry.data.byteLength > 0) member.applied.push(entry);
    }
    member.node.advance(ready);
  }
}
