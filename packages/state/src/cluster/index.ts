export {
  type AlarmMember,
  type AlarmType,
  type ClusterApplied,
  type ClusterCommand,
  type ClusterResponse,
  type ClusterSnapshotBuilder,
  ClusterSnapshotError,
  ClusterState,
  type ClusterStateOptions,
  type MemberChange,
} from './cluster-state.js';
export {
  type ClusterMember,
  MAX_LEARNERS,
  MEMBER_ERRORS,
  type MemberChangeContext,
  MemberStore,
} from './members.js';
