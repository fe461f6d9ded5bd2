import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ETCD_ERRORS } from '@synod/state';
import { GrpcServer } from '../../grpc/server.js';
import { LeaderForwarder } from '../leader-forwarder.js';
import { KeepAliveRelay } from './keep-alive-relay.js';
import { InMemoryLeaseBackend } from './lease-backend.fixture.js';
import { registerLeaseService } from './lease-service.js';

const silent = { info() {}, warn() {}, error() {} };
const header = (revision: number) => ({ clusterId: 1n, memberId: 2n, revision, raftTerm: 1 });

function relayTo(leaderUrl: () => string | undefined, timeoutMs: number): KeepAliveRelay {
  const forwarder = new LeaderForwarder({ leaderUrl });
  return new KeepAliveRelay({ leaderUrl, session: (target) => forwarder.session(target), timeoutMs });
}

describe('KeepAliveRelay', () => {
  const backend = new InMemoryLeaseBackend();
  const server = new GrpcServer({ logger: silent });
  let url = '';
  before(async () => {
    registerLeaseService(server, backend, header);
    const port = await server.listen('127.0.0.1', 0);
    url = `http://127.0.0.1:${port}`;
  });
  after(async () => {
    await server.close();
  });

  test("many keep-alives share one stream and each gets its own lease's answer, in order", async () => {
    const ttls = [5, 10, 20, 40];
    const ids: bigint[] = [];
    for (const ttl of ttls) {
      const granted = await backend.grant(ttl, 0n);
      assert.ok(granted.ok);
      ids.push(granted.value.id);
    }
    const relay = relayTo(() => url, 5_000);
    try {
      const answers = await Promise.all(
        Array.from({ length: 200 }, (_, i) => relay.renew(ids[i % ids.length]!)),
      );
      for (const [i, answer] of answers.entries())
        assert.deepEqual(answer, { ok: true, ttl: ttls[i % ttls.length] });
      assert.deepEqual(await relay.renew(0x7777n), { ok: true, ttl: 0 }, 'an unknown lease answers TTL 0');
    } finally {
      relay.close();
    }
  });

  test('without a leader the keep-alive fails at once; an unreachable leader fails it, not hangs', async () => {
    const none = relayTo(() => undefined, 5_000);
    assert.deepEqual(await none.renew(1n), { ok: false, error: ETCD_ERRORS.noLeader });
    const dead = relayTo(() => 'http://127.0.0.1:9', 2_000);
    try {
      const answer = await dead.renew(1n);
      assert.equal(answer.ok, false);
    } finally {
      dead.close();
    }
  });
});
