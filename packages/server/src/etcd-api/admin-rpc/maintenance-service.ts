// etcd's Maintenance gRPC service, thin (STYLE §4): the codecs decode, a MaintenanceBackend does
// the work, these handlers add etcd's response header and map EtcdErrors to etcd's gRPC statuses.
import type { ResponseHeader } from '@synod/state';
import { type ServerStreamCall, serverStreaming, unary } from '../../grpc/methods.js';
import type { GrpcServer } from '../../grpc/server.js';
import type { StatusResponse } from '../proto/types.js';
import {
  ADMIN_METHOD_CODECS,
  type AlarmMember,
  type AlarmRequest,
  type AlarmResponse,
  type HashKvResponse,
  type HashResponse,
  type HeaderOnlyResponse,
  type SnapshotResponse,
} from './admin-messages.js';
import { type AdminResult, answered } from './admin-result.js';
import { SNAPSHOT_CHUNK_BYTES, snapshotFileParts } from './snapshot-file.js';

/** The response header at a store revision (cluster and member ids, Raft term filled in). */
export type HeaderAt = (revision: number) => ResponseHeader;

/** What Status reports, before the handler adds the header and derives `errors`. */
export interface MemberStatus {
  readonly version: string;
  readonly dbSize: number;
  /** 0n when this member knows no leader. */
  readonly leader: bigint;
  readonly raftIndex: number;
  readonly raftTerm: number;
  readonly raftAppliedIndex: number;
  readonly dbSizeInUse: number;
  readonly isLearner: boolean;
  /** The raised alarms (each becomes one entry of `errors`). */
  readonly alarms: readonly AlarmMember[];
}

type Done = Readonly<Record<string, never>>;

/**
 * The server side of Maintenance. Alarm changes go through the Raft log (etcd proposes even GET);
 * the rest read this member's state or act on it.
 */
export interface MaintenanceBackend {
  /** The store's revision now: etcd puts it in the headers of Status, Alarm, Defragment, MoveLeader. */
  currentRevision(): number;
  /**
   * GET: the raised alarms (memberId 0n and alarm NONE match any). ACTIVATE/DEACTIVATE: the alarm
   * raised or cleared, or none when nothing changed.
   */
  alarm(request: AlarmRequest): Promise<AdminResult<readonly AlarmMember[]>>;
  status(): Promise<AdminResult<MemberStatus>>;
  defragment(): Promise<AdminResult<Done>>;
  /** A checksum of the whole store, and the revision it covers. */
  hash(): Promise<AdminResult<{ readonly hash: number; readonly revision: number }>>;
  /**
   * `@synod/state`'s MvccStore.hashKv at `revision` (0: now): the hash, the compaction revision,
   * and the store's current revision for the header. Errors: compacted, futureRevision.
   */
  hashKv(
    revision: number,
  ): Promise<
    AdminResult<{ readonly hash: number; readonly compactRevision: number; readonly revision: number }>
  >;
  /** This member's whole state, self-delimiting (see snapshot-file.ts for what is sent around it). */
  snapshot(): Promise<AdminResult<Uint8Array>>;
  /**
   * Hands leadership to `targetId`, answering once it has it. Errors: notLeader when this member
   * is not the leader, etcd's "bad leader transferee" for an unknown or learner target, timeouts.
   */
  moveLeader(targetId: bigint): Promise<AdminResult<Done>>;
}

/** etcd's message for an empty leader in Status.errors (ErrNoLeader). */
const NO_LEADER_ERROR = 'etcdserver: no leader';

/**
 * Registers `etcdserverpb.Maintenance` (Alarm, Status, Defragment, Hash, HashKV, Snapshot,
 * MoveLeader) on `grpc`.
 *
 * @example
 * registerMaintenanceService(grpc, backend, (revision) => ({ clusterId, memberId, revision, raftTerm }));
 */
export function registerMaintenanceService(
  grpc: GrpcServer,
  backend: MaintenanceBackend,
  header: HeaderAt,
): void {
  const codecs = ADMIN_METHOD_CODECS.Maintenance;
  const now = (): ResponseHeader => header(backend.currentRevision());
  grpc.addService('etcdserverpb.Maintenance', {
    Alarm: unary(codecs.Alarm, async (request): Promise<AlarmResponse> => {
      const alarms = answered(await backend.alarm(request));
      return { header: now(), alarms };
    }),
    Status: unary(codecs.Status, async () => statusResponse(answered(await backend.status()), now())),
    Defragment: unary(codecs.Defragment, async (): Promise<HeaderOnlyResponse> => {
      answered(await backend.defragment());
      return { header: now() };
    }),
    Hash: unary(codecs.Hash, async (): Promise<HashResponse> => {
      const { hash, revision } = answered(await backend.hash());
      return { header: header(revision), hash };
    }),
    HashKV: unary(codecs.HashKV, async (request): Promise<HashKvResponse> => {
      const { hash, compactRevision, revision } = answered(await backend.hashKv(request.revision));
      return { header: header(revision), hash, compactRevision };
    }),
    Snapshot: serverStreaming(codecs.Snapshot, async (_request, call) =>
      sendSnapshot(answered(await backend.snapshot()), now(), call),
    ),
    MoveLeader: unary(codecs.MoveLeader, async (request): Promise<HeaderOnlyResponse> => {
      answered(await backend.moveLeader(request.targetId));
      return { header: now() };
    }),
  });
}

/** etcd's Status: `errors` lists "no leader" when there is none, then each alarm as Go prints it. */
export function statusResponse(status: MemberStatus, header: ResponseHeader): StatusResponse {
  const errors = status.leader === 0n ? [NO_LEADER_ERROR] : [];
  for (const alarm of status.alarms) errors.push(alarmText(alarm));
  return {
    header,
    version: status.version,
    dbSize: status.dbSize,
    leader: status.leader,
    raftIndex: status.raftIndex,
    raftTerm: status.raftTerm,
    raftAppliedIndex: status.raftAppliedIndex,
    errors,
    dbSizeInUse: status.dbSizeInUse,
    isLearner: status.isLearner,
  };
}

/** An AlarmMember in protobuf's compact text format, as etcd's `a.String()` gives it. */
function alarmText(alarm: AlarmMember): string {
  return `memberID:${alarm.memberId} alarm:${alarm.alarm} `;
}

/**
 * Streams the state in SNAPSHOT_CHUNK_BYTES pieces (each saying how many bytes remain), then the
 * SHA-256 digest, awaiting each send so a slow client holds at most one chunk in our buffers.
 */
async function sendSnapshot(
  state: Uint8Array,
  header: ResponseHeader,
  call: ServerStreamCall<SnapshotResponse>,
) {
  const { body, digest } = snapshotFileParts(state);
  let first: ResponseHeader | undefined = header;
  for (let sent = 0; sent < body.length; ) {
    const blob = body.subarray(sent, sent + SNAPSHOT_CHUNK_BYTES);
    sent += blob.length;
    await call.send({ header: first, remainingBytes: body.length - sent, blob });
    first = undefined;
  }
  await call.send({ header: first, remainingBytes: 0, blob: digest });
}
