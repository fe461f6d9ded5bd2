// The Maintenance and Cluster services' backends on a real member. Membership changes and
// leadership moves run on the leader: a follower relays them to the leader's client endpoint.

import { type ClusterMember, ClusterState, ETCD_ERRORS, type EtcdError } from '@synod/state';
import { raftIdOf } from '../../config/server-config.js';
import type { SynodServer } from '../../node/synod-server.js';
import { buildInTurns } from '../../util/next-turn.js';
import type { MemberAdmin } from '../member-admin.js';
import type { Member } from '../proto/types.js';
import { SERVED_ETCD_VERSION } from '../services.js';
import {
  type AlarmMember,
  type AlarmRequest,
  decodeMemberAddResponse,
  decodeMembersResponse,
  encodeMemberAddRequest,
  encodeMemberIdRequest,
  encodeMoveLeaderRequest,
} from './admin-messages.js';
import type { AdminResult } from './admin-result.js';
import type { ClusterBackend } from './cluster-service.js';
import type { MaintenanceBackend, MemberStatus } from './maintenance-service.js';

/** How long MoveLeader waits for the target to take over (etcd: the request timeout). */
const MOVE_LEADER_TIMEOUT_MS = 5_000;
const MOVE_LEADER_POLL_MS = 20;

function toMember(member: ClusterMember): Member {
  return {
    id: member.id,
    name: member.name,
    peerURLs: member.peerUrls,
    clientURLs: member.clientUrls,
    isLearner: member.isLearner,
  };
}

function fail(error: EtcdError): { ok: false; error: EtcdError } {
  return { ok: false, error };
}

export function serverMaintenanceBackend(server: SynodServer): MaintenanceBackend {
  const state = () => server.state.state;
  return {
    currentRevision: () => server.state.revision,
    async alarm(request: AlarmRequest): Promise<AdminResult<readonly AlarmMember[]>> {
      if (request.action === 'GET') return { ok: true, value: state().alarms.filter(matches(request)) };
      if (request.alarm === 'NONE') return { ok: true, value: [] };
      const result = await server.state.propose({
        kind: 'alarm',
        action: request.action === 'ACTIVATE' ? 'activate' : 'deactivate',
        memberId: request.memberId,
        alarm: request.alarm,
      });
      if (!result.ok) return result;
      const response = result.value.response;
      return { ok: true, value: response.kind === 'alarm' ? response.alarms : [] };
    },
    async status(): Promise<AdminResult<MemberStatus>> {
      const raft = server.driver.node.raft;
      const bytes = state().kv.stats.bytes;
      return {
        ok: true,
        value: {
          version: SERVED_ETCD_VERSION,
          dbSize: bytes,
          leader: server.memberIdOfRaftId(raft.lead),
          raftIndex: raft.log.committed,
          raftTerm: raft.term,
          raftAppliedIndex: server.driver.appliedIndex,
          dbSizeInUse: bytes,
          isLearner: state().members.get(server.self.id)?.isLearner ?? false,
          alarms: state().alarms,
        },
      };
    },
    // The store keeps no free pages to give back: there is nothing to defragment.
    defragment: async () => ({ ok: true, value: {} }),
    async hash() {
      // etcd hashes its whole backend; ours is the replicated state as a snapshot would hold it.
      const { bytes, revision } = await snapshotInTurns(state);
      return { ok: true, value: { hash: ClusterState.snapshotChecksum(bytes), revision } };
    },
    async hashKv(revision: number) {
      const result = state().kv.hashKv(revision);
      if ('error' in result) return fail(result.error);
      return {
        ok: true,
        value: {
          hash: result.hash,
          compactRevision: result.compactRevision,
          revision: server.state.revision,
        },
      };
    },
    snapshot: async () => ({ ok: true, value: (await snapshotInTurns(state)).bytes }),
    moveLeader: (targetId: bigint) => moveLeader(server, targetId),
  };
}

function matches(request: AlarmRequest): (alarm: AlarmMember) => boolean {
  return (alarm) =>
    (request.memberId === 0n || alarm.memberId === request.memberId) &&
    (request.alarm === 'NONE' || alarm.alarm === request.alarm);
}

export function serverClusterBackend(server: SynodServer, members: MemberAdmin): ClusterBackend {
  const list = () => members.list().map(toMember);
  const timeoutMs = 10_000;
  /** Runs `local` on the leader, or relays the request there. */
  const onLeader = async <T>(
    local: () => Promise<AdminResult<T>>,
    path: string,
    body: Uint8Array,
    decode: (bytes: Uint8Array) => T,
  ): Promise<AdminResult<T>> => {
    if (members.isLeader) return local();
    const forwarded = await server.forwarder.call(path, body, timeoutMs);
    return forwarded.ok ? { ok: true, value: decode(forwarded.body) } : forwarded;
  };
  const membersOf = (bytes: Uint8Array) => decodeMembersResponse(bytes).members;
  return {
    addMember: (peerURLs, isLearner) =>
      onLeader(
        async () => {
          const result = await members.add(peerURLs, isLearner);
          if (!result.ok) return result;
          const member = result.value.member;
          if (!member) return fail(ETCD_ERRORS.memberNotFound);
          return {
            ok: true,
            value: { member: toMember(member), members: result.value.members.map(toMember) },
          };
        },
        '/etcdserverpb.Cluster/MemberAdd',
        encodeMemberAddRequest({ peerURLs, isLearner }),
        (bytes) => {
          const response = decodeMemberAddResponse(bytes);
          if (!response.member) throw new Error('MemberAdd answered without the member');
          return { member: response.member, members: response.members };
        },
      ),
    removeMember: (id) =>
      onLeader(
        async () => {
          const result = await members.remove(id);
          return result.ok ? { ok: true, value: list() } : result;
        },
        '/etcdserverpb.Cluster/MemberRemove',
        encodeMemberIdRequest({ id }),
        membersOf,
      ),
    async updateMember(id, peerURLs) {
      const result = await members.update(id, peerURLs);
      return result.ok ? { ok: true, value: list() } : result;
    },
    async listMembers(linearizable) {
      if (linearizable) {
        const error = await server.state.linearizableBarrier();
        if (error) return fail(error);
      }
      return { ok: true, value: list() };
    },
    promoteMember: (id) =>
      onLeader(
        async () => {
          const result = await members.promote(id);
          return result.ok ? { ok: true, value: list() } : result;
        },
        '/etcdserverpb.Cluster/MemberPromote',
        encodeMemberIdRequest({ id }),
        membersOf,
      ),
  };
}

/** MoveLeader: on the leader, transfer and wait for the target to lead; elsewhere, relay it. */
async function moveLeader(
  server: SynodServer,
  targetId: bigint,
): Promise<AdminResult<Record<string, never>>> {
  const state = () => server.state.state;
  const driver = server.driver;
  if (driver.node.raft.role !== 'leader') {
    const forwarded = await server.forwarder.call(
      '/etcdserverpb.Maintenance/MoveLeader',
      encodeMoveLeaderRequest({ targetId }),
      MOVE_LEADER_TIMEOUT_MS + 1_000,
    );
    return forwarded.ok ? { ok: true, value: {} } : forwarded;
  }
  const target = raftIdOf(targetId);
  if (!state().members.get(targetId)) return fail(ETCD_ERRORS.memberNotFound);
  if (target === server.self.raftId) return { ok: true, value: {} };
  if (!driver.transferLeadership(target)) return fail(ETCD_ERRORS.timeout);
  const deadline = Date.now() + MOVE_LEADER_TIMEOUT_MS;
  while (driver.node.raft.lead !== target) {
    if (Date.now() > deadline) return fail(ETCD_ERRORS.timeout);
    await new Promise((resolve) => setTimeout(resolve, MOVE_LEADER_POLL_MS));
  }
  return { ok: true, value: {} };
}

/** Snapshots cut short by a compaction before the next is built at once. */
const STALE_SNAPSHOT_RETRIES = 3;

/**
 * The replicated state as a snapshot holds it, built a step per event-loop turn (a large store
 * would otherwise stall the member for the whole encoding), with the revision it was taken at.
 * A compaction or a snapshot installed from the leader midway starts it again; after a few, it is
 * built at once.
 */
async function snapshotInTurns(state: () => ClusterState): Promise<{ bytes: Uint8Array; revision: number }> {
  for (let attempt = 0; attempt < STALE_SNAPSHOT_RETRIES; attempt++) {
    const current = state();
    const revision = current.kv.currentRevision;
    const bytes = await buildInTurns(current.beginSnapshot(), () => state() !== current);
    if (bytes !== undefined) return { bytes, revision };
  }
  const current = state();
  return { bytes: current.snapshot(), revision: current.kv.currentRevision };
}
