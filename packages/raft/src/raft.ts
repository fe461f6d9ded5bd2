// The Raft state machine of one group member: elections (pre-vote, check-quorum), the term rules
// every message passes through, and the follower/candidate side. The leader's replication lives
// in leader.ts. Pure: no I/O, no timers, no clock; time is tick(), randomness is injected.
import type { Mutation, RaftConfig } from './config.js';
import { RaftLog } from './log.js';
import { allMembers, isVoter } from './membership.js';
import type { JointVoters, VoteOutcome } from './quorum.js';
import { jointVote } from './quorum.js';
import { ReadOnlyQueue } from './read-only.js';
import { SnapshotReceiver } from './snapshot.js';
import type { Storage } from './storage.js';
import type {
  AppendMessage,
  ConfState,
  HeartbeatMessage,
  Message,
  NodeId,
  ReadState,
  Role,
  SnapshotChunkMessage,
  VoteMessage,
} from './types.js';
import { invariant, NO_NODE } from './types.js';

/** A message before the core stamps group, sender and (usually) term on it. */
export type OutgoingMessage = Message extends infer M
  ? M extends Message
    ? Omit<M, 'group' | 'from' | 'term'> & { term?: number }
    : never
  : never;

export abstract class RaftCore {
  readonly id: NodeId;
  readonly config: RaftConfig;
  readonly log: RaftLog;
  term = 0;
  vote: NodeId = NO_NODE;
  /** Leader hint: who we believe leads this term. */
  lead: NodeId = NO_NODE;
  role: Role = 'follower';
  confState: ConfState;
  /** Ticks since the last election timeout reset (followers: since leader contact). */
  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;
  /** Monotonic tick counter: the leader's lease clock. */
  tickCount = 0;
  protected readonly votes = new Map<NodeId, boolean>();
  /** Outbox, drained by ready(). */
  messages: Message[] = [];
  readStates: ReadState[] = [];
  /** Read contexts this node asked for that can no longer be served (leadership lost): fail them fast. */
  droppedReads: string[] = [];
  readonly readOnly: ReadOnlyQueue;
  protected readonly snapshotReceiver: SnapshotReceiver;

  constructor(config: RaftConfig, storage: Storage) {
    this.id = config.id;
    this.config = config;
    this.log = new RaftLog(storage);
    const { hardState, confState } = storage.initialState();
    this.term = hardState.term;
    this.vote = hardState.vote;
    this.confState = confState;
    this.readOnly = new ReadOnlyQueue(config.maxPendingReads);
    this.snapshotReceiver = new SnapshotReceiver(config.maxSnapshotBytes);
    this.resetRandomizedElectionTimeout();
  }

  has(mutation: Mutation): boolean {
    return this.config.mutations.size > 0 && this.config.mutations.has(mutation);
  }

  voters(): JointVoters {
    return { incoming: this.confState.voters, outgoing: this.confState.votersOutgoing };
  }

  /** May this node become leader? Learners and removed members may not. */
  promotable(): boolean {
    return isVoter(this.confState, this.id) && this.log.unstable().snapshot === undefined;
  }

  /** Stamps group, sender and term onto a freshly built message (in place: it is ours) and queues it. */
  send(message: OutgoingMessage): void {
    invariant(message.to !== this.id, `a node never sends ${message.type} to itself`);
    const stamped = message as { group?: string; from?: NodeId; term?: number };
    stamped.group = this.config.group;
    stamped.from = this.id;
    stamped.term ??= this.term;
    this.messages.push(message as Message);
  }

  tick(): void {
    this.tickCount++;
    if (this.role === 'leader') this.tickLeader();
    else this.tickElection();
  }

  protected tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.campaign(this.config.preVote ? 'preVote' : 'vote', false);
    }
  }

  /**
   * The driver lost its connection to `peer` (the process died or the link broke). If that was
   * our leader, stop waiting out a full election timeout for it: forget it (so leader stickiness
   * no longer refuses pre-votes) and campaign within a tick or two, the remaining voters in id
   * order so that they do not split the vote. Only timing changes: votes and terms decide as ever,
   * and a leader that is in fact alive keeps its followers through its next heartbeat.
   */
  leaderUnreachable(peer: NodeId): void {
    if (this.role === 'leader' || peer === NO_NODE || this.lead !== peer) return;
    const others = this.confState.voters.filter((voter) => voter !== peer).sort();
    const rank = Math.max(0, others.indexOf(this.id));
    this.lead = NO_NODE;
    this.electionElapsed = Math.max(this.electionElapsed, this.randomizedElectionTimeout - 1 - rank);
  }

  protected abstract tickLeader(): void;

  /** Starts an election now (pre-vote first unless `transfer`): used by timeouts, TimeoutNow and bootstrap. */
  campaign(kind: 'preVote' | 'vote', transfer: boolean): void {
    if (!this.promotable()) return;
    if (kind === 'preVote') this.becomePreCandidate();
    else this.becomeCandidate();
    const voteTerm = kind === 'preVote' ? this.term + 1 : this.term;
    this.votes.set(this.id, true);
    if (this.pollOutcome() === 'won') {
      // A single-voter configuration wins on its own vote.
      if (kind === 'preVote') this.campaign('vote', transfer);
      else this.becomeLeader();
      return;
    }
    for (const id of allMembers(this.confState)) {
      if (id === this.id || !isVoter(this.confState, id)) continue;
      this.send({
        type: kind,
        to: id,
        term: voteTerm,
        lastLogIndex: this.log.lastIndex(),
        lastLogTerm: this.log.lastTerm(),
        transfer,
      });
    }
  }

  protected pollOutcome(): VoteOutcome {
    return jointVote(this.voters(), this.votes);
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.role = 'follower';
    this.lead = lead;
  }

  protected becomePreCandidate(): void {
    invariant(this.role !== 'leader', 'a leader never becomes a pre-candidate');
    // Forget the leader (etcd #8334): otherwise check-quorum's lease keeps rejecting our pre-votes forever.
    this.role = 'preCandidate';
    this.lead = NO_NODE;
    this.votes.clear();
  }

  protected becomeCandidate(): void {
    invariant(this.role !== 'leader', 'a leader never becomes a candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
  }

  abstract becomeLeader(): void;

  /** Clears per-term volatile state; a new term also clears the vote. */
  protected reset(term: number): void {
    if (term !== this.term) {
      invariant(term > this.term, `term went back from ${this.term} to ${term}`);
      this.term = term;
      this.vote = NO_NODE;
    }
    this.lead = NO_NODE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.votes.clear();
    this.dropPendingReads();
  }

  protected dropPendingReads(): void {
    for (const read of this.readOnly.drain()) {
      if (read.requester === this.id) this.droppedReads.push(read.context);
      else this.send({ type: 'readIndexResponse', to: read.requester, context: read.context, index: -1 });
    }
  }

  protected resetRandomizedElectionTimeout(): void {
    const spread = Math.floor(this.config.random.next() * this.config.electionTicks);
    this.randomizedElectionTimeout = this.config.electionTicks + spread;
  }

  /** Every incoming message enters here. */
  step(message: Message): void {
    invariant(message.to === this.id, `message for ${message.to} delivered to ${this.id}`);
    if (message.group !== this.config.group) return;
    if (message.term > this.term && !this.stepHigherTerm(message)) return;
    if (message.term < this.term) {
      this.stepLowerTerm(message);
      return;
    }
    switch (message.type) {
      case 'vote':
      case 'preVote':
        this.handleVoteRequest(message);
        return;
      default:
        this.stepByRole(message);
    }
  }

  /** Returns false when the message must be ignored. */
  private stepHigherTerm(message: Message): boolean {
    if (message.type === 'vote' || message.type === 'preVote') {
      // Leader stickiness (thesis §4.2.3): while we hear from a leader, refuse to disrupt it.
      // With lease reads, a node that just booted may have been a follower of a leased leader: wait too.
      const mayBeFollowing =
        this.lead !== NO_NODE ||
        (this.config.readMode === 'lease' && this.tickCount < this.config.electionTicks);
      const inLease =
        this.config.checkQuorum && mayBeFollowing && this.electionElapsed < this.config.electionTicks;
      if (!message.transfer && inLease) return false;
    }
    if (message.type === 'preVote') return true; // a pre-vote never changes our term
    if (message.type === 'preVoteResponse' && !message.reject) return true; // counted in the campaign
    const fromLeader =
      message.type === 'append' || message.type === 'heartbeat' || message.type === 'snapshot';
    this.becomeFollower(message.term, fromLeader ? message.from : NO_NODE);
    return true;
  }

  private stepLowerTerm(message: Message): void {
    const fromStaleLeader = message.type === 'append' || message.type === 'heartbeat';
    if ((this.config.checkQuorum || this.config.preVote) && fromStaleLeader) {
      // Tell the stale leader about our term so it steps down (and a stuck pre-candidate recovers).
      this.send({
        type: 'appendResponse',
        to: message.from,
        reject: false,
        index: 0,
        rejectHint: 0,
        hintTerm: 0,
      });
    } else if (message.type === 'preVote') {
      this.send({ type: 'preVoteResponse', to: message.from, reject: true });
    }
  }

  private handleVoteRequest(message: VoteMessage): void {
    const canVote =
      this.vote === message.from ||
      (this.vote === NO_NODE && this.lead === NO_NODE) ||
      (message.type === 'preVote' && message.term > this.term);
    const upToDate =
      this.has('vote-without-log-check') || this.log.isUpToDate(message.lastLogIndex, message.lastLogTerm);
    const responseType = message.type === 'vote' ? 'voteResponse' : 'preVoteResponse';
    if (canVote && upToDate) {
      // A pre-vote is answered in the term it asks about, so the pre-candidate counts it.
      this.send({ type: responseType, to: message.from, term: message.term, reject: false });
      if (message.type === 'vote') {
        this.electionElapsed = 0;
        this.vote = message.from;
      }
    } else {
      this.send({ type: responseType, to: message.from, reject: true });
    }
  }

  protected stepByRole(message: Message): void {
    if (this.role === 'leader') this.stepLeader(message);
    else if (this.role === 'follower') this.stepFollower(message);
    else this.stepCandidate(message);
  }

  protected abstract stepLeader(message: Message): void;

  private stepCandidate(message: Message): void {
    switch (message.type) {
      case 'append':
      case 'heartbeat':
      case 'snapshot':
        // Someone won this term: follow it (§5.2).
        this.becomeFollower(message.term, message.from);
        this.stepFollower(message);
        return;
      case 'voteResponse':
      case 'preVoteResponse': {
        const expected = this.role === 'preCandidate' ? 'preVoteResponse' : 'voteResponse';
        if (message.type !== expected) return;
        this.votes.set(message.from, !message.reject);
        const outcome = this.pollOutcome();
        if (outcome === 'won') {
          if (this.role === 'preCandidate') this.campaign('vote', false);
          else this.becomeLeader();
        } else if (outcome === 'lost') {
          this.becomeFollower(this.term, NO_NODE);
        }
        return;
      }
      case 'readIndexResponse':
        this.handleReadIndexResponse(message.context, message.index);
        return;
      default:
        return;
    }
  }

  private stepFollower(message: Message): void {
    switch (message.type) {
      case 'append':
        this.electionElapsed = 0;
        this.lead = message.from;
        this.handleAppend(message);
        return;
      case 'heartbeat':
        this.electionElapsed = 0;
        this.lead = message.from;
        this.handleHeartbeat(message);
        return;
      case 'snapshot':
        this.electionElapsed = 0;
        this.lead = message.from;
        this.handleSnapshotChunk(message);
        return;
      case 'timeoutNow':
        // Leadership transfer (thesis §3.10): campaign at once, skipping pre-vote.
        this.campaign('vote', true);
        return;
      case 'readIndexResponse':
        this.handleReadIndexResponse(message.context, message.index);
        return;
      default:
        return;
    }
  }

  private handleReadIndexResponse(context: string, index: number): void {
    if (index < 0) this.droppedReads.push(context);
    else this.readStates.push({ index, context });
  }

  private handleAppend(message: AppendMessage): void {
    if (message.prevLogIndex < this.log.committed) {
      // Everything up to our commit index already matches the leader.
      this.send({
        type: 'appendResponse',
        to: message.from,
        reject: false,
        index: this.log.committed,
        rejectHint: 0,
        hintTerm: 0,
      });
      return;
    }
    const lastNewIndex = this.has('truncate-without-conflict')
      ? this.appendTruncatingBlindly(message)
      : this.log.maybeAppend(message.prevLogIndex, message.prevLogTerm, message.commit, message.entries);
    if (lastNewIndex !== undefined) {
      this.send({
        type: 'appendResponse',
        to: message.from,
        reject: false,
        index: lastNewIndex,
        rejectHint: 0,
        hintTerm: 0,
      });
      return;
    }
    const hint = this.log.findConflictByTerm(
      Math.min(message.prevLogIndex, this.log.lastIndex()),
      message.prevLogTerm,
    );
    this.send({
      type: 'appendResponse',
      to: message.from,
      reject: true,
      index: message.prevLogIndex,
      rejectHint: hint.index,
      hintTerm: hint.term,
    });
  }

  /** Mutation 'truncate-without-conflict': drops our suffix after prevLogIndex unconditionally. */
  private appendTruncatingBlindly(message: AppendMessage): number | undefined {
    if (!this.log.matchTerm(message.prevLogIndex, message.prevLogTerm)) return undefined;
    this.log.forceTruncateAfter(message.prevLogIndex, message.entries);
    const lastNewIndex = message.prevLogIndex + message.entries.length;
    this.log.commitTo(Math.min(message.commit, lastNewIndex));
    return lastNewIndex;
  }

  private handleHeartbeat(message: HeartbeatMessage): void {
    this.log.commitTo(Math.min(message.commit, this.log.lastIndex()));
    this.send({
      type: 'heartbeatResponse',
      to: message.from,
      context: message.context,
      sentTick: message.sentTick,
    });
  }

  private handleSnapshotChunk(message: SnapshotChunkMessage): void {
    const { index, term } = message.metadata;
    const respond = (receivedBytes: number, done: boolean) =>
      this.send({ type: 'snapshotResponse', to: message.from, snapshotIndex: index, receivedBytes, done });
    if (index <= this.log.committed) {
      // Already have everything the snapshot holds: report done so the leader probes from our log.
      this.snapshotReceiver.reset();
      respond(message.totalBytes, true);
      return;
    }
    const outcome = this.snapshotReceiver.receive(message);
    if (outcome.kind === 'restart') respond(-1, false);
    else if (outcome.kind === 'progress') respond(outcome.receivedBytes, false);
    else {
      if (this.log.matchTerm(index, term)) {
        this.log.commitTo(index); // our log already holds it: fast-forward instead of restoring
      } else {
        this.log.restore(outcome.snapshot);
        this.confState = outcome.snapshot.metadata.confState;
      }
      respond(message.totalBytes, true);
    }
  }
}
