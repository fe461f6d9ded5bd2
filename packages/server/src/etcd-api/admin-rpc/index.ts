// etcd's Maintenance and Cluster services (see README.md): register them with their backends.
export {
  ADMIN_METHOD_CODECS,
  type AlarmMember,
  type AlarmRequest,
  type AlarmType,
} from './admin-messages.js';
export type { AdminResult } from './admin-result.js';
export { type ClusterBackend, registerClusterService, validPeerUrls } from './cluster-service.js';
export {
  type HeaderAt,
  type MaintenanceBackend,
  type MemberStatus,
  registerMaintenanceService,
  statusResponse,
} from './maintenance-service.js';
export { readSnapshotFile, SNAPSHOT_CHUNK_BYTES, snapshotFileParts } from './snapshot-file.js';
