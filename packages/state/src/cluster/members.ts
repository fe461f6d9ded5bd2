// The replicated member list behind etcd's Cluster API: who is in the cluster, their peer and
// client URLs, learner or voter. Changed only by applied entries (conf changes and attribute
// publications), so every member holds the same list.
import type { EtcdError } from '../mvcc/etcd-types.js';

export interface ClusterMember {
  /** etcd member id (64-bit). */
  readonly id: bigint;
  /** Empty until the member has started and published its attributes. */
  readonly name: string;
  readonly peerUrls: readonly string[];
  readonly clientUrls: readonly string[];
  readonly isLearner: boolean;
}

/** etcd's messages for member changes, verbatim. */
export const MEMBER_ERRORS = {
  memberExists: { code: 'FailedPrecondition', message: 'etcdserver: member ID already exist' },
  peerUrlExists: { code: 'FailedPrecondition', message: 'etcdserver: Peer URLs already exists' },
  memberNotFound: { code: 'NotFound', message: 'etcdserver: member not found' },
  memberBadUrls: { code: 'InvalidArgument', message: 'etcdserver: given member URLs are invalid' },
  memberNotLearner: { code: 'FailedPrecondition', message: 'etcdserver: can only promote a learner member' },
  learnerNotReady: {
    code: 'FailedPrecondition',
    message: 'etcdserver: can only promote a learner member which is in sync with leader',
  },
  tooManyLearners: { code: 'FailedPrecondition', message: 'etcdserver: too many learner members in cluster' },
  idRemoved: { code: 'FailedPrecondition', message: 'etcdserver: member ID removed' },
  notEnoughStarted: {
    code: 'FailedPrecondition',
    message: 'etcdserver: re-configuration failed due to not enough started members',
  },
} as const satisfies Record<string, EtcdError>;

/** etcd's default: at most one learner at a time. */
export const MAX_LEARNERS = 1;

/** What a membership conf-change entry carries in its context (JSON). */
export interface MemberChangeContext {
  readonly memberId: string;
  readonly peerUrls: readonly string[];
  readonly name: string;
}

export class MemberStore {
  private readonly members = new Map<bigint, ClusterMember>();
  /** Removed ids may never come back (their old log and votes could confuse the cluster). */
  private readonly removed = new Set<bigint>();

  constructor(initial: readonly ClusterMember[] = []) {
    for (const member of initial) this.members.set(member.id, member);
  }

  list(): ClusterMember[] {
    return [...this.members.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  get(id: bigint): ClusterMember | undefined {
    return this.members.get(id);
  }

  isRemoved(id: bigint): boolean {
    return this.removed.has(id);
  }

  /** Whether adding this member would be refused, and why (checked before proposing, and on apply). */
  checkAdd(id: bigint, peerUrls: readonly string[], isLearner: boolean): EtcdError | undefined {
    if (peerUrls.length === 0) return MEMBER_ERRORS.memberBadUrls;
    if (this.removed.has(id)) return MEMBER_ERRORS.idRemoved;
    if (this.members.has(id)) return MEMBER_ERRORS.memberExists;
    for (const member of this.members.values()) {
      if (member.peerUrls.some((url) => peerUrls.includes(url))) return MEMBER_ERRORS.peerUrlExists;
    }
    if (isLearner && this.list().filter((member) => member.isLearner).length >= MAX_LEARNERS)
      return MEMBER_ERRORS.tooManyLearners;
    return undefined;
  }

  add(member: ClusterMember): void {
    this.members.set(member.id, member);
  }

  remove(id: bigint): void {
    this.members.delete(id);
    this.removed.add(id);
  }

  promote(id: bigint): void {
    const member = this.members.get(id);
    if (member) this.members.set(id, { ...member, isLearner: false });
  }

  updatePeerUrls(id: bigint, peerUrls: readonly string[]): EtcdError | undefined {
    const member = this.members.get(id);
    if (!member) return MEMBER_ERRORS.memberNotFound;
    for (const other of this.members.values()) {
      if (other.id !== id && other.peerUrls.some((url) => peerUrls.includes(url)))
        return MEMBER_ERRORS.peerUrlExists;
    }
    this.members.set(id, { ...member, peerUrls: [...peerUrls] });
    return undefined;
  }

  /** A started member announces its name and client URLs (etcd's publish). */
  publish(id: bigint, name: string, clientUrls: readonly string[]): void {
    const member = this.members.get(id);
    if (member) this.members.set(id, { ...member, name, clientUrls: [...clientUrls] });
  }

  toJSON(): { members: SerializedMember[]; removed: string[] } {
    return {
      members: this.list().map((member) => ({ ...member, id: member.id.toString(16) })),
      removed: [...this.removed].map((id) => id.toString(16)),
    };
  }

  static fromJSON(json: { members: SerializedMember[]; removed: string[] }): MemberStore {
    const store = new MemberStore(
      json.members.map((member) => ({ ...member, id: BigInt(`0x${member.id}`) })),
    );
    for (const id of json.removed) store.removed.add(BigInt(`0x${id}`));
    return store;
  }
}

interface SerializedMember {
  readonly id: string;
  readonly name: string;
  readonly peerUrls: readonly string[];
  readonly clientUrls: readonly string[];
  readonly isLearner: boolean;
}
