// The Election service through real gRPC calls (grpc-js clients built from our .proto files):
// one leader at a time with increasing leader revisions, Proclaim/Resign guarded by the leader
// key, Observe following leaders and values, etcd's errors, and clean-up of cancelled campaigns.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type * as grpc from '@grpc/grpc-js';
import { GrpcStatus } from '../../grpc/status.js';
import { ConcurrencyTestServer, call, type Decoded, stream, text } from './concurrency-server.fixture.js';
import { contenderPrefix, prefixRangeEnd, rangeRequest } from './recipe.js';

/** A wait that never ends is a failure, not a hang. */
const TEST_TIMEOUT_MS = 10_000;

describe('Election over gRPC', { timeout: TEST_TIMEOUT_MS }, () => {
  const fixture = new ConcurrencyTestServer();
  let client: grpc.Client;
  const backend = fixture.backend;

  before(async () => {
    await fixture.start();
    client = fixture.client('v3election.proto');
  });
  after(() => fixture.stop());

  const campaign = (name: string, value: string, lease = backend.grant()) =>
    call(client, 'Campaign', { name: Buffer.from(name), lease: lease.toString(), value: Buffer.from(value) });

  async function candidates(name: string): Promise<string[]> {
    const prefix = contenderPrefix(Buffer.from(name));
    const answer = await backend.range(rangeRequest(prefix, { rangeEnd: prefixRangeEnd(prefix) }));
    assert.ok(answer.ok);
    return answer.value.kvs.map((kv) => `${text(kv.key)}=${text(kv.value)}`);
  }

  test('the first candidate leads; the next leads after it resigns, with a larger rev', async () => {
    const first = (await campaign('e1', 'alpha').response).leader as Decoded;
    assert.equal(text(first.name as Buffer), 'e1');
    assert.match(text(first.key as Buffer), /^e1\/[0-9a-f]+$/);
    const leader = await call(client, 'Leader', { name: Buffer.from('e1') }).response;
    assert.equal(text((leader.kv as Decoded).value as Buffer), 'alpha');
    assert.equal((leader.kv as Decoded).create_revision, first.rev);

    const second = campaign('e1', 'beta');
    await until(async () => (await candidates('e1')).length === 2);
    await call(client, 'Resign', { leader: first }).response;
    const next = (await second.response).leader as Decoded;
    assert.ok(Number(next.rev) > Number(first.rev));
    const now = await call(client, 'Leader', { name: Buffer.from('e1') }).response;
    assert.equal(text((now.kv as Decoded).value as Buffer), 'beta');
    await call(client, 'Resign', { leader: next }).response;
  });

  test('Proclaim changes the value while the leader key holds; afterwards it is “election: not leader”', async () => {
    const leader = (await campaign('e2', 'v1').response).leader as Decoded;
    await call(client, 'Proclaim', { leader, value: Buffer.from('v2') }).response;
    assert.deepEqual(await candidates('e2'), [`${text(leader.key as Buffer)}=v2`]);
    await call(client, 'Resign', { leader }).response;
    await assert.rejects(call(client, 'Proclaim', { leader, value: Buffer.from('v3') }).response, {
      code: GrpcStatus.UNKNOWN,
      details: 'election: not leader',
    });
    // Resign of a term that is over succeeds and changes nothing, as etcd's.
    await call(client, 'Resign', { leader }).response;
  });

  test('etcd’s errors: no leader, missing leader key, unknown lease', async () => {
    await assert.rejects(call(client, 'Leader', { name: Buffer.from('nobody') }).response, {
      code: GrpcStatus.UNKNOWN,
      details: 'election: no leader',
    });
    await assert.rejects(call(client, 'Proclaim', { value: Buffer.from('x') }).response, {
      code: GrpcStatus.UNKNOWN,
      details: '"leader" field must be provided',
    });
    await assert.rejects(call(client, 'Resign', {}).response, { details: '"leader" field must be provided' });
    await assert.rejects(campaign('e3', 'x', 12345n).response, {
      code: GrpcStatus.NOT_FOUND,
      details: 'etcdserver: requested lease not found',
    });
  });

  test('campaigning again with the same lease keeps the key and proclaims the new value', async () => {
    const lease = backend.grant();
    const first = (await campaign('e4', 'old', lease).response).leader as Decoded;
    const again = (await campaign('e4', 'new', lease).response).leader as Decoded;
    assert.equal(again.rev, first.rev);
    assert.deepEqual(await candidates('e4'), [`${text(first.key as Buffer)}=new`]);
  });

  test('Observe streams the leader, its proclamations, and the next leader after a resign', async () => {
    const observer = stream(client, 'Observe', { name: Buffer.from('e5') });
    const leader = (await campaign('e5', 'one').response).leader as Decoded;
    const seen = async (): Promise<string> => {
      const message = await observer.next();
      const kv = message.kv as Decoded;
      assert.equal(Number((message.header as Decoded).revision) >= Number(kv.mod_revision), true);
      return `${text(kv.key as Buffer)}=${text(kv.value as Buffer)}`;
    };
    const key = text(leader.key as Buffer);
    assert.equal(await seen(), `${key}=one`);
    const successor = campaign('e5', 'three');
    await until(async () => (await candidates('e5')).length === 2);
    await call(client, 'Proclaim', { leader, value: Buffer.from('two') }).response;
    assert.equal(await seen(), `${key}=two`);
    await call(client, 'Resign', { leader }).response;
    const next = (await successor.response).leader as Decoded;
    assert.equal(await seen(), `${text(next.key as Buffer)}=three`);
    observer.cancel();
    await until(async () => backend.activeWatches === 0);
  });

  test('a cancelled campaign resigns; a candidate whose lease expires while waiting is not leader', async () => {
    const leader = (await campaign('e6', 'boss').response).leader as Decoded;
    const cancelled = campaign('e6', 'quitter');
    const lease = backend.grant();
    const expiring = campaign('e6', 'sleeper', lease);
    await until(async () => (await candidates('e6')).length === 3);
    cancelled.cancel();
    await assert.rejects(cancelled.response, { code: GrpcStatus.CANCELLED });
    await until(async () => (await candidates('e6')).length === 2);
    await backend.expireLease(lease);
    await assert.rejects(expiring.response, { code: GrpcStatus.UNKNOWN, details: 'election: not leader' });
    assert.deepEqual(await candidates('e6'), [`${text(leader.key as Buffer)}=boss`]);
    await until(async () => backend.activeWatches === 0);
  });
});

/** Polls a condition of the server's state (driven by real sockets) until it holds or 5 s pass. */
async function until(condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not reached within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
