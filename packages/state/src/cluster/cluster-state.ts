// Everything one etcd-compatible member replicates through its Raft log, as one pure state
// machine: the MVCC key space, the member list and the alarms (leases and auth join here). The
// server proposes ClusterCommands and applies committed ones here, in log order, on every member.
import { crc32c } from '@synod/core/hashing';
import { ETCD_ERRORS, type EtcdError, type KvEvent, type KvWriteRequest } from '../mvcc/etcd-types.js';
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
    };

/** What applying a command answered (KV writes answer etcd's response). */
export type ClusterResponse =
  | AppliedWrite['response']
  | { readonly kind: 'publishMember' }
  | { readonly kind: 'updateMember' }
  | { readonly kind: 'alarm'; readonly alarms: readonly AlarmMember[] };

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
}

const SNAPSHOT_MAGIC = 0x53_43_53_31; // "SCS1"
const SNAPSHOT_HEADER_BYTES = 16; // magic, crc32c, mvcc length, meta length

export class ClusterSnapshotError extends Error {
  override readonly name = 'ClusterSnapshotError';
}

export class ClusterState {
  kv: MvccStore;
  members: MemberStore;
  private alarmList: AlarmMember[] = [];
  constructor(options: ClusterStateOptions = {}) {
    this.kv = new MvccStore(options);
    this.members = new MemberStore(options.initialMembers ?? []);
  }

  get alarms(): readonly AlarmMember[] {
    return this.alarmList;
  }

  hasAlarm(alarm: AlarmType): boolean {
    return this.alarmList.some((entry) => entry.alarm === alarm);
  }

  apply(command: ClusterCommand): ClusterApplied | { error: EtcdError } {
    switch (command.kind) {
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
    }
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
    return this.kv.apply(request);
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

  /** The whole replicated state, with a checksum: [magic, crc32c, mvcc length, meta length, mvcc, meta]. */
  snapshot(): Uint8Array {
    const mvcc = this.kv.snapshot();
    const meta = new TextEncoder().encode(
      JSON.stringify({
        members: this.members.toJSON(),
        alarms: this.alarmList.map((entry) => ({
          memberId: entry.memberId.toString(16),
          alarm: entry.alarm,
        })),
      }),
    );
    const bytes = new Uint8Array(SNAPSHOT_HEADER_BYTES + mvcc.byteLength + meta.byteLength);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, SNAPSHOT_MAGIC);
    view.setUint32(8, mvcc.byteLength);
    view.setUint32(12, meta.byteLength);
    bytes.set(mvcc, SNAPSHOT_HEADER_BYTES);
    bytes.set(meta, SNAPSHOT_HEADER_BYTES + mvcc.byteLength);
    view.setUint32(4, crc32c(bytes.subarray(8)));
    return bytes;
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
    const metaBytes = view.getUint32(12);
    if (SNAPSHOT_HEADER_BYTES + mvccBytes + metaBytes !== bytes.byteLength)
      throw new ClusterSnapshotError('cluster snapshot sections do not add up');
    const state = new ClusterState(options);
    state.kv = MvccStore.restore(
      bytes.subarray(SNAPSHOT_HEADER_BYTES, SNAPSHOT_HEADER_BYTES + mvccBytes),
      options,
    );
    const meta = JSON.parse(
      new TextDecoder().decode(bytes.subarray(SNAPSHOT_HEADER_BYTES + mvccBytes)),
    ) as SnapshotMeta;
    state.members = MemberStore.fromJSON(meta.members);
    state.alarmList = meta.alarms.map((entry) => ({
      memberId: BigInt(`0x${entry.memberId}`),
      alarm: entry.alarm,
    }));
    return state;
  }
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
