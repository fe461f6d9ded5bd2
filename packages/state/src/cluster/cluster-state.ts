// Everything one etcd-compatible member replicates through its Raft log, as one pure state
// machine: the MVCC key space, the member list and the alarms (leases and auth join here). The
// server proposes ClusterCommands and applies committed ones here, in log order, on every member.
import { crc32c, crc32cCombine } from '@synod/core/hashing';
import { AuthStore } from '../auth/auth-store.js';
import type { AuthApplyResult, AuthCommand, AuthRequester } from '../auth/auth-types.js';
import { LeaseStore } from '../lease/lease-store.js';
import type { LeaseSummary } from '../lease/lease-types.js';
import { leaseRevokeWrite } from '../lease/revoke-write.js';
import { ETCD_ERRORS, type EtcdError, type KvEvent, type KvWriteRequest } from '../mvcc/etcd-types.js';
import { type MvccSnapshotEncoder, SNAPSHOT_STEP_BYTES_DEFAULT } from '../mvcc/snapshot.js';
import { type AppliedWrite, MvccStore, type MvccStoreOptions } from '../mvcc/store.js';
import { type ClusterMember, type MemberChangeContext, MemberStore } from './members.js';

export type AlarmType = 'NOSPACE' | 'CORRUPT';

export interface AlarmMember {
  readonly memberId: bigint;
  readonly alarm: AlarmType;
}

/** A replicated command. KV writes keep etcd's request shapes. */
export type ClusterCommand =
  | KvWriteRequest
  | {
      readonly kind: 'publishMember';
      readonly memberId: bigint;
      readonly name: string;
      readonly clientUrls: readonly string[];
    }
  | { readonly kind: 'updateMember'; readonly memberId: bigint; readonly peerUrls: readonly string[] }
  | {
      readonly kind: 'alarm';
      readonly action: 'activate' | 'deactivate';
      readonly memberId: bigint;
      readonly alarm: AlarmType;
    }
  | { readonly kind: 'leaseGrant'; readonly id: bigint; readonly ttl: number }
  | { readonly kind: 'leaseRevoke'; readonly id: bigint }
  | {
      readonly kind: 'auth';
      readonly proposal: { readonly command: AuthCommand; readonly requester: AuthRequester | undefined };
    }
  | {
      readonly kind: 'leaseCheckpoint';
      readonly checkpoints: readonly { readonly id: bigint; readonly remainingTtlSeconds: number }[];
    };

/** What applying a command answered (KV writes answer etcd's response). */
export type ClusterResponse =
  | AppliedWrite['response']
  | { readonly kind: 'publishMember' }
  | { readonly kind: 'updateMember' }
  | { readonly kind: 'alarm'; readonly alarms: readonly AlarmMember[] }
  | { readonly kind: 'leaseGrant'; readonly lease: LeaseSummary }
  | { readonly kind: 'leaseRevoke' }
  | { readonly kind: 'leaseCheckpoint' }
  | { readonly kind: 'auth'; readonly applied: AuthApplyResult };

export interface ClusterApplied {
  readonly response: ClusterResponse;
  readonly events: readonly KvEvent[];
  readonly revision: number;
}

/** One change of a membership conf-change entry, as the state machine sees it. */
export interface MemberChange {
  readonly type: 'addVoter' | 'addLearner' | 'removeNode';
  readonly memberId: bigint;
  readonly context: MemberChangeContext | undefined;
}

export interface ClusterStateOptions extends MvccStoreOptions {
  /** The founding members (the same on every founding member, from the initial cluster). */
  readonly initialMembers?: readonly ClusterMember[];
  /** Shortest lease TTL in seconds; every member must use the same (it decides granted TTLs). */
  readonly minLeaseTtlSeconds?: number;
}

const SNAPSHOT_MAGIC = 0x53_43_53_33; // "SCS3"
const SNAPSHOT_HEADER_BYTES = 24; // magic, crc32c, mvcc, lease, auth and meta lengths

export class ClusterSnapshotError extends Error {
  override readonly name = 'ClusterSnapshotError';
}

export class ClusterState {
  kv: MvccStore;
  members: MemberStore;
  leases: LeaseStore;
  auth: AuthStore;
  private alarmList: AlarmMember[] = [];
  private readonly maxTxnOps: number | undefined;

  constructor(options: ClusterStateOptions = {}) {
    this.maxTxnOps = options.maxTxnOps;
    this.kv = new MvccStore(options);
    this.members = new MemberStore(options.initialMembers ?? []);
    this.leases = new LeaseStore(leaseOptionsOf(options));
    this.auth = new AuthStore();
    this.connectLeases();
  }

  /** Puts naming a missing lease are refused by the MVCC store, as etcd does. */
  private connectLeases(): void {
    this.kv.leaseExists = (id) => this.leases.has(id);
  }

  get alarms(): readonly AlarmMember[] {
    return this.alarmList;
  }

  hasAlarm(alarm: AlarmType): boolean {
    return this.alarmList.some((entry) => entry.alarm === alarm);
  }

  /** Applies a committed command; `logIndex` is its entry's index (auth tokens are named after it). */
  apply(command: ClusterCommand, logIndex = 0): ClusterApplied | { error: EtcdError } {
    switch (command.kind) {
      case 'auth':
        return this.answer({
          kind: 'auth',
          applied: this.auth.apply(command.proposal.command, command.proposal.requester, logIndex),
        });
      case 'put':
      case 'deleteRange':
      case 'txn':
      case 'compact':
        return this.applyKv(command);
      case 'publishMember':
        this.members.publish(command.memberId, command.name, command.clientUrls);
        return this.answer({ kind: 'publishMember' });
      case 'updateMember': {
        const error = this.members.updatePeerUrls(command.memberId, command.peerUrls);
        return error ? { error } : this.answer({ kind: 'updateMember' });
      }
      case 'alarm':
        return this.applyAlarm(command);
      case 'leaseGrant': {
        if (this.hasAlarm('NOSPACE')) return { error: ETCD_ERRORS.noSpace };
        const granted = this.leases.grant(command.id, command.ttl);
        return 'error' in granted ? granted : this.answer({ kind: 'leaseGrant', lease: granted.lease });
      }
      case 'leaseRevoke':
        return this.applyLeaseRevoke(command.id);
      case 'leaseCheckpoint':
        for (const checkpoint of command.checkpoints)
          this.leases.checkpoint(checkpoint.id, checkpoint.remainingTtlSeconds);
        return this.answer({ kind: 'leaseCheckpoint' });
    }
  }

  /** Revokes a lease and deletes its keys in one revision (one MVCC txn). */
  private applyLeaseRevoke(id: bigint): ClusterApplied | { error: EtcdError } {
    const revoked = this.leases.revoke(id);
    if ('error' in revoked) return revoked;
    const write = leaseRevokeWrite(revoked.keys, this.maxTxnOps);
    if (!write) return this.answer({ kind: 'leaseRevoke' });
    const applied = this.kv.apply(write);
    // The keys exist and the txn has no compares: it cannot fail; failing would fork the members.
    if ('error' in applied) throw new Error(`revoking lease ${id} failed: ${applied.error.message}`);
    this.leases.observe(applied.events);
    return { response: { kind: 'leaseRevoke' }, events: applied.events, revision: applied.revision };
  }

  /**
   * A committed membership change (Raft conf change): keeps the member list in step with Raft's
   * configuration, so it never refuses what Raft applied (requests are validated before proposing).
   */
  applyMemberChange(change: MemberChange): void {
    if (change.type === 'removeNode') {
      this.members.remove(change.memberId);
      return;
    }
    if (this.members.get(change.memberId)) {
      if (change.type === 'addVoter') this.members.promote(change.memberId);
      return;
    }
    this.members.add({
      id: change.memberId,
      name: change.context?.name ?? '',
      peerUrls: [...(change.context?.peerUrls ?? [])],
      clientUrls: [],
      isLearner: change.type === 'addLearner',
    });
  }

  private applyKv(request: KvWriteRequest): ClusterApplied | { error: EtcdError } {
    // etcd's capped applier: with NOSPACE raised only writes that free space get through.
    if (this.hasAlarm('NOSPACE') && addsData(request)) return { error: ETCD_ERRORS.noSpace };
    const applied = this.kv.apply(request);
    if (!('error' in applied) && applied.events.length > 0) this.leases.observe(applied.events);
    return applied;
  }

  private applyAlarm(command: Extract<ClusterCommand, { kind: 'alarm' }>): ClusterApplied {
    const matches = (entry: AlarmMember) =>
      entry.memberId === command.memberId && entry.alarm === command.alarm;
    if (command.action === 'activate') {
      if (!this.alarmList.some(matches))
        this.alarmList.push({ memberId: command.memberId, alarm: command.alarm });
      return this.answer({ kind: 'alarm', alarms: this.alarmList.filter(matches) });
    }
    const removed = this.alarmList.filter(matches);
    this.alarmList = this.alarmList.filter((entry) => !matches(entry));
    return this.answer({ kind: 'alarm', alarms: removed });
  }

  private answer(response: ClusterResponse): ClusterApplied {
    return { response, events: [], revision: this.kv.currentRevision };
  }

  /**
   * The whole replicated state, with a checksum:
   * [magic, crc32c, four section lengths, mvcc, leases, auth, meta (JSON)].
   */
  snapshot(): Uint8Array {
    const builder = this.beginSnapshot();
    while (!builder.step()) {
      // bounded pieces keep the peak memory near the snapshot's size
    }
    return builder.finish();
  }

  /**
   * Starts a snapshot of the state as it is now, built a bounded piece per step while commands
   * are applied in between (see {@link ClusterSnapshotBuilder}). Leases, auth and members are
   * small and taken at once; the key-value history is encoded piece by piece.
   */
  beginSnapshot(): ClusterSnapshotBuilder {
    const meta = new TextEncoder().encode(
      JSON.stringify({
        members: this.members.toJSON(),
        alarms: this.alarmList.map((entry) => ({
          memberId: entry.memberId.toString(16),
          alarm: entry.alarm,
        })),
      }),
    );
    return new ClusterSnapshotBuilder(this.kv.beginSnapshot(), [
      this.leases.snapshot(),
      this.auth.snapshot(),
      meta,
    ]);
  }

  /**
   * The CRC-32C of a whole snapshot made by this class, from the checksum its header carries over
   * everything after the first 8 bytes: the same value as crc32c(bytes) without reading them all.
   */
  static snapshotChecksum(bytes: Uint8Array): number {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.byteLength < SNAPSHOT_HEADER_BYTES || view.getUint32(0) !== SNAPSHOT_MAGIC)
      throw new ClusterSnapshotError('not a cluster state snapshot');
    return crc32cCombine(crc32c(bytes.subarray(0, 8)), view.getUint32(4), bytes.byteLength - 8);
  }

  /**
   * Where a snapshot that starts `bytes` ends (its header holds the section lengths), so a reader
   * can drop what follows it, such as the padding of a saved snapshot file.
   * @throws ClusterSnapshotError when `bytes` does not start with a cluster snapshot header.
   */
  static snapshotByteLength(bytes: Uint8Array): number {
    if (bytes.byteLength < SNAPSHOT_HEADER_BYTES)
      throw new ClusterSnapshotError('cluster snapshot is truncated');
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (view.getUint32(0) !== SNAPSHOT_MAGIC) throw new ClusterSnapshotError('not a cluster state snapshot');
    let length = SNAPSHOT_HEADER_BYTES;
    for (let section = 0; section < 4; section++) length += view.getUint32(8 + 4 * section);
    if (length > bytes.byteLength) throw new ClusterSnapshotError('cluster snapshot is truncated');
    return length;
  }

  /**
   * Makes this state the start of a new cluster (snapshot restore): the members become `members`,
   * and alarms, which name the old cluster's members, are dropped. Keys, history, leases and auth
   * stay as they are.
   */
  startNewCluster(members: readonly ClusterMember[]): void {
    this.members = new MemberStore(members);
    this.alarmList = [];
  }

  /** @throws ClusterSnapshotError when the bytes are damaged or not a cluster snapshot. */
  static restore(bytes: Uint8Array, options: ClusterStateOptions = {}): ClusterState {
    if (bytes.byteLength < SNAPSHOT_HEADER_BYTES)
      throw new ClusterSnapshotError('cluster snapshot is truncated');
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (view.getUint32(0) !== SNAPSHOT_MAGIC) throw new ClusterSnapshotError('not a cluster state snapshot');
    if (view.getUint32(4) !== crc32c(bytes.subarray(8)))
      throw new ClusterSnapshotError('cluster snapshot checksum mismatch');
    const mvccBytes = view.getUint32(8);
    const leaseBytes = view.getUint32(12);
    const authBytes = view.getUint32(16);
    const metaBytes = view.getUint32(20);
    if (SNAPSHOT_HEADER_BYTES + mvccBytes + leaseBytes + authBytes + metaBytes !== bytes.byteLength)
      throw new ClusterSnapshotError('cluster snapshot sections do not add up');
    const state = new ClusterState(options);
    let offset = SNAPSHOT_HEADER_BYTES;
    state.kv = MvccStore.restore(bytes.subarray(offset, offset + mvccBytes), options);
    offset += mvccBytes;
    state.leases = LeaseStore.restore(bytes.subarray(offset, offset + leaseBytes), leaseOptionsOf(options));
    offset += leaseBytes;
    state.auth = AuthStore.restore(bytes.subarray(offset, offset + authBytes));
    offset += authBytes;
    state.connectLeases();
    const meta = JSON.parse(new TextDecoder().decode(bytes.subarray(offset))) as SnapshotMeta;
    state.members = MemberStore.fromJSON(meta.members);
    state.alarmList = meta.alarms.map((entry) => ({
      memberId: BigInt(`0x${entry.memberId}`),
      alarm: entry.alarm,
    }));
    return state;
  }
}

function leaseOptionsOf(options: ClusterStateOptions) {
  return options.minLeaseTtlSeconds === undefined ? {} : { minTtlSeconds: options.minLeaseTtlSeconds };
}

interface SnapshotMeta {
  readonly members: Parameters<typeof MemberStore.fromJSON>[0];
  readonly alarms: readonly { memberId: string; alarm: AlarmType }[];
}

function addsData(request: KvWriteRequest): boolean {
  if (request.kind === 'put') return true;
  if (request.kind !== 'txn') return false;
  const hasPut = (ops: typeof request.request.success): boolean =>
    ops.some(
      (op) =>
        op.kind === 'put' ||
        (op.kind === 'txn' && (hasPut(op.request.success) || hasPut(op.request.failure))),
    );
  return hasPut(request.request.success) || hasPut(request.request.failure);
}

/**
 * A cluster snapshot in the making: {@link step} until it returns true (each step encodes about
 * `bytesBudget` bytes of key-value history), then {@link finish}. Between steps the state may
 * apply any command; a compaction makes the builder {@link stale} (start a new one). The result
 * is byte for byte what {@link ClusterState.snapshot} would have returned at the start, and its
 * checksum is assembled from the pieces' checksums instead of reading the whole snapshot again.
 */
export class ClusterSnapshotBuilder {
  /** Dropped once its pieces are handed to the assembly, so each piece can go once copied. */
  private mvcc: MvccSnapshotEncoder | undefined;
  /** Leases, auth and meta, in layout order after the key-value section. */
  private readonly smallSections: readonly Uint8Array[];
  private encoded = false;
  /** The snapshot being assembled once the key-value section is encoded. */
  private assembly:
    | { bytes: Uint8Array; parts: (Uint8Array | undefined)[]; next: number; offset: number }
    | undefined;
  private complete = false;

  constructor(mvcc: MvccSnapshotEncoder, smallSections: readonly Uint8Array[]) {
    this.mvcc = mvcc;
    this.smallSections = smallSections;
  }

  get stale(): boolean {
    return this.mvcc?.stale === true;
  }

  /**
   * Encodes, then copies into the result, about `bytesBudget` bytes per call (copying a large
   * snapshot at once would stall as long as encoding it did); true once the snapshot is whole.
   */
  step(bytesBudget = SNAPSHOT_STEP_BYTES_DEFAULT): boolean {
    if (this.complete) return true;
    if (!this.encoded) {
      this.encoded = this.mvcc!.step(bytesBudget);
      if (this.encoded) this.startAssembly();
      return false;
    }
    const assembly = this.assembly!;
    let copied = 0;
    while (assembly.next < assembly.parts.length && copied < bytesBudget) {
      const part = assembly.parts[assembly.next]!;
      assembly.bytes.set(part, assembly.offset);
      assembly.offset += part.byteLength;
      copied += part.byteLength;
      // The copy is in place: let the piece go as soon as it is copied.
      assembly.parts[assembly.next++] = undefined;
    }
    this.complete = assembly.next === assembly.parts.length;
    return this.complete;
  }

  finish(): Uint8Array {
    if (!this.complete) throw new Error('cluster snapshot finished before its last step');
    return this.assembly!.bytes;
  }

  /** Lays out the header (lengths and the checksum joined from the pieces') before the copying. */
  private startAssembly(): void {
    const mvcc = this.mvcc!.finish();
    this.mvcc = undefined;
    const sectionLengths = [mvcc.byteLength, ...this.smallSections.map((section) => section.byteLength)];
    const bodyLength = sectionLengths.reduce((sum, length) => sum + length, 0);
    const bytes = new Uint8Array(SNAPSHOT_HEADER_BYTES + bodyLength);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, SNAPSHOT_MAGIC);
    for (const [i, length] of sectionLengths.entries()) view.setUint32(8 + 4 * i, length);
    // The checksum covers the section lengths and then every section: join the lengths' CRC to the
    // one the key-value encoder kept, continued over the small sections.
    let bodyCrc = mvcc.crc;
    for (const section of this.smallSections) bodyCrc = crc32c(section, bodyCrc);
    const lengthsCrc = crc32c(bytes.subarray(8, SNAPSHOT_HEADER_BYTES));
    view.setUint32(4, crc32cCombine(lengthsCrc, bodyCrc, bodyLength));
    this.assembly = {
      bytes,
      parts: [...mvcc.chunks, ...this.smallSections],
      next: 0,
      offset: SNAPSHOT_HEADER_BYTES,
    };
  }
}
