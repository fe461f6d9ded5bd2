// The metric families every member must expose, with their types: what dashboards and alerts rely on.
import type { PromFamily } from './prom-text-parser.js';

/** The families every member exposes, with their types (the contract dashboards and alerts use). */
export const REQUIRED_FAMILIES: Readonly<Record<string, PromFamily['type']>> = {
  synod_raft_term: 'gauge',
  synod_raft_commit_index: 'gauge',
  synod_raft_applied_index: 'gauge',
  synod_raft_last_index: 'gauge',
  synod_raft_role: 'gauge',
  synod_raft_leader_changes_total: 'counter',
  synod_raft_proposals_total: 'counter',
  synod_raft_snapshots_total: 'counter',
  synod_wal_fsync_duration_seconds: 'histogram',
  synod_wal_append_duration_seconds: 'histogram',
  synod_wal_bytes_written_total: 'counter',
  synod_peer_sent_messages_total: 'counter',
  synod_peer_sent_bytes_total: 'counter',
  synod_peer_send_queue_depth: 'gauge',
  synod_grpc_requests_total: 'counter',
  synod_grpc_request_duration_seconds: 'histogram',
  synod_grpc_inflight_requests: 'gauge',
  synod_watchers: 'gauge',
  synod_leases: 'gauge',
  synod_mvcc_keys: 'gauge',
  synod_mvcc_db_size_bytes: 'gauge',
  synod_process_cpu_seconds_total: 'counter',
  synod_process_resident_memory_bytes: 'gauge',
  synod_nodejs_eventloop_lag_seconds: 'gauge',
};
