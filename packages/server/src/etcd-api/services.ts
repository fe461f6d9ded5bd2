// etcd v3 gRPC services, thin (STYLE §4): decode (done by the codecs), call the KV service,
// add etcd's response header, map EtcdErrors to gRPC statuses with etcd's exact messages.
import type { KvWriteRequest, KvWriteResponse, ResponseHeader } from '@synod/state';
import { unary } from '../grpc/methods.js';
import type { GrpcServer } from '../grpc/server.js';
import type { SynodServer } from '../node/synod-server.js';
import { registerClusterService } from './admin-rpc/cluster-service.js';
import { registerMaintenanceService } from './admin-rpc/maintenance-service.js';
import { serverClusterBackend, serverMaintenanceBackend } from './admin-rpc/server-admin-backend.js';
import { registerElectionService } from './concurrency/election-service.js';
import { registerLockService } from './concurrency/lock-service.js';
import { serverConcurrencyBackend } from './concurrency/server-backend.js';
import { etcdErrorToGrpc } from './etcd-grpc-error.js';
import { registerLeaseService } from './lease/lease-service.js';
import { MemberAdmin } from './member-admin.js';
import { ETCD_METHOD_CODECS } from './proto/messages.js';
import type { StateResult } from './state-service.js';

/** The version etcdctl shows: the etcd API level we serve. */
export const SERVED_ETCD_VERSION = '3.4.0';
/** The cluster version /version reports (etcd reports major.minor.0). */
export const SERVED_ETCD_CLUSTER_VERSION = '3.4.0';

const toGrpcError = etcdErrorToGrpc;

function unwrap<T>(result: StateResult<T>): { value: T; revision: number } {
  if (!result.ok) throw toGrpcError(result.error);
  return { value: result.value, revision: result.revision };
}

/** etcd's response header as this member answers it. */
export function responseHeaderOf(server: SynodServer): (revision: number) => ResponseHeader {
  return (revision) => ({
    clusterId: server.clusterId,
    memberId: server.self.id,
    revision,
    raftTerm: server.driver.node.raft.term,
  });
}

export function registerEtcdServices(grpc: GrpcServer, server: SynodServer): void {
  const header = responseHeaderOf(server);
  // Plain promise chains rather than async functions: a write's path runs tens of thousands of
  // times a second, and each async frame is a generator and promises for the GC.
  const write = <K extends KvWriteRequest['kind']>(request: Extract<KvWriteRequest, { kind: K }>) =>
    server.state.write(request).then((result) => {
      const { value, revision } = unwrap(result);
      return { response: value as Extract<KvWriteResponse, { kind: K }>, header: header(revision) };
    });
  const codecs = ETCD_METHOD_CODECS;
  grpc.addService('etcdserverpb.KV', {
    Range: unary(codecs.KV.Range, async (request) => {
      const { value, revision } = unwrap(await server.state.range(request));
      return { ...value, header: header(revision) };
    }),
    Put: unary(codecs.KV.Put, (request) =>
      write({ kind: 'put', request }).then(({ response, header: responseHeader }) => ({
        ...response.response,
        header: responseHeader,
      })),
    ),
    DeleteRange: unary(codecs.KV.DeleteRange, async (request) => {
      const { response, header: responseHeader } = await write({ kind: 'deleteRange', request });
      return { ...response.response, header: responseHeader };
    }),
    Txn: unary(codecs.KV.Txn, async (request) => {
      const { response, header: responseHeader } = await write({ kind: 'txn', request });
      return { ...response.response, header: responseHeader };
    }),
    Compact: unary(codecs.KV.Compact, async (request) => {
      const { header: responseHeader } = await write({ kind: 'compact', request });
      return { header: responseHeader };
    }),
  });
  registerLeaseService(grpc, server.leases, header);
  const concurrency = serverConcurrencyBackend({
    state: server.state,
    watches: server.watches,
    leases: server.leases,
  });
  registerLockService(grpc, concurrency, header);
  registerElectionService(grpc, concurrency, header);
  registerMaintenanceService(grpc, serverMaintenanceBackend(server), header);
  const memberAdmin = new MemberAdmin({
    state: server.state,
    driver: () => server.driver,
    clusterToken: server.config.initialClusterToken,
    selfId: server.self.id,
  });
  registerClusterService(grpc, serverClusterBackend(server, memberAdmin), header);
}
