import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { context as contextApi, trace } from '@opentelemetry/api';
import type { PutRequest, RangeRequest } from '@synod/state';
import { ClusterState, ETCD_ERRORS, rangeRequest } from '@synod/state';
import { AsyncLocalContextManager, MemoryTracerProvider } from '../observability/memory-tracer.fixture.js';
import { startDriverCluster, waitFor } from '../raft-driver/driver.fixture.js';
import type { RaftDriver } from '../raft-driver/raft-driver.js';
import { StateService } from './state-service.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);

function put(key: string, value: string): PutRequest {
  return {
    key: bytes(key),
    value: bytes(value),
    lease: 0n,
    prevKv: true,
    ignoreValue: false,
    ignoreLease: false,
  };
}

function get(key: string, serializable = false): RangeRequest {
  return rangeRequest(bytes(key), { serializable });
}

function startCluster(ids: string[]) {
  const cluster = startDriverCluster(
    ids,
    (id, driver) =>
      new StateService({
        nodeId: id,
        driver,
        createState: (snapshot) => (snapshot ? ClusterState.restore(snapshot) : new ClusterState()),
        requestTimeoutMs: 2_000,
        maxPendingWrites: 1_000,
      }),
    40,
  );
  return {
    drivers: cluster.drivers,
    services: cluster.machines,
    stop: () => {
      cluster.stop();
      for (const service of cluster.machines.values()) service.close();
    },
  };
}

describe('StateService over three Raft drivers', () => {
  test('a put on a follower is forwarded, answered with its revision, and read back linearizably elsewhere', async () => {
    const cluster = startCluster(['a', 'b', 'c']);
    try {
      await waitFor(
        () => [...cluster.drivers.values()].every((d) => d.node.raft.lead !== ''),
        'a known leader',
      );
      const follower = [...cluster.drivers.entries()].find(([, d]) => d.node.raft.role !== 'leader')![0];
      const written = await cluster.services.get(follower)!.write({ kind: 'put', request: put('k', 'v1') });
      assert.ok(written.ok, JSON.stringify(written));
      assert.equal(written.revision, 2, 'etcd starts at revision 1; the first put makes 2');
      for (const service of cluster.services.values()) {
        const read = await service.range(get('k'));
        assert.ok(read.ok);
        assert.equal(text(read.value.kvs[0]!.value), 'v1');
        assert.equal(read.value.kvs[0]!.modRevision, 2);
      }
    } finally {
      cluster.stop();
    }
  });

  test('many writes survive snapshots and compaction, and every member converges on the same revision', async () => {
    const cluster = startCluster(['a', 'b', 'c']);
    try {
      await waitFor(
        () => [...cluster.drivers.values()].every((d) => d.node.raft.lead !== ''),
        'a known leader',
      );
      const services = [...cluster.services.values()];
      const results = await Promise.all(
        Array.from({ length: 150 }, (_, i) =>
          services[i % 3]!.write({ kind: 'put', request: put(`k${i % 7}`, `v${i}`) }),
        ),
      );
      assert.ok(results.every((r) => r.ok));
      const revisions = new Set(results.map((r) => (r.ok ? r.revision : -1)));
      assert.equal(revisions.size, 150, 'each put got its own revision');
      await waitFor(() => services.every((s) => s.revision === 151), 'every member at revision 151');
    } finally {
      cluster.stop();
    }
  });

  test("an invalid request is refused with etcd's error and changes nothing", async () => {
    const cluster = startCluster(['a', 'b', 'c']);
    try {
      await waitFor(
        () => [...cluster.drivers.values()].every((d) => d.node.raft.lead !== ''),
        'a known leader',
      );
      const service = [...cluster.services.values()][0]!;
      const result = await service.write({ kind: 'put', request: put('', 'x') });
      assert.deepEqual(result, {
        ok: false,
        error: { code: 'InvalidArgument', message: 'etcdserver: key is not provided' },
      });
      assert.equal(service.revision, 1);
      const big = await service.write({ kind: 'put', request: put('big', 'x'.repeat(1_600_000)) });
      assert.deepEqual(big, {
        ok: false,
        error: { code: 'InvalidArgument', message: 'etcdserver: request is too large' },
      });
      assert.equal(service.revision, 1, 'nothing was proposed');
    } finally {
      cluster.stop();
    }
  });
});

describe('Raft spans of a traced write', () => {
  test('propose and commit are children of the request span; every member applies under it', async () => {
    const provider = new MemoryTracerProvider();
    trace.setGlobalTracerProvider(provider);
    contextApi.setGlobalContextManager(new AsyncLocalContextManager());
    const cluster = startCluster(['a', 'b', 'c']);
    try {
      await waitFor(
        () => [...cluster.drivers.values()].every((d) => d.node.raft.lead !== ''),
        'a known leader',
      );
      const request = provider.getTracer('test').startSpan('client request');
      const written = await contextApi.with(trace.setSpan(contextApi.active(), request), () =>
        cluster.services.get('a')!.write({ kind: 'put', request: put('traced', 'yes') }),
      );
      request.end();
      assert.ok(written.ok);
      await waitFor(() => provider.named('raft.apply').length === 3, 'every member to apply');
      const [propose] = provider.named('raft.propose');
      const [commit] = provider.named('raft.commit');
      assert.equal(propose?.parentSpanId, request.spanContext().spanId);
      assert.equal(commit?.parentSpanId, request.spanContext().spanId);
      for (const apply of provider.named('raft.apply')) {
        assert.equal(apply.traceId, request.spanContext().traceId);
        assert.equal(apply.parentSpanId, propose?.spanId, 'apply continues the trace carried in the log');
      }
    } finally {
      cluster.stop();
      trace.disable();
      contextApi.disable();
    }
  });
});

describe('StateService timeouts', () => {
  test("a proposal that is never applied times out with etcd's error; later ones are unaffected", async () => {
    // A driver that accepts proposals and never commits them (a leader that died with them).
    const lostDriver = { node: { raft: { lead: 'gone' } }, propose: () => {} } as unknown as RaftDriver;
    const service = new StateService({
      nodeId: 'a',
      driver: () => lostDriver,
      createState: () => new ClusterState(),
      requestTimeoutMs: 150,
      maxPendingWrites: 10,
    });
    try {
      const started = Date.now();
      const first = service.write({ kind: 'put', request: put('k', 'v') });
      await new Promise((resolve) => setTimeout(resolve, 60));
      const second = service.write({ kind: 'put', request: put('k', 'w') });
      const firstResult = await first;
      assert.deepEqual(firstResult, { ok: false, error: ETCD_ERRORS.timeout });
      assert.ok(Date.now() - started >= 150, 'not before the timeout');
      assert.equal(service.pendingProposals, 1, 'the younger proposal is still waiting');
      assert.deepEqual(await second, { ok: false, error: ETCD_ERRORS.timeout });
    } finally {
      service.close();
    }
  });
});
