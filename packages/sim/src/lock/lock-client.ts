// A simulated lock user, in a loop: grant a lease and keep it alive at TTL/3 by its own clock,
// acquire the lock with etcd's recipe through Raft (proposals and linearizable reads), write to
// the fenced resource with its token while it believes it holds the lock, then release (delete
// its key and revoke the lease) or walk away and let the lease expire. Sometimes it pauses
// (GC-style) between checking its lease and writing, for longer than the TTL.
import { LEASE_ERRORS } from '@synod/state';
import type { SimClock } from '../engine/clock.js';
import type { EventLoop } from '../engine/event-loop.js';
import type { SimNetwork } from '../engine/network.js';
import type { Prng } from '../engine/prng.js';
import { afterLocalMs } from './local-timer.js';
import type { LockGrant } from './lock-checks.js';
import type { ClientNetworkMessage, NodeReply, NodeRequest, ResourceAck } from './lock-messages.js';
import { RESOURCE_ID } from './lock-messages.js';
import {
  contenderKey,
  enterTxn,
  readEnterAnswer,
  readWaitAnswer,
  releaseTxn,
  waitReads,
} from './lock-recipe.js';

export interface LockClientOptions {
  readonly lockNames: readonly string[];
  readonly ttlSecondsMin: number;
  readonly ttlSecondsMax: number;
  /** An unanswered request is sent again (elsewhere) after this long. */
  readonly requestTimeoutMs: number;
  readonly retryBackoffMs: number;
  /** A request still unanswered after this long is given up, and the cycle with it. */
  readonly callDeadlineMs: number;
  /** How often a waiting contender looks again (etcd watches; the simulated client polls). */
  readonly pollIntervalMs: number;
  readonly maxWaitMs: number;
  readonly thinkTimeMinMs: number;
  readonly thinkTimeMaxMs: number;
  readonly writesPerHoldMax: number;
  /** Chance, per write, of a pause between checking the lease and sending the write. */
  readonly pauseProbability: number;
  /** A pause lasts the lease's TTL plus this much. */
  readonly pauseBeyondTtlMinMs: number;
  readonly pauseBeyondTtlMaxMs: number;
  /** Chance that a cycle ends by walking away (no delete, no revoke): the lease must expire. */
  readonly abandonProbability: number;
  /** No new cycle starts after this virtual time. */
  readonly stopAtMs: number;
  /** Mutant: take the lock as soon as the key is written, without waiting for older keys. */
  readonly lockWithoutWaiting: boolean;
}

/** Counts shared by the clients of a run (figures for the report). */
export interface LockWorkloadStats {
  cycles: number;
  requests: number;
  grants: number;
  writesSent: number;
  writesAccepted: number;
  writesFenced: number;
  pauses: number;
  abandoned: number;
  /** Holders that stopped writing because their own clock said the lease had run out. */
  lapsed: number;
}

export function emptyLockWorkloadStats(): LockWorkloadStats {
  return {
    cycles: 0,
    requests: 0,
    grants: 0,
    writesSent: 0,
    writesAccepted: 0,
    writesFenced: 0,
    pauses: 0,
    abandoned: 0,
    lapsed: 0,
  };
}

/** What the clients of a run share. */
export interface LockClientWorld {
  readonly loop: EventLoop;
  readonly network: SimNetwork<ClientNetworkMessage>;
  readonly nodes: readonly string[];
  readonly grants: LockGrant[];
  readonly stats: LockWorkloadStats;
  readonly trace: (client: string, text: string) => void;
}

type Definite = Extract<NodeReply, { kind: 'applied' | 'refused' | 'read' }>;

interface HeldLease {
  readonly id: bigint;
  readonly ttlSeconds: number;
  /** By the client's clock: the send time of the last renewal the leader confirmed, plus the TTL. */
  validUntilLocalMs: number;
  /** A keep-alive was answered with TTL 0: the lease is gone. */
  lost: boolean;
}

type Phase = 'idle' | 'granting' | 'entering' | 'waiting' | 'holding' | 'releasing' | 'stopped';

/** Keep-alives re-sent at once after a "not leader" answer, per period. */
const KEEP_ALIVE_REDIRECTS_MAX = 2;
/** Lease ids: client number in the high half, cycle in the low half (unique per run). */
const LEASE_ID_CLIENT_SHIFT = 32n;

export class LockClient {
  readonly id: string;
  readonly clock: SimClock;
  private readonly index: number;
  private readonly world: LockClientWorld;
  private readonly random: Prng;
  private readonly options: LockClientOptions;
  /** Bumped whenever a cycle ends: callbacks of an older cycle find it changed and stop. */
  private generation = 0;
  private cycle = 0;
  private phase: Phase = 'idle';
  private lease: HeldLease | undefined;
  private lockName = '';
  private createRevision = 0;
  private pausedUntilMs = 0;
  private leaderGuess: string | undefined;
  private nextRequestId = 0;
  private readonly replies = new Map<string, (reply: NodeReply) => void>();
  private readonly acks = new Map<string, (ack: ResourceAck) => void>();

  constructor(
    index: number,
    clock: SimClock,
    world: LockClientWorld,
    random: Prng,
    options: LockClientOptions,
  ) {
    this.index = index;
    this.id = `c${index + 1}`;
    this.clock = clock;
    this.world = world;
    this.random = random;
    this.options = options;
  }

  /** Holds a lock as far as it knows (the client-isolation nemesis aims at holders). */
  get holding(): boolean {
    return this.phase === 'holding';
  }

  start(delayMs: number): void {
    this.after(delayMs, () => this.startCycle());
  }

  /** A message for this client; a paused client handles it when it wakes up. */
  receive(message: ClientNetworkMessage): void {
    this.whenAwake(() => {
      if (message.kind === 'reply') {
        const handler = this.replies.get(message.reply.requestId);
        this.replies.delete(message.reply.requestId);
        handler?.(message.reply);
      } else if (message.kind === 'writeAck') {
        const handler = this.acks.get(message.ack.writeId);
        this.acks.delete(message.ack.writeId);
        handler?.(message.ack);
      }
    });
  }

  // --- the cycle -------------------------------------------------------------------------------

  private startCycle(): void {
    const { loop, stats } = this.world;
    if (loop.now >= this.options.stopAtMs) {
      this.phase = 'stopped';
      return;
    }
    const generation = ++this.generation;
    this.cycle++;
    stats.cycles++;
    this.lockName = this.random.pick(this.options.lockNames);
    const { ttlSecondsMin, ttlSecondsMax } = this.options;
    const ttlSeconds = ttlSecondsMin + this.random.int(ttlSecondsMax - ttlSecondsMin + 1);
    const id = (BigInt(this.index + 1) << LEASE_ID_CLIENT_SHIFT) | BigInt(this.cycle);
    // Measured from before the first attempt: the lease cannot have started earlier.
    const lease: HeldLease = {
      id,
      ttlSeconds,
      validUntilLocalMs: this.clock.now() + ttlSeconds * 1_000,
      lost: false,
    };
    this.lease = lease;
    this.phase = 'granting';
    this.call(
      generation,
      'leader',
      (requestId) => propose(requestId, { kind: 'leaseGrant', id, ttl: ttlSeconds }),
      (reply) => {
        // "Already exists" answers a retry whose first attempt was applied: the lease is ours.
        if (reply.kind === 'refused' && reply.error.message !== LEASE_ERRORS.leaseExists.message) {
          this.endCycle('abandon', `lease grant refused: ${reply.error.message}`);
          return;
        }
        this.keepAliveLoop(generation, lease);
        this.enter(generation, lease);
      },
    );
  }

  private enter(generation: number, lease: HeldLease): void {
    this.phase = 'entering';
    const txn = enterTxn(this.lockName, lease.id);
    this.call(
      generation,
      'leader',
      (requestId) => propose(requestId, { kind: 'txn', request: txn }),
      (reply) => {
        if (reply.kind === 'refused') {
          this.release(generation, lease, `lease gone before entering (${reply.error.message})`);
          return;
        }
        if (reply.kind !== 'applied' || reply.response.kind !== 'txn')
          throw new Error(`${this.id}: the entering txn was answered with ${reply.kind}`);
        const outcome = readEnterAnswer(reply.response.response, reply.revision);
        if (outcome.kind === 'lost') {
          this.release(generation, lease, 'key gone before entering');
          return;
        }
        this.createRevision = outcome.createRevision;
        if (outcome.holds || this.options.lockWithoutWaiting) this.hold(generation, lease, reply.revision);
        else this.wait(generation, lease, this.world.loop.now);
      },
    );
  }

  private wait(generation: number, lease: HeldLease, sinceMs: number): void {
    this.phase = 'waiting';
    if (this.world.loop.now - sinceMs > this.options.maxWaitMs) {
      this.release(generation, lease, 'gave up waiting');
      return;
    }
    if (!this.believesLeaseValid(lease)) {
      this.release(generation, lease, 'lease lapsed while waiting');
      return;
    }
    const reads = waitReads(this.lockName, lease.id, this.createRevision);
    this.call(
      generation,
      'any',
      (requestId) => ({ kind: 'read', requestId, ranges: reads }),
      (reply) => {
        if (reply.kind !== 'read') throw new Error(`${this.id}: a wait read was answered with ${reply.kind}`);
        const outcome = readWaitAnswer(reply.responses, this.createRevision);
        if (outcome === 'holds') this.hold(generation, lease, reply.revision);
        else if (outcome === 'lost') this.release(generation, lease, 'key deleted while waiting');
        else
          this.after(
            this.options.pollIntervalMs,
            () => this.isCurrent(generation) && this.wait(generation, lease, sinceMs),
          );
      },
    );
  }

  private hold(generation: number, lease: HeldLease, readRevision: number): void {
    this.phase = 'holding';
    const grant: LockGrant = {
      atMs: this.world.loop.now,
      holder: this.holderName(),
      lock: this.lockName,
      key: contenderKey(this.lockName, lease.id),
      token: this.createRevision,
      readRevision,
    };
    this.world.grants.push(grant);
    this.world.stats.grants++;
    this.world.trace(
      this.id,
      `holds ${grant.lock} with token ${grant.token} (read at revision ${readRevision})`,
    );
    this.writeNext(generation, lease, 1 + this.random.int(this.options.writesPerHoldMax));
  }

  private writeNext(generation: number, lease: HeldLease, writesLeft: number): void {
    if (!this.isCurrent(generation)) return;
    if (!this.believesLeaseValid(lease)) {
      this.world.stats.lapsed++;
      this.release(generation, lease, 'lease ran out by my clock');
      return;
    }
    if (this.random.chance(this.options.pauseProbability)) {
      const { pauseBeyondTtlMinMs, pauseBeyondTtlMaxMs } = this.options;
      const pauseMs = lease.ttlSeconds * 1_000 + this.random.range(pauseBeyondTtlMinMs, pauseBeyondTtlMaxMs);
      this.pausedUntilMs = this.world.loop.now + pauseMs;
      this.world.stats.pauses++;
      this.world.trace(this.id, `pauses for ${pauseMs.toFixed(0)} ms holding token ${this.createRevision}`);
    }
    // After a pause the write goes out as if no time had passed: the lease was checked just before.
    this.after(0, () => this.sendWrite(generation, lease, writesLeft));
  }

  private sendWrite(generation: number, lease: HeldLease, writesLeft: number): void {
    const { network, stats } = this.world;
    const writeId = `${this.id}-w${this.nextRequestId++}`;
    let settled = false;
    const next = (): void => {
      if (!this.isCurrent(generation)) return;
      if (writesLeft > 1)
        this.after(this.thinkTimeMs(), () => this.writeNext(generation, lease, writesLeft - 1));
      else this.release(generation, lease, 'done');
    };
    this.acks.set(writeId, (ack) => {
      if (settled) return;
      settled = true;
      if (!ack.accepted) {
        stats.writesFenced++;
        if (this.isCurrent(generation))
          this.release(generation, lease, `write fenced (highest token ${ack.highestToken})`);
        return;
      }
      stats.writesAccepted++;
      next();
    });
    this.after(this.options.requestTimeoutMs, () => {
      if (settled) return;
      settled = true;
      this.acks.delete(writeId);
      next();
    });
    stats.writesSent++;
    const write = { writeId, resource: this.lockName, token: this.createRevision, holder: this.holderName() };
    network.send(this.id, RESOURCE_ID, { kind: 'write', write });
  }

  /** Unlock (delete the key), then revoke the lease; or, sometimes, walk away from both. */
  private release(generation: number, lease: HeldLease, why: string): void {
    if (!this.isCurrent(generation)) return;
    this.world.trace(this.id, `releases ${this.lockName}: ${why}`);
    if (this.random.chance(this.options.abandonProbability)) {
      this.endCycle('abandon', 'walks away from its lease');
      return;
    }
    this.phase = 'releasing';
    const unlock = releaseTxn(this.lockName, lease.id);
    this.call(
      generation,
      'leader',
      (requestId) => propose(requestId, { kind: 'txn', request: unlock }),
      () => {
        const revoke = { kind: 'leaseRevoke', id: lease.id } as const;
        // A revoke refused with "not found" means the lease already went: the cycle is over either way.
        this.call(
          generation,
          'leader',
          (requestId) => propose(requestId, revoke),
          () => this.endCycle('done', ''),
        );
      },
    );
  }

  private endCycle(how: 'done' | 'abandon', why: string): void {
    if (how === 'abandon') {
      this.world.stats.abandoned++;
      this.world.trace(this.id, `abandons lease: ${why}`);
    }
    this.generation++;
    this.lease = undefined;
    this.phase = 'idle';
    this.after(this.thinkTimeMs(), () => this.startCycle());
  }

  // --- lease keep-alive -------------------------------------------------------------------------

  private keepAliveLoop(generation: number, lease: HeldLease): void {
    afterLocalMs(this.world.loop, this.clock, (lease.ttlSeconds * 1_000) / 3, () =>
      this.whenAwake(() => {
        if (!this.isCurrent(generation) || this.lease !== lease) return;
        this.sendKeepAlive(lease, 0);
        this.keepAliveLoop(generation, lease);
      }),
    );
  }

  private sendKeepAlive(lease: HeldLease, redirects: number): void {
    const requestId = this.newRequestId();
    const sentLocalMs = this.clock.now();
    const target = this.leaderGuess ?? this.random.pick(this.world.nodes);
    this.replies.set(requestId, (reply) => {
      if (this.lease !== lease) return;
      if (reply.kind === 'keepAlive') {
        if (reply.ttlSeconds > 0)
          lease.validUntilLocalMs = Math.max(lease.validUntilLocalMs, sentLocalMs + reply.ttlSeconds * 1_000);
        else lease.lost = true;
      } else if (reply.kind === 'notLeader') {
        this.leaderGuess = reply.leader !== '' && reply.leader !== target ? reply.leader : undefined;
        if (redirects < KEEP_ALIVE_REDIRECTS_MAX)
          this.after(
            this.options.retryBackoffMs,
            () => this.lease === lease && this.sendKeepAlive(lease, redirects + 1),
          );
      }
    });
    // No retry on silence: the next period sends another.
    this.after(this.options.requestTimeoutMs, () => this.replies.delete(requestId));
    this.world.network.send(this.id, target, {
      kind: 'request',
      request: { kind: 'keepAlive', requestId, lease: lease.id },
    });
  }

  private believesLeaseValid(lease: HeldLease): boolean {
    return !lease.lost && this.clock.now() < lease.validUntilLocalMs;
  }

  // --- requests ---------------------------------------------------------------------------------

  /**
   * Sends a request until a definite answer: "not leader" follows the hint, a failure or silence
   * tries again (every request here is safe to repeat). Past the deadline the cycle is abandoned.
   */
  private call(
    generation: number,
    target: 'leader' | 'any',
    makeRequest: (requestId: string) => NodeRequest,
    onAnswer: (reply: Definite) => void,
  ): void {
    const deadlineMs = this.world.loop.now + this.options.callDeadlineMs;
    const attempt = (): void => {
      if (!this.isCurrent(generation)) return;
      if (this.world.loop.now >= deadlineMs) {
        this.endCycle('abandon', 'request deadline passed');
        return;
      }
      const requestId = this.newRequestId();
      const spread = target === 'any' && this.random.chance(0.5);
      const node = (spread ? undefined : this.leaderGuess) ?? this.random.pick(this.world.nodes);
      let settled = false;
      this.replies.set(requestId, (reply) => {
        if (settled || !this.isCurrent(generation)) return;
        settled = true;
        if (reply.kind === 'notLeader') {
          this.leaderGuess = reply.leader !== '' && reply.leader !== node ? reply.leader : undefined;
          this.after(this.options.retryBackoffMs, attempt);
        } else if (reply.kind === 'failed') {
          this.after(this.options.retryBackoffMs, attempt);
        } else if (reply.kind === 'keepAlive') {
          throw new Error(`${this.id}: a keep-alive answer for request ${requestId}`);
        } else {
          this.world.stats.requests++;
          onAnswer(reply);
        }
      });
      this.after(this.options.requestTimeoutMs, () => {
        if (settled) return;
        settled = true;
        this.replies.delete(requestId);
        this.leaderGuess = undefined; // that node may be down or cut off
        attempt();
      });
      this.world.network.send(this.id, node, { kind: 'request', request: makeRequest(requestId) });
    };
    attempt();
  }

  // --- time -------------------------------------------------------------------------------------

  /** Runs `callback` now, or when a pause ends: a paused process does nothing at all. */
  private whenAwake(callback: () => void): void {
    const { loop } = this.world;
    if (loop.now < this.pausedUntilMs) loop.scheduleAt(this.pausedUntilMs, () => this.whenAwake(callback));
    else callback();
  }

  private after(delayMs: number, callback: () => void): void {
    this.world.loop.schedule(delayMs, () => this.whenAwake(callback));
  }

  private isCurrent(generation: number): boolean {
    return generation === this.generation;
  }

  private thinkTimeMs(): number {
    return this.random.range(this.options.thinkTimeMinMs, this.options.thinkTimeMaxMs);
  }

  private newRequestId(): string {
    return `${this.id}-${this.nextRequestId++}`;
  }

  private holderName(): string {
    return `${this.id}#${this.cycle}`;
  }
}

function propose(
  requestId: string,
  command: Extract<NodeRequest, { kind: 'propose' }>['command'],
): NodeRequest {
  return { kind: 'propose', requestId, command };
}
