// The KV service behind etcd's KV API, independent of gRPC: writes go through the Raft log
// (proposed here or forwarded to the leader) and are answered when this node applies them;
// linearizable reads wait for a ReadIndex point, serializable reads are served locally.
import { randomUUID } from 'node:crypto';
import type { Entry, Snapshot } from '@synod/raft';
import type {
  EtcdError,
  KvEvent,
  KvWriteRequest,
  KvWriteResponse,
  RangeRequest,
  RangeResponse,
} from '@synod/state';
import { ETCD_ERRORS, ETCD_LIMITS } from '@synod/state';
import { Packr } from 'msgpackr';
import type { RaftDriver, StateMachine } from '../raft-driver/raft-driver.js';
import { NotLeaderError } from '../raft-driver/raft-driver.js';

/** The MVCC store as this service uses it (implemented by @synod/state's MvccStore). */
export interface KvStore {
  apply(
    request: KvWriteRequest,
  ): { response: KvWriteResponse; events: readonly KvEvent[]; revision: number } | { error: EtcdError };
  range(request: RangeRequest): RangeResponse | { error: EtcdError };
  readonly currentRevision: number;
  snapshot(): Uint8Array;
}

export type KvResult<T> =
  | { readonly ok: true; readonly value: T; readonly revision: number }
  | { readonly ok: false; readonly error: EtcdError };

/** A command as stored in a log entry: who proposed it (to answer the client) and what it does. */
interface Command {
  readonly origin: string;
  readonly sequence: number;
  readonly write: KvWriteRequest;
}

const commandCodec = new Packr({ useRecords: false, int64AsType: 'bigint', mapsAsObjects: true });

export function encodeCommand(command: Command): Uint8Array {
  return commandCodec.pack(command);
}

export function decodeCommand(data: Uint8Array): Command {
  const command = commandCodec.unpack(data) as Command;
  if (
    typeof command?.origin !== 'string' ||
    typeof command.sequence !== 'number' ||
    typeof command.write?.kind !== 'string'
  ) {
    throw new Error('log entry does not hold a KV command');
  }
  return command;
}

/** How often a request waiting for an election checks for a leader. */
const LEADER_POLL_MS = 10;

interface PendingWrite {
  readonly resolve: (result: KvResult<KvWriteResponse>) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

export interface KvServiceOptions {
  readonly nodeId: string;
  readonly driver: () => RaftDriver;
  readonly createStore: (snapshot: Uint8Array | undefined) => KvStore;
  /** etcd answers "request timed out" after 5 s plus two election timeouts. */
  readonly requestTimeoutMs: number;
  /** Bound on writes waiting for their entry to apply. */
  readonly maxPendingWrites: number;
  /** etcd's --max-request-bytes: a larger write is refused before it is proposed. */
  readonly maxRequestBytes?: number;
  readonly onEvents?: (events: readonly KvEvent[], revision: number) => void;
}

export class KvService implements StateMachine {
  private store: KvStore;
  private readonly options: KvServiceOptions;
  private readonly pending = new Map<number, PendingWrite>();
  private nextSequence = 0;
  /** Unique per process start, so entries proposed before a restart never answer new requests. */
  private readonly origin: string;

  constructor(options: KvServiceOptions) {
    this.options = options;
    this.origin = `${options.nodeId}/${randomUUID()}`;
    this.store = options.createStore(undefined);
  }

  get revision(): number {
    return this.store.currentRevision;
  }

  /**
   * Like etcd, a request made while no leader is known waits for one (an election usually takes
   * about one election timeout) instead of failing at once; it fails after the request timeout.
   */
  private async waitForLeader(): Promise<boolean> {
    const deadline = Date.now() + this.options.requestTimeoutMs;
    while (this.options.driver().node.raft.lead === '') {
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, LEADER_POLL_MS));
    }
    return true;
  }

  /** Put, DeleteRange, Txn and Compact: replicated, answered once applied here. */
  async write(write: KvWriteRequest): Promise<KvResult<KvWriteResponse>> {
    if (this.pending.size >= this.options.maxPendingWrites) {
      return { ok: false, error: ETCD_ERRORS.tooManyRequests };
    }
    if (!(await this.waitForLeader())) return { ok: false, error: ETCD_ERRORS.noLeader };
    const sequence = this.nextSequence++;
    const data = encodeCommand({ origin: this.origin, sequence, write });
    if (data.byteLength > (this.options.maxRequestBytes ?? ETCD_LIMITS.maxRequestBytes)) {
      return { ok: false, error: ETCD_ERRORS.requestTooLarge };
    }
    try {
      this.options.driver().propose(data);
    } catch (error) {
      if (error instanceof NotLeaderError) return { ok: false, error: ETCD_ERRORS.noLeader };
      throw error;
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        // Indeterminate: the write may still be applied later (clients treat this as unknown).
        this.pending.delete(sequence);
        resolve({ ok: false, error: ETCD_ERRORS.timeout });
      }, this.options.requestTimeoutMs);
      this.pending.set(sequence, { resolve, timer });
    });
  }

  /** Range: linearizable (ReadIndex) unless `serializable` asks for this member's local state. */
  async range(request: RangeRequest): Promise<KvResult<RangeResponse>> {
    if (!request.serializable) {
      if (!(await this.waitForLeader())) return { ok: false, error: ETCD_ERRORS.noLeader };
      try {
        await this.options.driver().readIndex();
      } catch (error) {
        if (error instanceof NotLeaderError) return { ok: false, error: ETCD_ERRORS.noLeader };
        return { ok: false, error: ETCD_ERRORS.timeout };
      }
    }
    const result = this.store.range(request);
    if ('error' in result) return { ok: false, error: result.error };
    return { ok: true, value: result, revision: this.store.currentRevision };
  }

  // ─── StateMachine (called by the Raft driver, in log order) ─────────────────

  apply(entry: Entry): void {
    if (entry.kind !== 'normal' || entry.data.byteLength === 0) return;
    const command = decodeCommand(entry.data);
    const outcome = this.store.apply(command.write);
    if (!('error' in outcome) && outcome.events.length > 0)
      this.options.onEvents?.(outcome.events, outcome.revision);
    if (command.origin !== this.origin) return;
    const waiting = this.pending.get(command.sequence);
    if (!waiting) return;
    this.pending.delete(command.sequence);
    clearTimeout(waiting.timer);
    waiting.resolve(
      'error' in outcome
        ? { ok: false, error: outcome.error }
        : { ok: true, value: outcome.response, revision: outcome.revision },
    );
  }

  restore(snapshot: Snapshot): void {
    this.store = this.options.createStore(snapshot.data.byteLength > 0 ? snapshot.data : undefined);
  }

  snapshotData(): Uint8Array {
    return this.store.snapshot();
  }

  /** Fails every waiting write (shutdown). */
  close(): void {
    for (const [sequence, waiting] of this.pending) {
      clearTimeout(waiting.timer);
      waiting.resolve({ ok: false, error: ETCD_ERRORS.stopped });
      this.pending.delete(sequence);
    }
  }
}
