import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PeerStats } from '../transport/transport-options.js';
import { CellHistogram } from './cell-histogram.js';
import { GrpcMetrics, type RaftGaugeState, SynodMetrics } from './metrics.js';
import { type PromFamily, parsePrometheusText } from './prom-text-parser.js';
import { REQUIRED_FAMILIES } from './required-families.fixture.js';

const peer = (nodeId: string, sentMessages: number): PeerStats => ({
  nodeId,
  connected: true,
  linkBlocked: false,
  queuedBytes: 0,
  queuedMessages: 2,
  sentMessages,
  sentBatches: 1,
  sentBytes: 100 * sentMessages,
  receivedMessages: 0,
  droppedMessages: 0,
  blockedMessages: 0,
  reconnects: 0,
  rttMs: 1.5,
});

async function scrape(metrics: SynodMetrics): Promise<ReadonlyMap<string, PromFamily>> {
  const result = parsePrometheusText((await metrics.scrape()).body);
  if (!result.ok) assert.fail(`line ${result.error.line}: ${result.error.message}`);
  return result.families;
}

function value(families: ReadonlyMap<string, PromFamily>, name: string, labels: Record<string, string> = {}) {
  const samples = [...families.values()].flatMap((family) => family.samples);
  const match = samples.find(
    (sample) => sample.name === name && Object.entries(labels).every(([k, v]) => sample.labels[k] === v),
  );
  return match?.value;
}

describe('SynodMetrics', () => {
  it('exposes every required family, typed, in a well-formed exposition', async () => {
    const raft: RaftGaugeState = {
      term: 7,
      commitIndex: 40,
      appliedIndex: 39,
      lastIndex: 41,
      role: 'leader',
      leader: 'aa',
    };
    const metrics = new SynodMetrics({
      sources: {
        raft: () => raft,
        walBytesWritten: () => 4096,
        peers: () => new Map([['bb', peer('bb', 12)]]),
      },
    });
    metrics.wal.observeFsyncSeconds(0.002);
    metrics.wal.observeAppendSeconds(0.003);
    GrpcMetrics.record(metrics.grpc.forMethod('etcdserverpb.KV/Put'), 0, 0.004);
    const families = await scrape(metrics);
    for (const [name, type] of Object.entries(REQUIRED_FAMILIES)) {
      assert.equal(families.get(name)?.type, type, `${name} should be a ${type}`);
    }
    assert.equal(value(families, 'synod_raft_term', { group: '0' }), 7);
    assert.equal(value(families, 'synod_raft_commit_index', { group: '0' }), 40);
    assert.equal(value(families, 'synod_raft_role', { role: 'leader' }), 1);
    assert.equal(value(families, 'synod_raft_role', { role: 'follower' }), 0);
    assert.equal(value(families, 'synod_wal_bytes_written_total'), 4096);
    assert.equal(value(families, 'synod_peer_sent_messages_total', { peer: 'bb' }), 12);
    assert.equal(value(families, 'synod_peer_send_queue_depth', { peer: 'bb' }), 2);
    assert.equal(value(families, 'synod_peer_round_trip_seconds', { peer: 'bb' }), 0.0015);
    assert.equal(value(families, 'synod_wal_fsync_duration_seconds_count'), 1);
  });

  it('counts gRPC requests by method and code, and latency by method', async () => {
    const metrics = new SynodMetrics({ processMetrics: false });
    const put = metrics.grpc.forMethod('etcdserverpb.KV/Put');
    assert.equal(metrics.grpc.forMethod('etcdserverpb.KV/Put'), put, 'cells are cached per method');
    GrpcMetrics.record(put, 0, 0.001);
    GrpcMetrics.record(put, 0, 0.2);
    GrpcMetrics.record(put, 14, 7);
    metrics.grpc.inflight = 3;
    const families = await scrape(metrics);
    const method = 'etcdserverpb.KV/Put';
    assert.equal(value(families, 'synod_grpc_requests_total', { method, code: 'OK' }), 2);
    assert.equal(value(families, 'synod_grpc_requests_total', { method, code: 'UNAVAILABLE' }), 1);
    assert.equal(value(families, 'synod_grpc_request_duration_seconds_count', { method }), 3);
    assert.equal(value(families, 'synod_grpc_request_duration_seconds_bucket', { method, le: '0.001' }), 1);
    assert.equal(value(families, 'synod_grpc_request_duration_seconds_bucket', { method, le: '0.25' }), 2);
    assert.equal(value(families, 'synod_grpc_inflight_requests'), 3);
  });

  it('store gauges read 0 until pointed at a source, and a failing source does not fail the scrape', async () => {
    const metrics = new SynodMetrics({ processMetrics: false });
    assert.equal(value(await scrape(metrics), 'synod_watchers'), 0);
    metrics.setStoreSource('watchers', () => 5);
    metrics.setStoreSource('leases', () => {
      throw new Error('not wired');
    });
    const families = await scrape(metrics);
    assert.equal(value(families, 'synod_watchers'), 5);
    assert.equal(value(families, 'synod_leases'), 0);
  });

  it('raft event counters start at 0 and count what the driver reports', async () => {
    const metrics = new SynodMetrics({ processMetrics: false, group: '3' });
    assert.equal(value(await scrape(metrics), 'synod_raft_proposals_total', { group: '3' }), 0);
    metrics.raft.onProposal(4);
    metrics.raft.onLeaderChange();
    metrics.raft.onSnapshot();
    const families = await scrape(metrics);
    assert.equal(value(families, 'synod_raft_proposals_total', { group: '3' }), 4);
    assert.equal(value(families, 'synod_raft_leader_changes_total', { group: '3' }), 1);
    assert.equal(value(families, 'synod_raft_snapshots_total', { group: '3' }), 1);
  });

  it('members in one process keep separate registries', async () => {
    const first = new SynodMetrics();
    const second = new SynodMetrics();
    GrpcMetrics.record(first.grpc.forMethod('s/M'), 0, 0.01);
    assert.equal(value(await scrape(first), 'synod_grpc_requests_total', { method: 's/M' }), 1);
    assert.equal(value(await scrape(second), 'synod_grpc_requests_total', { method: 's/M' }), undefined);
  });
});

describe('CellHistogram', () => {
  it('puts a value equal to a bound in that bucket (le is inclusive) and resets', async () => {
    const histogram = new CellHistogram({ name: 'h_seconds', help: 'h', labelNames: ['m'], buckets: [1, 2] });
    const cells = histogram.cells('x');
    for (const observed of [1, 1.5, 2, 3]) cells.observe(observed);
    assert.deepEqual([...cells.bucketCounts], [1, 2, 1]);
    const exported = await histogram.get();
    assert.deepEqual(
      exported.values.map((entry) => [entry.metricName, entry.labels.le, entry.value]),
      [
        ['h_seconds_bucket', 1, 1],
        ['h_seconds_bucket', 2, 3],
        ['h_seconds_bucket', '+Inf', 4],
        ['h_seconds_sum', undefined, 7.5],
        ['h_seconds_count', undefined, 4],
      ],
    );
    histogram.reset();
    assert.equal(cells.count, 0);
  });

  it('refuses buckets that do not increase and label counts that do not match', () => {
    assert.throws(
      () => new CellHistogram({ name: 'h', help: 'h', labelNames: [], buckets: [2, 1] }),
      /increase/,
    );
    const histogram = new CellHistogram({ name: 'h', help: 'h', labelNames: ['a'], buckets: [1] });
    assert.throws(() => histogram.cells(), /takes labels a/);
  });
});
