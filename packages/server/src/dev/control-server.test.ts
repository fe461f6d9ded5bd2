// The control server's HTTP surface, over a stub supervisor: routing, validation, answers.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { createControlServer, type DevControl, listenControlServer } from './control-server.js';
import type { PartitionGroups } from './partition.js';
import type { DevActionResult } from './supervisor.js';

describe('synod dev control server', () => {
  const calls: string[] = [];
  const ok = (message: string): Promise<DevActionResult> => Promise.resolve({ ok: true, message });
  const record = (call: string, message: string): Promise<DevActionResult> => {
    calls.push(call);
    return ok(message);
  };
  const control: DevControl = {
    memberNames: ['n1', 'n2', 'n3'],
    kill: (name) => record(`kill ${name}`, `${name} killed`),
    restart: (name) =>
      name === 'n9'
        ? Promise.resolve({ ok: false, status: 404, error: 'no member "n9"' })
        : record(`restart ${name}`, `${name} starting`),
    partition: (groups: PartitionGroups) => record(`partition ${JSON.stringify(groups)}`, 'partitioned'),
    heal: () => record('heal', 'healed'),
    status: () => [{ name: 'n1', running: true }],
  };
  let server: Server;
  let base: string;

  before(async () => {
    server = createControlServer(control);
    base = `http://127.0.0.1:${await listenControlServer(server, 0)}`;
  });
  after(() => {
    server.close();
  });

  async function call(method: string, path: string, body?: string) {
    const response = await fetch(`${base}${path}`, body === undefined ? { method } : { method, body });
    const text = await response.text();
    return {
      status: response.status,
      json: text ? JSON.parse(text) : null,
      cors: response.headers.get('access-control-allow-origin'),
    };
  }

  test('kill, restart, partition and heal reach the supervisor and answer its message', async () => {
    assert.deepEqual(await call('POST', '/api/dev/kill?member=n1'), {
      status: 200,
      json: { ok: true, message: 'n1 killed' },
      cors: '*',
    });
    assert.equal((await call('POST', '/api/dev/restart?member=n1')).status, 200);
    assert.equal((await call('POST', '/api/dev/partition', '{"groups":[["n1"],["n2","n3"]]}')).status, 200);
    assert.equal((await call('POST', '/api/dev/heal')).status, 200);
    assert.deepEqual(calls, ['kill n1', 'restart n1', 'partition [["n1"],["n2","n3"]]', 'heal']);
  });

  test('the supervisor refusal keeps its status and reason', async () => {
    assert.deepEqual((await call('POST', '/api/dev/restart?member=n9')).json, {
      ok: false,
      error: 'no member "n9"',
    });
  });

  test('bad requests are answered with 4xx and a reason, never reach the supervisor', async () => {
    calls.length = 0;
    assert.equal((await call('POST', '/api/dev/kill')).status, 400);
    const badGroups = await call('POST', '/api/dev/partition', '{"groups":[["n7"]]}');
    assert.equal(badGroups.status, 400);
    assert.match(badGroups.json.error, /unknown member "n7"/);
    assert.equal((await call('POST', '/api/dev/partition', 'x'.repeat(20_000))).status, 413);
    assert.equal((await call('GET', '/api/dev/kill?member=n1')).status, 405);
    assert.equal((await call('POST', '/api/dev/explode')).status, 404);
    assert.deepEqual(calls, []);
  });

  test('members status and CORS preflight are served', async () => {
    assert.deepEqual((await call('GET', '/api/dev/members')).json, [{ name: 'n1', running: true }]);
    assert.equal((await call('OPTIONS', '/api/dev/partition')).status, 204);
  });
});
