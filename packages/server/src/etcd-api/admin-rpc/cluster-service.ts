// etcd's Cluster gRPC service, thin (STYLE §4): the codecs decode, peer URLs are checked as etcd
// checks them, a ClusterBackend changes the membership (through Raft conf changes), these handlers
// add etcd's header (which carries no revision for these calls, as etcd's) and map errors.
import { MEMBER_ERRORS } from '@synod/state';
import { unary } from '../../grpc/methods.js';
import type { GrpcServer } from '../../grpc/server.js';
import type { Member, MemberListResponse } from '../proto/types.js';
import { ADMIN_METHOD_CODECS, type MemberAddResponse, type MembersResponse } from './admin-messages.js';
import { type AdminResult, answered, toGrpcError } from './admin-result.js';
import type { HeaderAt } from './maintenance-service.js';

/**
 * The server side of Cluster. Each change is a Raft membership change, answered once applied, with
 * the member list after it. Errors are @synod/state's MEMBER_ERRORS (etcd's messages): memberExists,
 * peerUrlExists, memberNotFound, tooManyLearners, memberNotLearner, learnerNotReady, idRemoved...
 */
export interface ClusterBackend {
  /** Adds a member with an id the backend picks (etcd hashes the URLs, cluster id and time). */
  addMember(
    peerURLs: readonly string[],
    isLearner: boolean,
  ): Promise<AdminResult<{ readonly member: Member; readonly members: readonly Member[] }>>;
  removeMember(id: bigint): Promise<AdminResult<readonly Member[]>>;
  updateMember(id: bigint, peerURLs: readonly string[]): Promise<AdminResult<readonly Member[]>>;
  /** `linearizable`: from the committed membership (etcd 3.5+ asks this; 3.4 clients never do). */
  listMembers(linearizable: boolean): Promise<AdminResult<readonly Member[]>>;
  promoteMember(id: bigint): Promise<AdminResult<readonly Member[]>>;
}

/** etcd answers Cluster calls with a header that carries no revision. */
const NO_REVISION = 0;
const URL_SCHEMES: ReadonlySet<string> = new Set(['http', 'https', 'unix', 'unixs']);

/**
 * Registers `etcdserverpb.Cluster` (MemberAdd, MemberRemove, MemberUpdate, MemberList,
 * MemberPromote) on `grpc`.
 *
 * @example
 * registerClusterService(grpc, backend, (revision) => ({ clusterId, memberId, revision, raftTerm }));
 */
export function registerClusterService(grpc: GrpcServer, backend: ClusterBackend, header: HeaderAt): void {
  const codecs = ADMIN_METHOD_CODECS.Cluster;
  const answer = (members: readonly Member[]): MembersResponse => ({ header: header(NO_REVISION), members });
  grpc.addService('etcdserverpb.Cluster', {
    MemberAdd: unary(codecs.MemberAdd, async (request): Promise<MemberAddResponse> => {
      checkPeerUrls(request.peerURLs);
      const { member, members } = answered(await backend.addMember(request.peerURLs, request.isLearner));
      return { header: header(NO_REVISION), member, members };
    }),
    MemberRemove: unary(codecs.MemberRemove, async (request) =>
      answer(answered(await backend.removeMember(request.id))),
    ),
    MemberUpdate: unary(codecs.MemberUpdate, async (request) => {
      checkPeerUrls(request.peerURLs);
      return answer(answered(await backend.updateMember(request.id, request.peerURLs)));
    }),
    MemberList: unary(
      codecs.MemberList,
      async (request): Promise<MemberListResponse> =>
        answer(answered(await backend.listMembers(request.linearizable))),
    ),
    MemberPromote: unary(codecs.MemberPromote, async (request) =>
      answer(answered(await backend.promoteMember(request.id))),
    ),
  });
}

function checkPeerUrls(urls: readonly string[]): void {
  if (!validPeerUrls(urls)) throw toGrpcError(MEMBER_ERRORS.memberBadUrls);
}

/**
 * etcd's types.NewURLs: at least one URL; each `scheme://host:port` with an http, https, unix or
 * unixs scheme, an explicit port (it may be empty, as Go's SplitHostPort allows) and no path.
 */
export function validPeerUrls(urls: readonly string[]): boolean {
  return urls.length > 0 && urls.every((url) => validPeerUrl(url.trim()));
}

function validPeerUrl(url: string): boolean {
  const match = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)/i.exec(url);
  if (match === null) return false;
  const [, scheme = '', authority = '', path = ''] = match;
  if (!URL_SCHEMES.has(scheme.toLowerCase()) || path !== '') return false;
  const host = authority.slice(authority.lastIndexOf('@') + 1);
  return host.startsWith('[') ? /^\[[^\]]*\]:[^:]*$/.test(host) : /^[^:[\]]*:[^:]*$/.test(host);
}
