// The leader side of Raft and the client-facing operations: replication with pipelining and
// fast backtracking, commit, snapshots in chunks, ReadIndex and lease reads, membership changes
// and leadership transfer. `Raft` is the complete state machine; drive it through RawNode.
import { allMembers, applyConfChange, encodeConfChange, isJoint, isLearner, isVoter } from './membership.js';
import { Progress } from './progress.js';
import { hasQuorum, jointCommitIndex } from './quorum.js';
import { RaftCore } from './raft.js';
import type {
  AppendResponseMessage,
  ConfChange,
  ConfState,
  Entry,
  EntryKind,
  HeartbeatResponseMessage,
  Message,
  NodeId,
  SnapshotResponseMessage,
} from './types.js';
import { entryBytes, invariant, NO_NODE } from './types.js';

export type ProposeResult =
  | { readonly ok: true; readonly index: number; readonly term: number }
  | {
      readonly ok: false;
      readonly reason:
        | 'notLeader'
        | 'transferring'
        | 'overloaded'
        | 'confChangePending'
        | 'invalidConfChange';
      readonly leader: NodeId;
      readonly detail?: string;
    };

export type ReadIndexResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'noLeader' | 'overloaded' | 'duplicateContext' };

export class Raft extends RaftCore {
  /** Leader only: replication state per member (self included). */
  readonly progress = new Map<NodeId, Progress>();
  /** Leader only: the transfer target, while a leadership transfer runs. */
  leadTransferee: NodeId = NO_NODE;
  /** Index of the latest config entry; a new change waits until it is applied. */
  pendingConfIndex = 0;
  uncommittedBytes = 0;
  /** Leader only: (index, bytes) of entries this leader appended that are not committed yet. */
  private uncommittedSizes: { index: number; bytes: number }[] = [];
  /** ReadIndex requests that arrived before this leader committed an entry of its term (thesis §6.4 step 1). */
  private readsAwaitingCommit: { context: string; requester: NodeId }[] = [];
  private broadcastPending = false;

  // ─── Leader transitions ────────────────────────────────────────────────────

  override becomeLeader(): void {
    invariant(this.role === 'candidate', `becomeLeader from ${this.role}`);
    this.reset(this.term);
    this.role = 'leader';
    this.lead = this.id;
    this.rebuildProgress();
    // Conservative: no membership change until everything in our log is applied.
    this.pendingConfIndex = this.log.lastIndex();
    // An empty entry of our term: committing it commits everything before it (§5.4.2, §8).
    this.appendEntries([{ kind: 'normal', data: new Uint8Array(0) }]);
  }

  protected override reset(term: number): void {
    super.reset(term);
    this.progress.clear();
    this.leadTransferee = NO_NODE;
    this.pendingConfIndex = 0;
    this.uncommittedBytes = 0;
    this.uncommittedSizes = [];
    for (const read of this.readsAwaitingCommit) {
      if (read.requester === this.id) this.droppedReads.push(read.context);
      else this.send({ type: 'readIndexResponse', to: read.requester, context: read.context, index: -1 });
    }
    this.readsAwaitingCommit = [];
    this.broadcastPending = false;
  }

  private rebuildProgress(): void {
    const previous = new Map(this.progress);
    this.progress.clear();
    for (const id of allMembers(this.confState)) {
      const existing = previous.get(id);
      const learner = isLearner(this.confState, id);
      if (existing && existing.isLearner === learner) {
        this.progress.set(id, existing);
        continue;
      }
      const fresh = new Progress(
        this.log.lastIndex() + 1,
        this.config.maxInflightMessages,
        this.config.maxInflightBytes,
        learner,
      );
      if (existing) {
        fresh.match = existing.match;
        fresh.next = existing.next;
      }
      if (id === this.id) {
        fresh.match = this.log.stableLastIndex();
        fresh.becomeReplicate();
      }
      fresh.recentActive = true;
      this.progress.set(id, fresh);
    }
  }

  protected override tickLeader(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.config.electionTicks) {
      this.electionElapsed = 0;
      if (this.config.checkQuorum && !this.checkQuorumActive()) {
        // Raft thesis §6.2: a leader that cannot reach a quorum steps down, so clients go elsewhere.
        this.becomeFollower(this.term, NO_NODE);
        return;
      }
      this.leadTransferee = NO_NODE; // a transfer that did not finish in an election timeout is abandoned
    }
    if (this.heartbeatElapsed >= this.config.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.broadcastHeartbeat(this.readOnly.lastContext());
    }
    for (const [id, progress] of this.progress) {
      if (id === this.id || progress.state !== 'snapshot') continue;
      progress.snapshotStalledTicks++;
      if (progress.snapshotStalledTicks >= this.config.electionTicks) {
        // The chunk or its answer was lost: send the current chunk again.
        progress.snapshotStalledTicks = 0;
        progress.snapshotInFlight = false;
        this.sendSnapshotChunk(id, progress);
      }
    }
  }

  private checkQuorumActive(): boolean {
    const active = hasQuorum(
      this.voters(),
      (id) => id === this.id || this.progress.get(id)?.recentActive === true,
    );
    for (const [id, progress] of this.progress) if (id !== this.id) progress.recentActive = false;
    return active;
  }

  // ─── Proposals ─────────────────────────────────────────────────────────────

  /** Appends a command to the log (leader only). The entry is replicated with the next Ready. */
  propose(data: Uint8Array): ProposeResult {
    return this.proposeEntry('normal', data);
  }

  /**
   * On a follower: forwards commands to the leader (etcd's MsgProp forwarding). There is no answer;
   * the caller recognises its command when it is applied, or times out. Returns false without a leader.
   */
  forwardProposal(entries: readonly Uint8Array[]): boolean {
    if (this.role === 'leader') {
      for (const data of entries) this.proposeEntry('normal', data);
      return true;
    }
    if (this.lead === NO_NODE) return false;
    this.send({ type: 'propose', to: this.lead, entries });
    return true;
  }

  /** Proposes a membership change (leader only; one at a time, after the leader committed in its term). */
  proposeConfChange(change: ConfChange): ProposeResult {
    if (this.role !== 'leader') return { ok: false, reason: 'notLeader', leader: this.lead };
    if (this.pendingConfIndex > this.log.applied || !this.committedEntryInCurrentTerm()) {
      // Ongaro's single-server change fix: wait for an entry of our own term to commit first.
      return { ok: false, reason: 'confChangePending', leader: this.lead };
    }
    const result = applyConfChange(this.confState, change);
    if (!result.ok)
      return { ok: false, reason: 'invalidConfChange', leader: this.lead, detail: result.reason };
    const proposed = this.proposeEntry('config', encodeConfChange(change));
    if (proposed.ok) this.pendingConfIndex = proposed.index;
    return proposed;
  }

  private proposeEntry(kind: EntryKind, data: Uint8Array): ProposeResult {
    if (this.role !== 'leader') return { ok: false, reason: 'notLeader', leader: this.lead };
    if (this.leadTransferee !== NO_NODE) return { ok: false, reason: 'transferring', leader: this.lead };
    if (
      this.uncommittedBytes + data.byteLength > this.config.maxUncommittedBytes &&
      this.uncommittedBytes > 0
    ) {
      return { ok: false, reason: 'overloaded', leader: this.lead };
    }
    const index = this.appendEntries([{ kind, data }]);
    return { ok: true, index, term: this.term };
  }

  private appendEntries(entries: readonly { kind: EntryKind; data: Uint8Array }[]): number {
    let index = this.log.lastIndex();
    // A literal, not `{ ...entry, term, index }`: optimized code gives each spread copy its own
    // hidden class, which the log then keeps alive (about 230 bytes per entry).
    const stamped: Entry[] = entries.map((entry) => ({
      term: this.term,
      index: ++index,
      kind: entry.kind,
      data: entry.data,
    }));
    for (const entry of stamped) {
      const bytes = entryBytes(entry);
      this.uncommittedBytes += bytes;
      this.uncommittedSizes.push({ index: entry.index, bytes });
    }
    this.log.append(stamped);
    // Replication is sent once per Ready (flushBroadcast), so a burst of proposals shares messages.
    this.broadcastPending = true;
    return index;
  }

  /** Sends what proposals since the last Ready appended. Called by RawNode before collecting messages. */
  flushBroadcast(): void {
    if (!this.broadcastPending) return;
    this.broadcastPending = false;
    if (this.role === 'leader') this.broadcastAppend();
  }

  hasPendingBroadcast(): boolean {
    return this.broadcastPending;
  }

  committedEntryInCurrentTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }

  // ─── Reads ─────────────────────────────────────────────────────────────────

  /**
   * Requests a linearizable read point. A ReadState with `context` appears in a later Ready;
   * serve the read once the application has applied up to its index.
   */
  readIndex(context: string): ReadIndexResult {
    if (this.role !== 'leader') {
      if (this.lead === NO_NODE) return { ok: false, reason: 'noLeader' };
      this.send({ type: 'readIndex', to: this.lead, context });
      return { ok: true };
    }
    return this.leaderReadIndex(context, this.id);
  }

  private leaderReadIndex(context: string, requester: NodeId): ReadIndexResult {
    // Also among reads waiting for our first commit: both would be accepted, and re-queueing them
    // after the commit would refuse the second with no one to tell.
    if (this.readOnly.has(context) || this.readsAwaitingCommit.some((read) => read.context === context)) {
      return { ok: false, reason: 'duplicateContext' };
    }
    if (this.readOnly.full() || this.readsAwaitingCommit.length >= this.config.maxPendingReads) {
      return { ok: false, reason: 'overloaded' };
    }
    if (!this.committedEntryInCurrentTerm()) {
      this.readsAwaitingCommit.push({ context, requester });
      return { ok: true };
    }
    const index = this.log.committed;
    const singleVoter = this.confState.voters.length === 1 && !isJoint(this.confState);
    if (singleVoter || this.has('read-index-without-quorum') || this.leaseValid()) {
      this.releaseRead(context, index, requester);
      return { ok: true };
    }
    this.readOnly.add(context, index, requester);
    this.readOnly.acknowledge(context, this.id);
    this.broadcastHeartbeat(context);
    return { ok: true };
  }

  /**
   * Lease reads: followers refuse votes for electionTicks after hearing from us, so while a quorum
   * echoed a heartbeat sent less than (electionTicks − drift) ticks ago, no other leader can exist.
   */
  private leaseValid(): boolean {
    if (this.config.readMode !== 'lease' || this.leadTransferee !== NO_NODE) return false;
    const echoed = [...this.progress.entries()]
      .filter(([id]) => isVoter(this.confState, id))
      .map(([id, progress]) => [id, id === this.id ? this.tickCount : progress.lastEchoedTick] as const);
    const leaseTicks = this.config.electionTicks - this.config.leaseDriftTicks;
    return hasQuorum(this.voters(), (id) => {
      const tick = echoed.find(([voter]) => voter === id)?.[1] ?? Number.NEGATIVE_INFINITY;
      return this.tickCount - tick < leaseTicks;
    });
  }

  private releaseRead(context: string, index: number, requester: NodeId): void {
    if (requester === this.id) this.readStates.push({ index, context });
    else this.send({ type: 'readIndexResponse', to: requester, context, index });
  }

  // ─── Leadership transfer ───────────────────────────────────────────────────

  /** Hands leadership to `target` (thesis §3.10): catch it up, then tell it to campaign now. */
  transferLeadership(target: NodeId): boolean {
    if (this.role !== 'leader' || target === this.id || !isVoter(this.confState, target)) return false;
    const progress = this.progress.get(target);
    if (!progress) return false;
    this.leadTransferee = target;
    this.electionElapsed = 0; // the transfer must finish within one election timeout
    if (progress.match === this.log.lastIndex()) this.send({ type: 'timeoutNow', to: target });
    else this.sendAppend(target, true);
    return true;
  }

  // ─── Leader message handling ───────────────────────────────────────────────

  protected override stepLeader(message: Message): void {
    const progress = this.progress.get(message.from);
    switch (message.type) {
      case 'appendResponse':
        if (progress) this.handleAppendResponse(message, progress);
        return;
      case 'heartbeatResponse':
        if (progress) this.handleHeartbeatResponse(message, progress);
        return;
      case 'snapshotResponse':
        if (progress) this.handleSnapshotResponse(message, progress);
        return;
      case 'propose':
        // Forwarded proposals: refused ones are simply dropped; the follower's client times out.
        for (const data of message.entries) this.proposeEntry('normal', data);
        return;
      case 'readIndex':
        if (!this.leaderReadIndex(message.context, message.from).ok) {
          this.send({ type: 'readIndexResponse', to: message.from, context: message.context, index: -1 });
        }
        return;
      case 'readIndexResponse':
        // A read we forwarded before winning this term: its old leader can only refuse it now, and
        // ignoring the refusal would leave the read neither served nor dropped.
        if (message.index < 0) this.droppedReads.push(message.context);
        return;
      default:
        return;
    }
  }

  private handleAppendResponse(message: AppendResponseMessage, progress: Progress): void {
    progress.recentActive = true;
    if (message.reject) {
      let hint = message.rejectHint;
      if (message.hintTerm > 0)
        hint = this.log.findConflictByTerm(message.rejectHint, message.hintTerm).index;
      if (progress.maybeDecrease(message.index, hint)) {
        if (progress.state === 'replicate') progress.becomeProbe();
        this.sendAppend(message.from, true);
      }
      return;
    }
    const updated = progress.maybeUpdate(message.index);
    // A probe answered exactly at matchIndex (e.g. right after a snapshot set it) still shows the
    // follower holds our log up to there: replicate instead of staying paused until a heartbeat
    // (etcd: `MaybeUpdate(m.Index) || (pr.Match == m.Index && pr.State == StateProbe)`).
    if (!updated && !(progress.state === 'probe' && message.index === progress.match)) return;
    if (progress.state === 'probe') progress.becomeReplicate();
    else if (progress.state === 'replicate') progress.inflights.freeTo(message.index);
    if (this.maybeCommit()) this.broadcastAppend();
    else this.sendPipelined(message.from);
    if (message.from === this.leadTransferee && progress.match === this.log.lastIndex()) {
      this.send({ type: 'timeoutNow', to: message.from });
    }
  }

  /** Fills the follower's pipeline window with what it lacks. */
  private sendPipelined(to: NodeId): void {
    for (let sent = 0; sent < this.config.maxInflightMessages; sent++) {
      if (!this.sendAppend(to, false)) return;
    }
  }

  private handleHeartbeatResponse(message: HeartbeatResponseMessage, progress: Progress): void {
    progress.recentActive = true;
    progress.lastEchoedTick = Math.max(progress.lastEchoedTick, message.sentTick);
    progress.probeSent = false;
    if (progress.state === 'replicate' && progress.inflights.full()) {
      // The follower is alive but the window is not draining: its answers (or our appends) were lost,
      // and nothing else would reopen the window. An empty append at the window's end asks where it
      // stands without sending more entries: its answer frees the window or falls back to probing.
      this.sendEmptyAppend(message.from, progress);
    } else if (progress.match < this.log.lastIndex()) this.sendAppend(message.from, true);
    if (message.context === '' || !this.readOnly.has(message.context)) return;
    const acks = this.readOnly.acknowledge(message.context, message.from)!;
    if (!hasQuorum(this.voters(), (id) => acks.has(id))) return;
    for (const read of this.readOnly.releaseThrough(message.context)) {
      this.releaseRead(read.context, read.index, read.requester);
    }
  }

  private handleSnapshotResponse(message: SnapshotResponseMessage, progress: Progress): void {
    progress.recentActive = true;
    if (progress.state !== 'snapshot' || message.snapshotIndex !== progress.pendingSnapshotIndex) return;
    progress.snapshotInFlight = false;
    progress.snapshotStalledTicks = 0;
    if (message.done) {
      progress.maybeUpdate(message.snapshotIndex);
      progress.becomeProbe();
      this.sendAppend(message.from, true);
      return;
    }
    if (message.receivedBytes < 0 && progress.snapshotOffsetBytes === 0) {
      // Refused from its first byte (e.g. above the follower's size limit): re-sending now would loop
      // as fast as the network goes (redpanda#3245). The stall timer retries after an election timeout.
      return;
    }
    progress.snapshotOffsetBytes = Math.max(message.receivedBytes, 0);
    this.sendSnapshotChunk(message.from, progress);
  }

  // ─── Replication ───────────────────────────────────────────────────────────

  broadcastAppend(): void {
    for (const id of this.progress.keys()) if (id !== this.id) this.sendAppend(id, true);
  }

  private broadcastHeartbeat(context: string): void {
    for (const [id, progress] of this.progress) {
      if (id === this.id) continue;
      // Never tell a follower to commit beyond what it is known to hold.
      const commit = Math.min(progress.match, this.log.committed);
      this.send({ type: 'heartbeat', to: id, commit, context, sentTick: this.tickCount });
    }
  }

  /** Sends the next append to `to`. Returns whether a message was sent. */
  sendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const progress = this.progress.get(to);
    if (!progress || progress.isPaused()) return false;
    const prevLogIndex = progress.next - 1;
    const prevLogTerm = this.log.term(prevLogIndex);
    if (prevLogTerm === undefined || progress.next < this.log.firstIndex()) {
      this.startSnapshot(to, progress);
      return true;
    }
    const lastIndex = this.log.lastIndex();
    const entries =
      progress.next <= lastIndex
        ? this.log.slice(
            progress.next,
            Math.min(lastIndex + 1, progress.next + this.config.maxEntriesPerMessage),
            this.config.maxBytesPerMessage,
          )
        : [];
    if (entries.length === 0 && !sendIfEmpty) return false;
    let bytes = 0;
    for (const entry of entries) bytes += entryBytes(entry);
    const last = entries.length > 0 ? entries[entries.length - 1]!.index : prevLogIndex;
    this.send({ type: 'append', to, prevLogIndex, prevLogTerm, entries, commit: this.log.committed });
    progress.sentEntries(last, entries.length, bytes);
    return true;
  }

  /** An append without entries right after what was last sent: bypasses a full window, adds nothing to it. */
  private sendEmptyAppend(to: NodeId, progress: Progress): void {
    const prevLogIndex = progress.next - 1;
    const prevLogTerm = this.log.term(prevLogIndex);
    if (prevLogTerm === undefined) return; // compacted meanwhile: the next rejection leads to a snapshot
    this.send({ type: 'append', to, prevLogIndex, prevLogTerm, entries: [], commit: this.log.committed });
  }

  private startSnapshot(to: NodeId, progress: Progress): void {
    const snapshot = this.log.storage.snapshot();
    invariant(snapshot.metadata.index > 0, 'a follower needs a snapshot but none exists');
    progress.becomeSnapshot(snapshot.metadata.index);
    this.sendSnapshotChunk(to, progress);
  }

  private sendSnapshotChunk(to: NodeId, progress: Progress): void {
    const snapshot = this.log.storage.snapshot();
    if (snapshot.metadata.index !== progress.pendingSnapshotIndex) {
      // A newer snapshot replaced the one in transfer: start over with it.
      progress.becomeSnapshot(snapshot.metadata.index);
    }
    const offset = progress.snapshotOffsetBytes;
    const end = Math.min(snapshot.data.byteLength, offset + this.config.snapshotChunkBytes);
    this.send({
      type: 'snapshot',
      to,
      metadata: snapshot.metadata,
      offset,
      totalBytes: snapshot.data.byteLength,
      chunk: snapshot.data.subarray(offset, end),
      done: end === snapshot.data.byteLength,
    });
    progress.snapshotInFlight = true;
  }

  /** Advances the commit index to what a quorum (both halves when joint) has persisted. */
  maybeCommit(): boolean {
    const index = jointCommitIndex(
      this.voters(),
      (id) => (id === this.id ? this.log.stableLastIndex() : (this.progress.get(id)?.match ?? 0)),
      this.has('commit-quorum-off-by-one'),
    );
    if (!this.log.maybeCommit(index, this.term, this.has('commit-previous-term-by-counting'))) return false;
    this.afterCommit();
    return true;
  }

  private afterCommit(): void {
    let released = 0;
    while (
      released < this.uncommittedSizes.length &&
      this.uncommittedSizes[released]!.index <= this.log.committed
    ) {
      this.uncommittedBytes -= this.uncommittedSizes[released]!.bytes;
      released++;
    }
    if (released > 0) this.uncommittedSizes.splice(0, released);
    if (this.readsAwaitingCommit.length > 0 && this.committedEntryInCurrentTerm()) {
      const waiting = this.readsAwaitingCommit;
      this.readsAwaitingCommit = [];
      for (const read of waiting) this.leaderReadIndex(read.context, read.requester);
    }
  }

  // ─── Driver callbacks (RawNode.advance) ────────────────────────────────────

  /** The driver persisted entries through (index, term). */
  onPersisted(index: number, term: number): void {
    this.log.stableTo(index, term);
    if (this.role !== 'leader') return;
    const self = this.progress.get(this.id);
    if (self) self.maybeUpdate(this.log.stableLastIndex());
    if (this.maybeCommit()) this.broadcastAppend();
  }

  /**
   * Leader only: proposes leaving an auto-leave joint configuration once the latest config entry is
   * applied. Checked after every apply, not only when the joint entry is applied: a leader elected
   * after its predecessor entered the joint configuration must leave it too (etcd's appliedTo).
   */
  maybeAutoLeave(): void {
    if (this.role !== 'leader' || !isJoint(this.confState) || !this.confState.autoLeave) return;
    if (this.log.applied < this.pendingConfIndex) return;
    const left = this.proposeEntry('config', encodeConfChange({ changes: [], transition: 'auto' }));
    if (left.ok) this.pendingConfIndex = left.index;
  }

  /** The application applied a config entry: the new membership takes effect now (etcd-style). */
  applyConfigEntry(_entry: Entry, change: ConfChange): ConfState | undefined {
    const result = applyConfChange(this.confState, change);
    if (!result.ok) return undefined; // validated at proposal; a stale or duplicate change is a no-op
    this.confState = result.confState;
    if (this.role !== 'leader') return this.confState;
    if (!isVoter(this.confState, this.id) && !isJoint(this.confState)) {
      // A removed (or demoted) leader steps down (etcd-io/raft#83).
      this.becomeFollower(this.term, NO_NODE);
      return this.confState;
    }
    this.rebuildProgress();
    if (this.leadTransferee !== NO_NODE && !isVoter(this.confState, this.leadTransferee))
      this.leadTransferee = NO_NODE;
    this.maybeAutoLeave();
    this.maybeCommit();
    this.broadcastAppend(); // new members start receiving, and a quorum change may have moved the commit
    return this.confState;
  }
}
