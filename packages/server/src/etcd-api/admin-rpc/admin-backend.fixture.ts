// Fake Maintenance and Cluster backends for tests: canned state, every call recorded, and the
// member list and alarms changed as the real ones would be (with etcd's errors), so a test can
// check both what a client sent and what it printed.
import { ETCD_ERRORS, type EtcdError, MEMBER_ERRORS, type ResponseHeader } from '@synod/state';
import type { Member } from '../proto/types.js';
import type { AlarmMember, AlarmRequest } from './admin-messages.js';
import type { AdminResult } from './admin-result.js';
import type { ClusterBackend } from './cluster-service.js';
import type { MaintenanceBackend, MemberStatus } from './maintenance-service.js';

export const CLUSTER_ID = 0xcdf8_18d1_94e9_4b2an;
export const SELF_ID = 0x8e9e_05c5_2164_694dn;
export const RAFT_TERM = 3;

export function headerAt(revision: number): ResponseHeader {
  return { clusterId: CLUSTER_ID, memberId: SELF_ID, revision, raftTerm: RAFT_TERM };
}

const ok = <T>(value: T): AdminResult<T> => ({ ok: true, value });
const fail = <T>(error: EtcdError): AdminResult<T> => ({ ok: false, error });

export class FakeAdminBackend implements MaintenanceBackend, ClusterBackend {
  /** Every call, as `method argument…`, in order. */
  readonly calls: string[] = [];
  revision = 57;
  /** What Snapshot sends (before padding and digest). */
  state: Uint8Array = new TextEncoder().encode('synod state');
  members: Member[] = [
    {
      id: SELF_ID,
      name: 'n1',
      peerURLs: ['http://127.0.0.1:2380'],
      clientURLs: ['http://127.0.0.1:2379'],
      isLearner: false,
    },
  ];
  alarms: AlarmMember[] = [];
  private nextMemberId = 0x4d2_0000_0000_0001n;

  currentRevision(): number {
    return this.revision;
  }

  async alarm(request: AlarmRequest): Promise<AdminResult<readonly AlarmMember[]>> {
    this.calls.push(`alarm ${request.action} ${request.memberId.toString(16)} ${request.alarm}`);
    const matches = (alarm: AlarmMember) =>
      (request.memberId === 0n || alarm.memberId === request.memberId) &&
      (request.alarm === 'NONE' || alarm.alarm === request.alarm);
    if (request.action === 'GET') return ok(this.alarms.filter(matches));
    const changed = { memberId: request.memberId, alarm: request.alarm };
    if (request.action === 'ACTIVATE') {
      if (this.alarms.some(matches)) return ok([]);
      this.alarms.push(changed);
      return ok([changed]);
    }
    const before = this.alarms.length;
    this.alarms = this.alarms.filter((alarm) => !matches(alarm));
    return ok(before === this.alarms.length ? [] : [changed]);
  }

  async status(): Promise<AdminResult<MemberStatus>> {
    this.calls.push('status');
    return ok({
      version: '3.4.0',
      dbSize: 4096,
      leader: SELF_ID,
      raftIndex: 120,
      raftTerm: RAFT_TERM,
      raftAppliedIndex: 119,
      dbSizeInUse: 2048,
      isLearner: false,
      alarms: this.alarms,
    });
  }

  async defragment() {
    this.calls.push('defragment');
    return ok({});
  }

  async hash() {
    this.calls.push('hash');
    return ok({ hash: 0xdead_beef, revision: this.revision });
  }

  async hashKv(revision: number) {
    this.calls.push(`hashKv ${revision}`);
    if (revision > this.revision) return fail<never>(ETCD_ERRORS.futureRevision);
    return ok({ hash: 0x1234_5678 + revision, compactRevision: -1, revision: this.revision });
  }

  async snapshot() {
    this.calls.push('snapshot');
    return ok(this.state);
  }

  async moveLeader(targetId: bigint) {
    this.calls.push(`moveLeader ${targetId.toString(16)}`);
    if (!this.members.some((member) => member.id === targetId)) {
      return fail<never>({ code: 'FailedPrecondition', message: 'etcdserver: bad leader transferee' });
    }
    return ok({});
  }

  async addMember(peerURLs: readonly string[], isLearner: boolean) {
    this.calls.push(`addMember ${peerURLs.join(',')} ${isLearner ? 'learner' : 'voter'}`);
    if (this.members.some((member) => member.peerURLs.some((url) => peerURLs.includes(url)))) {
      return fail<never>(MEMBER_ERRORS.peerUrlExists);
    }
    const member: Member = { id: this.nextMemberId++, name: '', peerURLs, clientURLs: [], isLearner };
    this.members.push(member);
    return ok({ member, members: this.members });
  }

  async removeMember(id: bigint) {
    this.calls.push(`removeMember ${id.toString(16)}`);
    if (!this.members.some((member) => member.id === id)) return fail<never>(MEMBER_ERRORS.memberNotFound);
    this.members = this.members.filter((member) => member.id !== id);
    return ok(this.members);
  }

  async updateMember(id: bigint, peerURLs: readonly string[]) {
    this.calls.push(`updateMember ${id.toString(16)} ${peerURLs.join(',')}`);
    const index = this.members.findIndex((member) => member.id === id);
    if (index < 0) return fail<never>(MEMBER_ERRORS.memberNotFound);
    this.members[index] = { ...this.members[index]!, peerURLs };
    return ok(this.members);
  }

  async listMembers(linearizable: boolean) {
    this.calls.push(`listMembers${linearizable ? ' linearizable' : ''}`);
    return ok(this.members);
  }

  async promoteMember(id: bigint) {
    this.calls.push(`promoteMember ${id.toString(16)}`);
    const index = this.members.findIndex((member) => member.id === id);
    if (index < 0) return fail<never>(MEMBER_ERRORS.memberNotFound);
    if (!this.members[index]!.isLearner) return fail<never>(MEMBER_ERRORS.memberNotLearner);
    this.members[index] = { ...this.members[index]!, isLearner: false };
    return ok(this.members);
  }
}
