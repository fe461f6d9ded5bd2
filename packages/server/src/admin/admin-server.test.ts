// The admin HTTP server against a fake backend on 127.0.0.1: every route, its limits, CORS, the
// event streams' coalescing and overflow, static files without traversal, and dev controls.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { KeyValue } from '@synod/state';
import { SynodMetrics } from '../observability/metrics.js';
import { parsePrometheusText } from '../observability/prom-text-parser.js';
import type {
  AdminBackend,
  FaultsResult,
  KeysResult,
  NodeView,
  SimTraceResult,
  WatchTail,
  WatchTailEvent,
} from './admin-backend.js';
import { READY_APPLY_LAG_ENTRIES_MAX } from './admin-backend.js';
import { AdminServer, type AdminServerOptions } from './admin-server.js';
import { openEventStream } from './sse-client.fixture.js';

const silent = { info: () => {}, warn: () => {}, error: () => {} };

function baseView(): NodeView {
  return {
    name: 'n1',
    memberId: 'a1',
    raftId: 'a1',
    clusterId: 'c1',
    clientUrl: 'http://127.0.0.1:2379',
    adminUrl: 'http://127.0.0.1:2381',
    role: 'follower',
    term: 2,
    leader: 'b2',
    commitIndex: 10,
    appliedIndex: 10,
    lastIndex: 10,
    revision: 5,
    keys: 3,
    members: [],
    messageRates: [],
    elections: [{ term: 2, leader: 'b2', atMs: 1 }],
    dev: true,
    uptimeMs: 0,
  };
}

class FakeBackend implements AdminBackend {
  view: NodeView = baseView();
  nodeViewCalls = 0;
  keysCalls: { prefix: string; limit: number }[] = [];
  faults: string[][] = [];
  watchers = new Set<(event: WatchTailEvent) => void>();
  unsubscribes = 0;
  simulation: Promise<SimTraceResult> = Promise.resolve({ ok: true, json: '{"format":"synod.sim-trace"}' });
  private readonly listeners = new Set<() => void>();
  watchTail: WatchTail | undefined = (_prefix, onEvent) => {
    this.watchers.add(onEvent);
    return () => {
      this.unsubscribes++;
      this.watchers.delete(onEvent);
    };
  };

  nodeView(): NodeView {
    this.nodeViewCalls++;
    return this.view;
  }
  subscribe(onChange: () => void): () => void {
    this.listeners.add(onChange);
    return () => this.listeners.delete(onChange);
  }
  change(update: Partial<NodeView>): void {
    this.view = { ...this.view, ...update };
    for (const listener of this.listeners) listener();
  }
  async keys(prefix: Uint8Array, limit: number): Promise<KeysResult> {
    this.keysCalls.push({ prefix: Buffer.from(prefix).toString('utf8'), limit });
    const kv = (key: Uint8Array, value: Uint8Array): KeyValue => ({
      key,
      value,
      createRevision: 2,
      modRevision: 4,
      version: 3,
      lease: 0x1fn,
    });
    return {
      ok: true,
      page: {
        revision: 5,
        kvs: [
          kv(Buffer.from('a/1'), Buffer.from('héllo')),
          kv(Buffer.from('a/2'), new Uint8Array([0xff, 0xfe])),
        ],
        more: true,
      },
    };
  }
  simTrace(): Promise<SimTraceResult> {
    return this.simulation;
  }
  applyFaults(blockedPeers: readonly string[]): FaultsResult {
    if (blockedPeers.includes('ffff'))
      return { ok: false, status: 400, message: 'not peers of this member: ffff' };
    this.faults.push([...blockedPeers]);
    return { ok: true, blockedPeers };
  }
}

async function startAdmin(overrides: Partial<AdminServerOptions> = {}) {
  const backend = (overrides.backend as FakeBackend | undefined) ?? new FakeBackend();
  const metrics = new SynodMetrics({ processMetrics: false });
  const admin = new AdminServer({ backend, metrics, logger: silent, staticDir: null, ...overrides });
  const port = await admin.listen('127.0.0.1', 0);
  return { admin, backend, base: `http://127.0.0.1:${port}`, port };
}

async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

describe('admin server: health, node, metrics', () => {
  let server: Awaited<ReturnType<typeof startAdmin>>;
  before(async () => {
    server = await startAdmin();
  });
  after(() => server.admin.close());

  it('is live while it runs', async () => {
    const response = await fetch(`${server.base}/health/live`);
    assert.equal(response.status, 200);
    assert.deepEqual(await json(response), { status: 'ok' });
  });

  it('is ready with a leader and applied close to commit, and says why not otherwise', async () => {
    server.backend.view = baseView();
    assert.equal((await fetch(`${server.base}/health/ready`)).status, 200);
    server.backend.view = { ...baseView(), leader: '' };
    const noLeader = await fetch(`${server.base}/health/ready`);
    assert.equal(noLeader.status, 503);
    assert.match(String((await json(noLeader)).reason), /no leader/);
    server.backend.view = {
      ...baseView(),
      commitIndex: 10 + READY_APPLY_LAG_ENTRIES_MAX + 1,
      appliedIndex: 10,
    };
    const lagging = await fetch(`${server.base}/health/ready`);
    assert.equal(lagging.status, 503);
    assert.match(String((await json(lagging)).reason), /trails commit index/);
    server.backend.view = baseView();
  });

  it('serves the NodeView with CORS for every origin', async () => {
    const response = await fetch(`${server.base}/api/node`);
    assert.equal(response.headers.get('access-control-allow-origin'), '*');
    assert.deepEqual(await response.json(), baseView());
  });

  it('serves metrics in the Prometheus text format', async () => {
    const response = await fetch(`${server.base}/metrics`);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const parsed = parsePrometheusText(await response.text());
    assert.ok(parsed.ok);
    assert.ok(parsed.families.has('synod_grpc_inflight_requests'));
  });

  it('answers unknown APIs with 404 and other methods with 405', async () => {
    assert.equal((await fetch(`${server.base}/api/nothing`)).status, 404);
    const post = await fetch(`${server.base}/metrics`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
  });
});

describe('admin server: keys', () => {
  let server: Awaited<ReturnType<typeof startAdmin>>;
  before(async () => {
    server = await startAdmin();
  });
  after(() => server.admin.close());

  it('pages keys under a prefix; values that are not UTF-8 come as base64 and say so', async () => {
    const response = await fetch(`${server.base}/api/keys?prefix=a%2F&limit=2`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('access-control-allow-origin'), '*');
    assert.deepEqual(server.backend.keysCalls.at(-1), { prefix: 'a/', limit: 2 });
    assert.deepEqual(await response.json(), {
      revision: 5,
      kvs: [
        { key: 'a/1', value: 'héllo', createRevision: 2, modRevision: 4, version: 3, lease: '1f' },
        {
          key: 'a/2',
          value: Buffer.from([0xff, 0xfe]).toString('base64'),
          encoding: 'base64',
          createRevision: 2,
          modRevision: 4,
          version: 3,
          lease: '1f',
        },
      ],
      more: true,
    });
  });

  it('defaults the limit to 100 and refuses limits outside 1..1000', async () => {
    await fetch(`${server.base}/api/keys`);
    assert.deepEqual(server.backend.keysCalls.at(-1), { prefix: '', limit: 100 });
    for (const limit of ['0', '1001', 'ten', '2.5']) {
      const response = await fetch(`${server.base}/api/keys?limit=${limit}`);
      assert.equal(response.status, 400, `limit=${limit}`);
    }
  });
});

describe('admin server: node stream', () => {
  it('sends the view at once, coalesces bursts of changes, and beats while idle', async () => {
    const intervals = { intervalMsMin: 100, intervalMsMax: 60_000 };
    const { admin, backend, base } = await startAdmin({ nodeEventIntervals: intervals });
    try {
      const openedMs = performance.now();
      const stream = await openEventStream(`${base}/api/node/stream`);
      assert.equal(stream.status, 200);
      assert.match(String(stream.headers['content-type']), /^text\/event-stream/);
      assert.equal(stream.headers['access-control-allow-origin'], '*');
      const first = await stream.next();
      assert.equal(first.event, 'node');
      assert.equal((JSON.parse(first.data) as NodeView).term, 2);
      const callsBefore = backend.nodeViewCalls;
      for (let term = 3; term <= 52; term++) backend.change({ term });
      assert.equal(backend.nodeViewCalls, callsBefore, 'a burst computes nothing until the coalescing timer');
      const second = await stream.next();
      assert.equal((JSON.parse(second.data) as NodeView).term, 52);
      assert.equal(backend.nodeViewCalls, callsBefore + 1, 'one view for the whole burst');
      // The server sent the first event after openedMs and the second at least intervalMsMin later.
      assert.ok(
        performance.now() - openedMs >= intervals.intervalMsMin * 0.95,
        'at most one event per interval',
      );
      stream.close();
    } finally {
      await admin.close();
    }
  });

  it('sends a heartbeat event when nothing changes', async () => {
    const { admin, base } = await startAdmin({
      nodeEventIntervals: { intervalMsMin: 10, intervalMsMax: 30 },
    });
    try {
      const stream = await openEventStream(`${base}/api/node/stream`);
      await stream.next();
      assert.equal((await stream.next()).event, 'node');
      assert.equal((await stream.next()).event, 'node');
      stream.close();
    } finally {
      await admin.close();
    }
  });

  it('refuses event streams beyond the limit and ends open ones on close', async () => {
    const { admin, base } = await startAdmin({ limits: { eventStreamsMax: 2 } });
    const first = await openEventStream(`${base}/api/node/stream`);
    const second = await openEventStream(`${base}/api/watch?prefix=a`);
    const third = await fetch(`${base}/api/node/stream`);
    assert.equal(third.status, 503);
    assert.match(String((await json(third)).error), /too many event streams/);
    await admin.close();
    await first.ended;
    await second.ended;
  });
});

describe('admin server: watch tail', () => {
  it('streams changes under the prefix as kv events and unsubscribes when the client leaves', async () => {
    const { admin, backend, base } = await startAdmin();
    try {
      const stream = await openEventStream(`${base}/api/watch?prefix=a`);
      const [watcher] = backend.watchers;
      assert.ok(watcher);
      watcher({ type: 'PUT', key: Buffer.from('a/1'), value: Buffer.from('v'), modRevision: 7 });
      watcher({ type: 'DELETE', key: Buffer.from('a/1'), value: new Uint8Array(), modRevision: 8 });
      const put = await stream.next();
      assert.equal(put.event, 'kv');
      assert.deepEqual(JSON.parse(put.data), { type: 'PUT', key: 'a/1', value: 'v', modRevision: 7 });
      assert.equal((JSON.parse((await stream.next()).data) as { type: string }).type, 'DELETE');
      stream.close();
      while (backend.unsubscribes === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    } finally {
      await admin.close();
    }
  });

  it('drops a subscriber that stops reading, with an overflow event', async () => {
    const { admin, backend, port } = await startAdmin({ limits: { eventStreamBufferBytesMax: 64 * 1024 } });
    try {
      const socket = connect(port, '127.0.0.1');
      socket.write('GET /api/watch?prefix= HTTP/1.1\r\nhost: x\r\n\r\n');
      while (backend.watchers.size === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      socket.pause(); // the client stops reading
      const value = Buffer.alloc(256 * 1024, 'x');
      let revision = 1;
      for (; backend.unsubscribes === 0 && revision < 10_000; revision++) {
        for (const watcher of backend.watchers)
          watcher({ type: 'PUT', key: Buffer.from('k'), value, modRevision: revision });
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.equal(backend.watchers.size, 0, 'the subscription was dropped');
      // What was buffered still arrives, and ends with the reason the stream stopped.
      const overflow = 'event: overflow\ndata: {"reason":"the client fell behind"}\n\n';
      let tail = '';
      await new Promise<void>((resolve) => {
        socket.on('data', (chunk: Buffer) => {
          tail = (tail + chunk.toString('latin1')).slice(-4 * overflow.length);
          if (tail.includes(overflow)) resolve();
        });
        socket.resume();
      });
      socket.destroy();
    } finally {
      await admin.close();
    }
  });

  it('answers 501 when the member has no watch source', async () => {
    const backend = new FakeBackend();
    backend.watchTail = undefined;
    const { admin, base } = await startAdmin({ backend });
    try {
      assert.equal((await fetch(`${base}/api/watch?prefix=a`)).status, 501);
    } finally {
      await admin.close();
    }
  });
});

describe('admin server: simulator traces', () => {
  it('passes the trace JSON through and runs one simulation at a time', async () => {
    const { admin, backend, base } = await startAdmin();
    try {
      const ok = await fetch(`${base}/api/sim/trace?seed=1`);
      assert.equal(ok.status, 200);
      assert.equal(await ok.text(), '{"format":"synod.sim-trace"}');
      let finish: (result: SimTraceResult) => void = () => {};
      backend.simulation = new Promise((resolve) => {
        finish = resolve;
      });
      const running = fetch(`${base}/api/sim/trace?seed=2`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const busy = await fetch(`${base}/api/sim/trace?seed=3`);
      assert.equal(busy.status, 429);
      finish({ ok: false, status: 400, message: 'unknown mutant "x"' });
      const refused = await running;
      assert.equal(refused.status, 400);
      assert.deepEqual(await refused.json(), { error: 'unknown mutant "x"' });
    } finally {
      await admin.close();
    }
  });
});

describe('admin server: static dashboard files', () => {
  let root: string;
  let server: Awaited<ReturnType<typeof startAdmin>>;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'synod-admin-static-'));
    const publicDir = join(root, 'public');
    await mkdir(join(publicDir, 'assets'), { recursive: true });
    await writeFile(join(publicDir, 'index.html'), '<!doctype html><title>synod</title>');
    await writeFile(join(publicDir, 'assets', 'app.js'), 'export {};');
    await writeFile(join(root, 'secret.txt'), 'secret');
    await symlink(join(root, 'secret.txt'), join(publicDir, 'assets', 'link.txt'));
    server = await startAdmin({ staticDir: publicDir });
  });
  after(async () => {
    await server.admin.close();
    await rm(root, { recursive: true, force: true });
  });

  it('serves the index, the replay page and assets with their content types', async () => {
    const index = await fetch(`${server.base}/`);
    assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(await index.text(), /<title>synod/);
    const replay = await fetch(`${server.base}/replay`);
    assert.equal(replay.status, 200, 'falls back to index.html without replay.html');
    const script = await fetch(`${server.base}/assets/app.js`);
    assert.equal(script.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(await script.text(), 'export {};');
    const head = await fetch(`${server.base}/assets/app.js`, { method: 'HEAD' });
    assert.equal(head.headers.get('content-length'), '10');
  });

  it('never serves a file outside its folder', async () => {
    for (const path of [
      '/assets/..%2f..%2fsecret.txt',
      '/assets/%2e%2e/%2e%2e/secret.txt',
      '/assets/link.txt',
      '/assets/..%5csecret.txt',
      '/assets/%00',
      '/secret.txt',
      '/assets/',
    ]) {
      const response = await fetch(`${server.base}${path}`);
      assert.ok(response.status === 400 || response.status === 404, `${path} → ${response.status}`);
      assert.doesNotMatch(await response.text(), /^secret$/);
    }
  });
});

describe('admin server: dev controls', () => {
  let supervisor: Server;
  let supervisorUrl: string;
  const received: { path: string; body: string }[] = [];
  before(async () => {
    supervisor = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        received.push({ path: request.url ?? '', body });
        response.writeHead(202, { 'content-type': 'application/json' }).end('{"accepted":true}');
      });
    });
    await new Promise<void>((resolve) => supervisor.listen(0, '127.0.0.1', resolve));
    const address = supervisor.address() as { port: number };
    supervisorUrl = `http://127.0.0.1:${address.port}`;
  });
  after(() => new Promise<void>((resolve) => supervisor.close(() => resolve())));

  it('are off unless the member runs under synod dev', async () => {
    const { admin, base } = await startAdmin();
    try {
      const response = await fetch(`${base}/api/dev/faults`, { method: 'POST', body: '{"blockedPeers":[]}' });
      assert.equal(response.status, 404);
    } finally {
      await admin.close();
    }
  });

  it('apply faults here and forward kill, restart, partition and heal to the supervisor', async () => {
    const { admin, backend, base } = await startAdmin({ devControlUrl: supervisorUrl });
    try {
      const faults = await fetch(`${base}/api/dev/faults`, {
        method: 'POST',
        body: '{"blockedPeers":["b2","c3"]}',
      });
      assert.equal(faults.status, 200);
      assert.deepEqual(backend.faults, [['b2', 'c3']]);
      const kill = await fetch(`${base}/api/dev/kill?member=n2`, { method: 'POST' });
      assert.equal(kill.status, 202);
      assert.deepEqual(await kill.json(), { accepted: true });
      const partition = await fetch(`${base}/api/dev/partition`, {
        method: 'POST',
        body: '{"groups":[["n1"],["n2","n3"]]}',
      });
      assert.equal(partition.status, 202);
      assert.deepEqual(received, [
        { path: '/api/dev/kill?member=n2', body: '' },
        { path: '/api/dev/partition', body: '{"groups":[["n1"],["n2","n3"]]}' },
      ]);
      const preflight = await fetch(`${base}/api/dev/heal`, { method: 'OPTIONS' });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers.get('access-control-allow-origin'), '*');
      assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/);
    } finally {
      await admin.close();
    }
  });

  it('refuse bad fault bodies, oversized bodies and unknown peers; report a dead supervisor', async () => {
    const { admin, base } = await startAdmin({
      devControlUrl: 'http://127.0.0.1:9',
      limits: { postBodyBytesMax: 100 },
    });
    try {
      const post = (path: string, body: string) => fetch(`${base}${path}`, { method: 'POST', body });
      assert.equal((await post('/api/dev/faults', 'not json')).status, 400);
      assert.equal((await post('/api/dev/faults', '{"blockedPeers":"b2"}')).status, 400);
      assert.equal((await post('/api/dev/faults', '{"blockedPeers":["NOT-HEX"]}')).status, 400);
      assert.equal((await post('/api/dev/faults', '{"blockedPeers":["ffff"]}')).status, 400);
      assert.equal((await post('/api/dev/faults', `{"blockedPeers":["${'a'.repeat(200)}"]}`)).status, 413);
      assert.equal((await post('/api/dev/explode', '')).status, 404);
      const dead = await post('/api/dev/heal', '');
      assert.equal(dead.status, 502);
      assert.match(String((await json(dead)).error), /did not answer/);
    } finally {
      await admin.close();
    }
  });
});

describe('admin server: connections', () => {
  it('refuses connections beyond its limit', async () => {
    const { admin, base } = await startAdmin({ limits: { connectionsMax: 1 } });
    try {
      const held = await openEventStream(`${base}/api/node/stream`);
      await held.next();
      await assert.rejects(fetch(`${base}/health/live`));
      held.close();
    } finally {
      await admin.close();
    }
  });
});
