// The README's fencing scenario, run through the Lock service over gRPC: if this fails, the
// README is wrong. A holder that pauses past its lease loses the lock; its late write is refused.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import type * as grpc from '@grpc/grpc-js';
import { ConcurrencyTestServer, call } from './concurrency-server.fixture.js';
import { FencedStore } from './fenced-store.example.js';
import { prefixRangeEnd, rangeRequest } from './recipe.js';

const fixture = new ConcurrencyTestServer();
let lockClient: grpc.Client;

before(async () => {
  await fixture.start();
  lockClient = fixture.client('v3lock.proto');
});
after(() => fixture.stop());

/** Lock, then read the key's create revision: the fencing token (what a client does with KV.Range). */
async function acquire(name: string, lease: bigint): Promise<{ key: Buffer; token: number }> {
  const { key } = await call(lockClient, 'Lock', { name: Buffer.from(name), lease: lease.toString() })
    .response;
  const answer = await fixture.backend.range(rangeRequest(key as Buffer));
  assert.ok(answer.ok);
  const token = answer.value.kvs[0]?.createRevision;
  assert.ok(token !== undefined);
  return { key: key as Buffer, token };
}

async function untilContenders(prefix: string, count: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const answer = await fixture.backend.range(
      rangeRequest(Buffer.from(prefix), { rangeEnd: prefixRangeEnd(Buffer.from(prefix)) }),
    );
    if (answer.ok && answer.value.kvs.length === count) return;
    if (Date.now() > deadline) throw new Error(`${prefix} never had ${count} contenders`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

test('a holder that paused past its lease cannot write after the next holder did', async () => {
  const store = new FencedStore();
  const backend = fixture.backend;
  const leaseA = backend.grant();
  const a = await acquire('reports', leaseA);
  assert.deepEqual(store.write('report.pdf', 'draft by A', a.token), { ok: true });

  // A pauses (a long GC, a stopped VM) and stops renewing its lease; the lease expires.
  const leaseB = backend.grant();
  const bAcquired = acquire('reports', leaseB);
  await untilContenders('reports/', 2); // B queues behind A
  await backend.expireLease(leaseA);
  const b = await bAcquired;
  assert.ok(b.token > a.token);
  assert.deepEqual(store.write('report.pdf', 'final by B', b.token), { ok: true });

  // A wakes up, still believing it holds the lock, and writes.
  const late = store.write('report.pdf', 'late edit by A', a.token);
  assert.equal(late.ok, false);
  assert.equal(store.read('report.pdf'), 'final by B');
});

test('the README shows the example’s code verbatim', async () => {
  const readme = await readFile(new URL('README.md', import.meta.url), 'utf8');
  const example = await readFile(new URL('fenced-store.example.ts', import.meta.url), 'utf8');
  const code = example.slice(example.indexOf('/** What a fenced write answered. */'));
  assert.ok(
    readme.includes(code.trim()),
    'README.md must contain fenced-store.example.ts from its first TSDoc on',
  );
});
