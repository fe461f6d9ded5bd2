// etcd's Cluster API on the leader: adding a member (as a learner or a voter), promoting a
// learner once it has caught up, removing a member without losing quorum, and updating peer URLs.
// Membership changes are Raft conf changes; ClusterState mirrors them into the member list.
import type { ClusterMember, EtcdError } from '@synod/state';
import { MEMBER_ERRORS } from '@synod/state';
import { memberIdOf, raftIdOf } from '../config/server-config.js';
import type { RaftDriver } from '../raft-driver/raft-driver.js';
import type { StateResult, StateService } from './state-service.js';

/** etcd promotes a learner only when its log is within 10% of the leader's commit index. */
const LEARNER_READY_FRACTION = 0.9;

export interface MemberAdminOptions {
  readonly state: StateService;
  readonly driver: () => RaftDriver;
  /** etcd's --initial-cluster-token: member ids are derived from it and the peer URLs. */
  readonly clusterToken: string;
  readonly selfId: bigint;
}

export interface MemberChangeAnswer {
  readonly member: ClusterMember | undefined;
  readonly members: readonly ClusterMember[];
}

export class MemberAdmin {
  private readonly options: MemberAdminOptions;

  constructor(options: MemberAdminOptions) {
    this.options = options;
  }

  /** Whether this member can change membership now (else the caller forwards to the leader). */
  get isLeader(): boolean {
    return this.options.driver().node.raft.role === 'leader';
  }

  list(): ClusterMember[] {
    return this.options.state.state.members.list();
  }

  /**
   * MemberAdd. The id is derived from the peer URLs and the cluster token, as a new member started
   * with `--initial-cluster-state existing` computes its own; so a removed member's URLs cannot be
   * added again under the same token (its id stays removed).
   */
  async add(peerUrls: readonly string[], isLearner: boolean): Promise<StateResult<MemberChangeAnswer>> {
    if (peerUrls.length === 0 || !peerUrls.every(isValidUrl)) return failure(MEMBER_ERRORS.memberBadUrls);
    const id = memberIdOf(peerUrls, this.options.clusterToken);
    const refused = this.options.state.state.members.checkAdd(id, peerUrls, isLearner);
    if (refused) return failure(refused);
    const result = await this.options.state.proposeMemberChange(
      { changes: [{ type: isLearner ? 'addLearner' : 'addVoter', node: raftIdOf(id) }], transition: 'auto' },
      { memberId: id.toString(16), peerUrls: [...peerUrls], name: '' },
    );
    return this.answer(result, id);
  }

  /** MemberRemove: refused when the remaining voters that are reachable would not form a quorum. */
  async remove(id: bigint): Promise<StateResult<MemberChangeAnswer>> {
    const member = this.options.state.state.members.get(id);
    if (!member) return failure(MEMBER_ERRORS.memberNotFound);
    if (!member.isLearner && !this.enoughStartedWithout(id)) return failure(MEMBER_ERRORS.notEnoughStarted);
    const result = await this.options.state.proposeMemberChange(
      { changes: [{ type: 'removeNode', node: raftIdOf(id) }], transition: 'auto' },
      { memberId: id.toString(16), peerUrls: [...member.peerUrls], name: member.name },
    );
    return this.answer(result, undefined);
  }

  /** MemberPromote: a learner whose log has caught up with the leader becomes a voter. */
  async promote(id: bigint): Promise<StateResult<MemberChangeAnswer>> {
    const member = this.options.state.state.members.get(id);
    if (!member) return failure(MEMBER_ERRORS.memberNotFound);
    if (!member.isLearner) return failure(MEMBER_ERRORS.memberNotLearner);
    const raft = this.options.driver().node.raft;
    const match = raft.progress.get(raftIdOf(id))?.match ?? 0;
    if (match < raft.log.committed * LEARNER_READY_FRACTION) return failure(MEMBER_ERRORS.learnerNotReady);
    const result = await this.options.state.proposeMemberChange(
      { changes: [{ type: 'addVoter', node: raftIdOf(id) }], transition: 'auto' },
      { memberId: id.toString(16), peerUrls: [...member.peerUrls], name: member.name },
    );
    return this.answer(result, id);
  }

  /** MemberUpdate: new peer URLs for a member (a normal replicated command, not a conf change). */
  async update(id: bigint, peerUrls: readonly string[]): Promise<StateResult<MemberChangeAnswer>> {
    if (peerUrls.length === 0 || !peerUrls.every(isValidUrl)) return failure(MEMBER_ERRORS.memberBadUrls);
    if (!this.options.state.state.members.get(id)) return failure(MEMBER_ERRORS.memberNotFound);
    const result = await this.options.state.propose({ kind: 'updateMember', memberId: id, peerUrls });
    if (!result.ok) return result;
    return {
      ok: true,
      value: { member: this.options.state.state.members.get(id), members: this.list() },
      revision: result.revision,
    };
  }

  /** etcd's strict reconfiguration check: after removing `id`, a quorum of voters must be active. */
  private enoughStartedWithout(id: bigint): boolean {
    const raft = this.options.driver().node.raft;
    const removed = raftIdOf(id);
    const voters = raft.confState.voters.filter((voter) => voter !== removed);
    const active = voters.filter(
      (voter) => voter === raft.id || raft.progress.get(voter)?.recentActive === true,
    ).length;
    return active >= Math.floor(voters.length / 2) + 1;
  }

  private answer(result: StateResult<undefined>, id: bigint | undefined): StateResult<MemberChangeAnswer> {
    if (!result.ok) return result;
    const member = id === undefined ? undefined : this.options.state.state.members.get(id);
    return { ok: true, value: { member, members: this.list() }, revision: result.revision };
  }
}

function failure(error: EtcdError): StateResult<never> {
  return { ok: false, error };
}

function isValidUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.port !== '';
  } catch {
    return false;
  }
}
