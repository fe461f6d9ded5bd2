// The replicated state behind the etcd API, independent of gRPC: commands go through the Raft log
// (proposed here or forwarded to the leader) and are answered when this member applies them;
// linearizable reads wait for a ReadIndex point, serializable reads are served locally.
import { randomBytes } from 'node:crypto';
import type { ConfChange, Entry, Snapshot } from '@synod/raft';
import { decodeConfChange } from '@synod/raft';
import type {
  ClusterApplied,
  ClusterCommand,
  ClusterSnapshotBuilder,
  EtcdError,
  KvEvent,
  KvWriteRequest,
  KvWriteResponse,
  MemberChangeContext,
  PutRequest,
  RangeRequest,
  RangeResponse,
} from '@synod/state';
import { ClusterState, ETCD_ERRORS, ETCD_LIMITS } from '@synod/state';
import type { RaftDriver, StateMachine } from '../raft-driver/raft-driver.js';
import { NotLeaderError } from '../raft-driver/raft-driver.js';
import { IntMap } from '../util/int-map.js';
import { commandRequirement, currentRequester } from './auth-guard.js';
import { decodeCommand, encodeCommand, type LoggedCommand, ownPutSequence } from './command-codec.js';
import { startApplySpan, startProposeSpans } from './raft-spans.js';

export type StateResult<T> =
  | { readonly ok: true; readonly value: T; readonly revision: number }
  | { readonly ok: false; readonly error: EtcdError };

/** What a membership conf change carries in its context: who asked, and the member's details. */
interface LoggedMemberChange extends MemberChangeContext {
  readonly origin: string;
  readonly sequence: number;
}

/** How often waiting proposals are checked against their deadline. */
const EXPIRY_CHECK_MS = 100;
/** How often a request waiting for an election checks for a leader. */
const LEADER_POLL_MS = 10;

interface PendingProposal {
  /**
   * Cleared once answered: the map's old tables may still point at this record until the next full
   * collection, and must not keep the caller's promise (and the whole call behind it) alive meanwhile.
   */
  resolve: ((result: StateResult<ClusterApplied | undefined>) => void) | undefined;
  /** When the caller gives up (Date.now() ms): then the outcome is unknown to it (indeterminate). */
  readonly deadline: number;
  /**
   * A put as proposed, applied as is when its entry comes back instead of being decoded again.
   * The store keeps its key and value, so they must be arrays of their own: KV.Put's decoder
   * copies them (ProtoReader.bytes), and a Buffer (perhaps a view of Node's shared pool) is never
   * kept this way (see plainArrays). Undefined for other commands.
   */
  readonly put: LoggedCommand | undefined;
}

export interface StateServiceOptions {
  readonly nodeId: string;
  readonly driver: () => RaftDriver;
  readonly createState: (snapshot: Uint8Array | undefined) => ClusterState;
  /** etcd answers "request timed out" after 5 s plus two election timeouts. */
  readonly requestTimeoutMs: number;
  /** Bound on proposals waiting for their entry to apply. */
  readonly maxPendingWrites: number;
  /** etcd's --max-request-bytes: a larger write is refused before it is proposed. */
  readonly maxRequestBytes?: number;
  /** etcd's --quota-backend-bytes: a write that would grow the store past it raises NOSPACE. */
  readonly quotaBytes?: number;
  /** This member's id, named in the alarms it raises. */
  readonly memberId?: bigint;
  /** Called after every applied command that changed keys (watchers, leases). */
  readonly onEvents?: (events: readonly KvEvent[], revision: number) => void;
  /** Called for every applied command with its outcome, in log order (leases follow grants/revokes). */
  readonly onApplied?: (command: ClusterCommand, outcome: ClusterApplied | { error: EtcdError }) => void;
  /** Called for every command this member proposes (metrics). */
  readonly onPropose?: () => void;
  /** Called after a snapshot replaced the whole state (watchers must resynchronise). */
  readonly onRestore?: (state: ClusterState) => void;
}

export class StateService implements StateMachine {
  private current: ClusterState;
  private readonly options: StateServiceOptions;
  /** Proposals waiting to be applied here, by sequence (an IntMap: see there why not a Map). */
  private readonly pending = new IntMap<PendingProposal>();
  private nextSequence = 0;
  private expiryTimer: ReturnType<typeof setInterval> | undefined;
  /** Unique per process start, so entries proposed before a restart never answer new requests. */
  private readonly origin: string;

  constructor(options: StateServiceOptions) {
    this.options = options;
    this.origin = `${options.nodeId}/${randomBytes(8).toString('hex')}`;
    this.current = options.createState(undefined);
  }

  /** The replicated state as applied on this member (read-only use: serializable reads). */
  get state(): ClusterState {
    return this.current;
  }

  get revision(): number {
    return this.current.kv.currentRevision;
  }

  get pendingProposals(): number {
    return this.pending.size;
  }

  /**
   * Like etcd, a request made while no leader is known waits for one (an election usually takes
   * about one election timeout) instead of failing at once; it fails after the request timeout.
   */
  async waitForLeader(): Promise<boolean> {
    const deadline = Date.now() + this.options.requestTimeoutMs;
    while (this.options.driver().node.raft.lead === '') {
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, LEADER_POLL_MS));
    }
    return true;
  }

  /** Replicates `command`; resolves with what applying it answered on this member. */
  propose(command: ClusterCommand): Promise<StateResult<ClusterApplied>> {
    if (this.pending.size >= this.options.maxPendingWrites) {
      return Promise.resolve({ ok: false, error: ETCD_ERRORS.tooManyRequests });
    }
    // Plain promises rather than an async function: this runs for every write, and each async
    // frame is a generator and promises for the GC. It waits only while no leader is known.
    if (this.options.driver().node.raft.lead === '') {
      return this.waitForLeader().then(
        (found): Promise<StateResult<ClusterApplied>> | StateResult<ClusterApplied> =>
          found ? this.proposeNow(command) : { ok: false, error: ETCD_ERRORS.noLeader },
      );
    }
    try {
      return this.proposeNow(command);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Encodes, checks and proposes `command` (a leader is known); resolves once applied here. */
  private proposeNow(command: ClusterCommand): Promise<StateResult<ClusterApplied>> {
    const sequence = this.nextSequence++;
    const requester = currentRequester();
    const spans = startProposeSpans();
    let logged: LoggedCommand = { origin: this.origin, sequence, command };
    if (requester || spans) {
      logged = { ...logged, ...(requester ? { requester } : {}), ...(spans ? { trace: spans.carried } : {}) };
    }
    const data = encodeCommand(logged);
    if (data.byteLength > (this.options.maxRequestBytes ?? ETCD_LIMITS.maxRequestBytes)) {
      spans?.fail('request too large');
      return Promise.resolve({ ok: false, error: ETCD_ERRORS.requestTooLarge });
    }
    if (growsStore(command) && this.overQuota(data.byteLength)) {
      spans?.fail('no space');
      return Promise.resolve({ ok: false, error: ETCD_ERRORS.noSpace });
    }
    try {
      this.options.driver().propose(data);
    } catch (error) {
      spans?.fail('no leader');
      if (error instanceof NotLeaderError) return Promise.resolve({ ok: false, error: ETCD_ERRORS.noLeader });
      throw error;
    }
    this.options.onPropose?.();
    spans?.proposed();
    const keptPut = command.kind === 'put' && plainArrays(command.request) ? logged : undefined;
    const applied = this.awaitApply(sequence, keptPut) as Promise<StateResult<ClusterApplied>>;
    if (spans === undefined) return applied;
    return applied.then((result) => {
      spans.committed(result.ok);
      return result;
    });
  }

  /**
   * Proposes a membership change on the leader (the caller forwards to the leader otherwise);
   * resolves once this member applied the conf-change entry.
   */
  async proposeMemberChange(
    change: Omit<ConfChange, 'context'>,
    member: MemberChangeContext,
  ): Promise<StateResult<undefined>> {
    if (this.pending.size >= this.options.maxPendingWrites) {
      return { ok: false, error: ETCD_ERRORS.tooManyRequests };
    }
    const sequence = this.nextSequence++;
    const context: LoggedMemberChange = { ...member, origin: this.origin, sequence };
    const result = this.options.driver().proposeConfChange({ ...change, context: JSON.stringify(context) });
    if (!result.ok) {
      if (result.reason === 'notLeader') return { ok: false, error: ETCD_ERRORS.notLeader };
      // Another change is still being applied, or the leader has not committed in its term yet.
      if (result.reason === 'confChangePending') return { ok: false, error: MEMBER_CHANGE_BUSY };
      return {
        ok: false,
        error: { code: 'FailedPrecondition', message: `etcdserver: ${result.detail ?? result.reason}` },
      };
    }
    return this.awaitApply(sequence) as Promise<StateResult<undefined>>;
  }

  /**
   * etcd's quota check: refused while NOSPACE is raised, or when this write would take the store
   * past the quota — then NOSPACE is raised cluster-wide (replicated) until an operator frees
   * space (compact + defragment) and disarms it.
   */
  private overQuota(commandBytes: number): boolean {
    if (this.current.hasAlarm('NOSPACE')) return true;
    const quota = this.options.quotaBytes;
    if (quota === undefined || this.current.kv.stats.bytes + commandBytes <= quota) return false;
    void this.propose({
      kind: 'alarm',
      action: 'activate',
      memberId: this.options.memberId ?? 0n,
      alarm: 'NOSPACE',
    });
    return true;
  }

  /** Put, DeleteRange, Txn and Compact: replicated, answered once applied here. */
  write(write: KvWriteRequest): Promise<StateResult<KvWriteResponse>> {
    return this.propose(write).then((result) =>
      result.ok
        ? { ok: true, value: result.value.response as KvWriteResponse, revision: result.value.revision }
        : result,
    );
  }

  /** Waits until this member has applied everything committed when it was called (ReadIndex). */
  async linearizableBarrier(): Promise<EtcdError | undefined> {
    if (!(await this.waitForLeader())) return ETCD_ERRORS.noLeader;
    try {
      await this.options.driver().readIndex();
      return undefined;
    } catch (error) {
      if (error instanceof NotLeaderError) return ETCD_ERRORS.noLeader;
      return ETCD_ERRORS.timeout;
    }
  }

  /** Range: linearizable (ReadIndex) unless `serializable` asks for this member's local state. */
  async range(request: RangeRequest): Promise<StateResult<RangeResponse>> {
    if (!request.serializable) {
      const error = await this.linearizableBarrier();
      if (error) return { ok: false, error };
    }
    const result = this.current.kv.range(request);
    if ('error' in result) return { ok: false, error: result.error };
    return { ok: true, value: result, revision: this.current.kv.currentRevision };
  }

  private awaitApply(
    sequence: number,
    put?: LoggedCommand,
  ): Promise<StateResult<ClusterApplied | undefined>> {
    return new Promise((resolve) => {
      this.pending.set(sequence, { resolve, deadline: Date.now() + this.options.requestTimeoutMs, put });
      this.expiryTimer ??= setInterval(() => this.expireOverdue(), EXPIRY_CHECK_MS);
    });
  }

  /**
   * One timer for all waiting proposals instead of one each. A pass looks at every waiting proposal
   * (at most maxPendingWrites, ten times a second) and answers those past their deadline.
   */
  private expireOverdue(): void {
    const now = Date.now();
    const overdue: [number, PendingProposal][] = [];
    this.pending.forEach((waiting, sequence) => {
      if (waiting.deadline <= now) overdue.push([sequence, waiting]);
    });
    // Indeterminate: the command may still be applied later (clients treat this as unknown).
    for (const [sequence, waiting] of overdue)
      this.answer(sequence, waiting, { ok: false, error: ETCD_ERRORS.timeout });
    if (this.pending.size === 0 && this.expiryTimer) {
      clearInterval(this.expiryTimer);
      this.expiryTimer = undefined;
    }
  }

  private settle(origin: string, sequence: number, result: StateResult<ClusterApplied | undefined>): void {
    if (origin !== this.origin) return;
    const waiting = this.pending.get(sequence);
    if (!waiting) return;
    this.answer(sequence, waiting, result);
  }

  private answer(
    sequence: number,
    waiting: PendingProposal,
    result: StateResult<ClusterApplied | undefined>,
  ): void {
    this.pending.delete(sequence);
    const resolve = waiting.resolve;
    waiting.resolve = undefined;
    resolve?.(result);
  }

  // ─── StateMachine (called by the Raft driver, in log order) ─────────────────

  apply(entry: Entry): void {
    if (entry.data.byteLength === 0) return;
    if (entry.kind === 'config') {
      this.applyConfigEntry(entry);
      return;
    }
    const logged = this.proposedPut(entry.data) ?? decodeCommand(entry.data);
    const applySpan = logged.trace ? startApplySpan(logged.trace) : undefined;
    const outcome = this.refusedByAuth(logged) ?? this.current.apply(logged.command, entry.index);
    applySpan?.end();
    this.options.onApplied?.(logged.command, outcome);
    if (!('error' in outcome) && outcome.events.length > 0)
      this.options.onEvents?.(outcome.events, outcome.revision);
    this.settle(
      logged.origin,
      logged.sequence,
      'error' in outcome
        ? { ok: false, error: outcome.error }
        : { ok: true, value: outcome, revision: outcome.revision },
    );
  }

  /** The put this member proposed and still waits for, when `data` is its entry. */
  private proposedPut(data: Uint8Array): LoggedCommand | undefined {
    const sequence = ownPutSequence(data, this.origin);
    return sequence < 0 ? undefined : this.pending.get(sequence)?.put;
  }

  /**
   * etcd checks a write's permissions again when applying it: the user may have lost them, or
   * the auth state moved on ("revision of auth store is old"), since the edge let it through.
   */
  private refusedByAuth(logged: LoggedCommand): { error: EtcdError } | undefined {
    const auth = this.current.auth;
    if (logged.requester === undefined || !auth.enabled) return undefined;
    const requirement = commandRequirement(logged.command);
    if (requirement === undefined) return undefined;
    const leases = this.current.leases;
    const error = auth.checkRequirement(logged.requester, requirement, (id) => leases.get(id)?.keys ?? []);
    return error ? { error } : undefined;
  }

  private applyConfigEntry(entry: Entry): void {
    const change = decodeConfChange(entry.data);
    let context: LoggedMemberChange | undefined;
    try {
      context = change.context ? (JSON.parse(change.context) as LoggedMemberChange) : undefined;
    } catch {
      context = undefined;
    }
    for (const single of change.changes) {
      this.current.applyMemberChange({ type: single.type, memberId: BigInt(`0x${single.node}`), context });
    }
    if (context)
      this.settle(context.origin, context.sequence, { ok: true, value: undefined, revision: this.revision });
  }

  restore(snapshot: Snapshot): void {
    this.current = this.options.createState(snapshot.data.byteLength > 0 ? snapshot.data : undefined);
    this.options.onRestore?.(this.current);
  }

  beginSnapshot(): ClusterSnapshotBuilder {
    return this.current.beginSnapshot();
  }

  snapshotChecksum(data: Uint8Array): number {
    return ClusterState.snapshotChecksum(data);
  }

  /** Fails every waiting proposal (shutdown). */
  close(): void {
    const waiting: [number, PendingProposal][] = [];
    this.pending.forEach((proposal, sequence) => {
      waiting.push([sequence, proposal]);
    });
    for (const [sequence, proposal] of waiting)
      this.answer(sequence, proposal, { ok: false, error: ETCD_ERRORS.stopped });
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    this.expiryTimer = undefined;
  }
}

/** A membership change while the previous one is still being applied: retriable. */
const MEMBER_CHANGE_BUSY: EtcdError = {
  code: 'Unavailable',
  message: 'etcdserver: another membership change is in progress; retry shortly',
};

/** Commands that add data (etcd's quota applies to Put, Txn and LeaseGrant). */
function growsStore(command: ClusterCommand): boolean {
  return command.kind === 'put' || command.kind === 'txn' || command.kind === 'leaseGrant';
}

/** Key and value are plain Uint8Arrays, not Buffers (which may be views of Node's shared pool). */
function plainArrays(request: PutRequest): boolean {
  return (
    Object.getPrototypeOf(request.key) === Uint8Array.prototype &&
    Object.getPrototypeOf(request.value) === Uint8Array.prototype
  );
}
