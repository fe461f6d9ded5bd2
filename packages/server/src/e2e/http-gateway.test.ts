// etcd's HTTP/1.1 endpoints on the client port of real members, beside gRPC on the same port: the
// JSON gateway (KV, txn, leases, members, status, auth with the Authorization header), /health,
// /version and /metrics, with grpc-gateway's error bodies and HTTP statuses.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bareEndpoint, etcdctl, etcdctlMissing, eventually } from './etcdctl.fixture.js';
import { ProcessCluster } from './process-cluster.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');
const text = (base64: string) => Buffer.from(base64, 'base64').toString();

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

async function call(
  base: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('the HTTP/JSON gateway on the client port', () => {
  let cluster: ProcessCluster;
  let follower: string;
  let any: string;

  before(async () => {
    cluster = await ProcessCluster.create(3);
    await cluster.startAll();
    any = cluster.members[0]!.clientUrl;
    // Find a follower: writes sent to it must be forwarded like gRPC ones.
    for (const member of cluster.members) {
      const status = await call(member.clientUrl, '/v3/maintenance/status', {});
      if (
        status.status === 200 &&
        status.body.leader !== (status.body.header as { member_id: string }).member_id
      )
        follower = member.clientUrl;
    }
    follower ??= any;
  });

  after(async () => {
    await cluster?.stopAll();
  });

  test('/health, /version and /metrics answer as etcd does', async () => {
    // Unhealthy ("RAFT NO LEADER") until the first election is over, as etcd is.
    await eventually(async () => (await fetch(`${any}/health`)).status === 200, 'a healthy member');
    const health = await fetch(`${any}/health`);
    assert.deepEqual(await health.json(), { health: 'true', reason: '' });
    assert.deepEqual(await (await fetch(`${any}/version`)).json(), {
      etcdserver: '3.4.0',
      etcdcluster: '3.4.0',
    });
    for (const probe of ['/livez', '/readyz']) {
      const answer = await fetch(`${any}${probe}`);
      assert.equal(answer.status, 200, probe);
      assert.equal(await answer.text(), 'ok', probe);
    }
    const metrics = await fetch(`${any}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /synod_raft_term/);
  });

  test('put, range, txn and deleterange in JSON, through a follower', async () => {
    const put = await call(follower, '/v3/kv/put', { key: b64('app/color'), value: b64('blue') });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const header = put.body.header as Record<string, string>;
    assert.match(header.revision!, /^\d+$/);
    assert.match(header.cluster_id!, /^\d+$/);
    await call(follower, '/v3/kv/put', { key: b64('app/size'), value: b64('L') });
    const range = await call(follower, '/v3/kv/range', { key: b64('app/'), range_end: b64('app0') });
    assert.equal(range.status, 200);
    assert.equal(range.body.count, '2');
    const kvs = range.body.kvs as { key: string; value: string; version: string; create_revision: string }[];
    assert.deepEqual(
      kvs.map((kv) => [text(kv.key), text(kv.value), kv.version]),
      [
        ['app/color', 'blue', '1'],
        ['app/size', 'L', '1'],
      ],
    );
    // lowerCamelCase names and enum names are accepted too.
    const sorted = await call(any, '/v3/kv/range', {
      key: b64('app/'),
      rangeEnd: b64('app0'),
      sort_order: 'DESCEND',
      keys_only: true,
    });
    assert.deepEqual(
      (sorted.body.kvs as { key: string; value?: string }[]).map((kv) => [text(kv.key), kv.value]),
      [
        ['app/size', undefined],
        ['app/color', undefined],
      ],
    );
    const txn = await call(follower, '/v3/kv/txn', {
      compare: [{ key: b64('app/color'), target: 'VALUE', result: 'EQUAL', value: b64('blue') }],
      success: [{ request_put: { key: b64('app/color'), value: b64('green'), prev_kv: true } }],
      failure: [{ request_range: { key: b64('app/color') } }],
    });
    assert.equal(txn.status, 200, JSON.stringify(txn.body));
    assert.equal(txn.body.succeeded, true);
    const prev = (txn.body.responses as { response_put: { prev_kv: { value: string } } }[])[0]!.response_put
      .prev_kv;
    assert.equal(text(prev.value), 'blue');
    // The same data through gRPC on the same port.
    if (!etcdctlMissing()) {
      assert.equal(await etcdctl(bareEndpoint(any), ['get', 'app/color', '--print-value-only']), 'green');
    }
    const deleted = await call(any, '/v3/kv/deleterange', { key: b64('app/'), range_end: b64('app0') });
    assert.equal(deleted.body.deleted, '2');
  });

  test('leases: grant, attach, time-to-live with keys, list, revoke', async () => {
    const grant = await call(follower, '/v3/lease/grant', { TTL: 60 });
    assert.equal(grant.status, 200, JSON.stringify(grant.body));
    const id = grant.body.ID as string;
    assert.match(id, /^\d+$/);
    assert.equal(grant.body.TTL, '60');
    await call(any, '/v3/kv/put', { key: b64('svc/a'), value: b64('10.0.0.1'), lease: id });
    const ttl = await call(any, '/v3/kv/lease/timetolive', { ID: id, keys: true });
    assert.deepEqual((ttl.body.keys as string[]).map(text), ['svc/a']);
    assert.equal(ttl.body.grantedTTL, '60');
    const leases = await call(any, '/v3/lease/leases', {});
    assert.ok((leases.body.leases as { ID: string }[]).some((lease) => lease.ID === id));
    assert.equal((await call(any, '/v3/lease/revoke', { ID: id })).status, 200);
    const gone = await call(any, '/v3/kv/range', { key: b64('svc/a') });
    assert.equal(gone.body.kvs, undefined);
    assert.equal(gone.body.count, undefined);
  });

  test('members and status', async () => {
    const members = await call(any, '/v3/cluster/member/list', {});
    const list = members.body.members as { ID: string; name: string; peerURLs: string[] }[];
    assert.equal(list.length, 3);
    for (const member of cluster.members) assert.ok(list.some((m) => m.peerURLs.includes(member.peerUrl)));
    const status = await call(any, '/v3/maintenance/status', {});
    assert.equal(status.body.version, '3.4.0');
    assert.match(status.body.leader as string, /^\d+$/);
  });

  test('a watch streams its events as lines of JSON after the request body ends', async () => {
    const abort = new AbortController();
    const response = await fetch(`${follower}/v3/watch`, {
      method: 'POST',
      body: JSON.stringify({ create_request: { key: b64('jobs/'), range_end: b64('jobs0'), prev_kv: true } }),
      signal: abort.signal,
    });
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    let buffered = '';
    const nextLine = async (): Promise<Record<string, unknown>> => {
      for (;;) {
        const newline = buffered.indexOf('\n');
        if (newline >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          return JSON.parse(line) as Record<string, unknown>;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error(`the watch stream ended; left: ${buffered}`);
        buffered += Buffer.from(value).toString();
      }
    };
    try {
      const created = (await nextLine()).result as { created: boolean; watch_id?: string };
      assert.equal(created.created, true);
      await call(any, '/v3/kv/put', { key: b64('jobs/1'), value: b64('queued') });
      await call(any, '/v3/kv/put', { key: b64('jobs/1'), value: b64('done') });
      await call(any, '/v3/kv/deleterange', { key: b64('jobs/1') });
      const events: { type?: string; kv: { key: string; value?: string }; prev_kv?: { value: string } }[] =
        [];
      while (events.length < 3) {
        const result = (await nextLine()).result as { events?: typeof events };
        events.push(...(result.events ?? []));
      }
      assert.deepEqual(
        events.map((event) => [
          event.type ?? 'PUT',
          text(event.kv.key),
          event.kv.value && text(event.kv.value),
        ]),
        [
          ['PUT', 'jobs/1', 'queued'],
          ['PUT', 'jobs/1', 'done'],
          ['DELETE', 'jobs/1', undefined],
        ],
      );
      assert.equal(text(events[1]!.prev_kv!.value), 'queued');
    } finally {
      abort.abort();
    }
    // A bad request in the stream ends it with grpc-gateway's error line.
    const bad = await fetch(`${any}/v3/watch`, { method: 'POST', body: '{"create_request":{"key":"***"}}' });
    const lines = (await bad.text()).trim().split('\n');
    const error = (JSON.parse(lines.at(-1)!) as { error: { grpc_code: number; http_code: number } }).error;
    assert.equal(error.grpc_code, 3);
    assert.equal(error.http_code, 400);
  });

  test("errors come back with grpc-gateway's body and HTTP status", async () => {
    const badJson = await call(any, '/v3/kv/put', '{"key":');
    assert.equal(badJson.status, 400);
    assert.equal(badJson.body.code, 3);
    const unknownField = await call(any, '/v3/kv/put', { key: b64('k'), colour: 'red' });
    assert.equal(unknownField.status, 400);
    assert.match(unknownField.body.error as string, /colour/);
    const emptyKey = await call(any, '/v3/kv/put', { value: b64('v') });
    assert.equal(emptyKey.status, 400);
    assert.equal(emptyKey.body.error, 'etcdserver: key is not provided');
    const future = await call(any, '/v3/kv/range', { key: b64('k'), revision: '99999999' });
    assert.equal(future.status, 400);
    assert.equal(future.body.message, 'etcdserver: mvcc: required revision is a future revision');
    assert.equal((await call(any, '/v3/nothing', {})).status, 404);
    assert.equal((await fetch(`${any}/v3/kv/put`)).status, 405);
    const tooBig = await call(any, '/v3/kv/put', { key: b64('k'), value: 'A'.repeat(5 * 1024 * 1024) });
    assert.equal(tooBig.status, 413);
  });

  test('auth: a token from /v3/auth/authenticate in the Authorization header', async () => {
    assert.equal((await call(any, '/v3/auth/user/add', { name: 'root', password: 'rootpw' })).status, 200);
    assert.equal((await call(any, '/v3/auth/user/grant', { user: 'root', role: 'root' })).status, 200);
    assert.equal((await call(any, '/v3/auth/enable', {})).status, 200);
    try {
      const refused = await call(any, '/v3/kv/put', { key: b64('secret'), value: b64('x') });
      assert.notEqual(refused.status, 200);
      assert.equal(refused.body.error, 'etcdserver: user name is empty');
      const wrong = await call(any, '/v3/auth/authenticate', { name: 'root', password: 'nope' });
      assert.equal(wrong.body.error, 'etcdserver: authentication failed, invalid user ID or password');
      const login = await call(any, '/v3/auth/authenticate', { name: 'root', password: 'rootpw' });
      const token = login.body.token as string;
      assert.ok(token);
      const allowed = await call(
        any,
        '/v3/kv/put',
        { key: b64('secret'), value: b64('x') },
        { authorization: token },
      );
      assert.equal(allowed.status, 200, JSON.stringify(allowed.body));
    } finally {
      const login = await call(any, '/v3/auth/authenticate', { name: 'root', password: 'rootpw' });
      await call(any, '/v3/auth/disable', {}, { authorization: login.body.token as string });
    }
    assert.equal((await call(any, '/v3/kv/put', { key: b64('open'), value: b64('y') })).status, 200);
  });
});
