// The Lock service: mutual exclusion and fencing tokens under many concurrent lockers, waiting on
// one predecessor rather than polling, clean-up of cancelled waiters, expiry while waiting, and
// the same through real gRPC calls (grpc-js clients built from our .proto files).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type * as grpc from '@grpc/grpc-js';
import { GrpcError, GrpcStatus } from '../../grpc/status.js';
import {
  ConcurrencyTestServer,
  call,
  type Decoded,
  headerAt,
  MEMBER_ID,
  text,
  utf8,
} from './concurrency-server.fixture.js';
import { lock, unlock } from './lock-service.js';
import { MemoryConcurrencyBackend } from './memory-backend.fixture.js';
import { contenderPrefix, firstCreated, prefixRangeEnd, rangeRequest } from './recipe.js';

const SEED = Number(process.env.LOCK_TEST_SEED ?? Date.now() % 1_000_000);
console.log(`lock test seed: ${SEED} (replay with LOCK_TEST_SEED=${SEED})`);

/** A small seeded PRNG (mulberry32), so a failing interleaving replays from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Lets every pending promise of the in-memory backend run: afterwards nothing moves by itself. */
async function quiesce(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

async function createRevisionOf(
  backend: MemoryConcurrencyBackend,
  key: Uint8Array,
): Promise<number | undefined> {
  const answer = await backend.range(rangeRequest(key));
  assert.ok(answer.ok);
  return answer.value.kvs[0]?.createRevision;
}

async function keysUnder(backend: MemoryConcurrencyBackend, name: string): Promise<string[]> {
  const prefix = contenderPrefix(utf8(name));
  const answer = await backend.range(rangeRequest(prefix, { rangeEnd: prefixRangeEnd(prefix) }));
  assert.ok(answer.ok);
  return answer.value.kvs.map((kv) => text(kv.key));
}

/** A signal of a call nobody cancels (one per call, as the server gives each call its own). */
const never = (): AbortSignal => new AbortController().signal;

/** A wait that never ends is a failure, not a hang. */
const TEST_TIMEOUT_MS = 10_000;

describe('Lock: mutual exclusion and fencing', { timeout: TEST_TIMEOUT_MS }, () => {
  test('many concurrent lockers: one holder at a time, tokens strictly increase in grant order', async () => {
    const next = random(SEED);
    const backend = new MemoryConcurrencyBackend();
    const name = utf8('jobs/nightly');
    const lockers = 40;
    let holder: number | undefined;
    const tokens: number[] = [];
    const cancelled: number[] = [];
    const run = async (index: number): Promise<void> => {
      const lease = backend.grant();
      const controller = new AbortController();
      // About one in six lockers gives up while waiting (its call is cancelled).
      if (next() < 1 / 6) queueMicrotask(() => controller.abort(new GrpcError(GrpcStatus.CANCELLED, 'gone')));
      let response: Awaited<ReturnType<typeof lock>>;
      try {
        response = await lock(backend, headerAt, { name, lease }, controller.signal);
      } catch (error) {
        assert.ok(controller.signal.aborted, `locker ${index} failed: ${String(error)}`);
        cancelled.push(index);
        return;
      }
      assert.equal(holder, undefined, `locker ${index} got the lock while ${holder} held it`);
      holder = index;
      const token = await createRevisionOf(backend, response.key);
      assert.ok(token !== undefined);
      tokens.push(token);
      for (let spin = Math.floor(next() * 4); spin > 0; spin--) await new Promise((r) => setImmediate(r));
      holder = undefined;
      // Half give the lock back, half "crash" and lose it when their lease expires.
      if (next() < 0.5) await unlock(backend, headerAt, { key: response.key });
      else await backend.expireLease(lease);
    };
    await Promise.all(Array.from({ length: lockers }, (_, index) => run(index)));
    assert.equal(tokens.length + cancelled.length, lockers);
    for (let i = 1; i < tokens.length; i++) assert.ok(tokens[i]! > tokens[i - 1]!, `tokens ${tokens}`);
    assert.deepEqual(await keysUnder(backend, 'jobs/nightly'), [], 'every key was removed');
    assert.equal(backend.activeWatches, 0, 'every watch was closed');
  });

  test('a waiter waits for the key just before its own, not the holder: ranges grow linearly', async () => {
    const backend = new MemoryConcurrencyBackend();
    const name = utf8('queue');
    const waiters = 30;
    const keys: Uint8Array[] = [];
    const done = Array.from({ length: waiters }, async () => {
      const response = await lock(backend, headerAt, { name, lease: backend.grant() }, never());
      keys.push(response.key);
    });
    await quiesce();
    const rangesWhileQueued = backend.calls.range;
    for (let released = 0; released < waiters; released++) {
      await quiesce();
      assert.equal(keys.length, released + 1, 'exactly one more holder after each release');
      await unlock(backend, headerAt, { key: keys[released]! });
    }
    await Promise.all(done);
    // Each release wakes only the next waiter: one Range to find no older key, one to confirm its own.
    const rangesPerRelease = (backend.calls.range - rangesWhileQueued) / (waiters - 1);
    assert.ok(rangesPerRelease <= 2, `${rangesPerRelease} ranges per release`);
  });

  test('a second Lock with the same lease reuses the key it holds', async () => {
    const backend = new MemoryConcurrencyBackend();
    const lease = backend.grant(0x694dn);
    const first = await lock(backend, headerAt, { name: utf8('m'), lease }, never());
    const second = await lock(backend, headerAt, { name: utf8('m'), lease }, never());
    assert.equal(text(first.key), 'm/694d');
    assert.deepEqual(second.key, first.key);
    assert.equal(second.header?.revision, first.header?.revision, 'nothing was written again');
  });

  test('lease 0: the server grants a session lease and names the key after it', async () => {
    const backend = new MemoryConcurrencyBackend();
    const response = await lock(backend, headerAt, { name: utf8('m'), lease: 0n }, never());
    assert.equal(backend.calls.grantLease, 1);
    const [lease] = [...backend.leases];
    assert.equal(text(response.key), `m/${lease!.toString(16)}`);
    assert.equal(response.header?.memberId, MEMBER_ID);
  });

  test('a lease that does not exist is refused with etcd’s error', async () => {
    const backend = new MemoryConcurrencyBackend();
    await assert.rejects(lock(backend, headerAt, { name: utf8('m'), lease: 77n }, never()), {
      code: GrpcStatus.NOT_FOUND,
      message: 'etcdserver: requested lease not found',
    });
  });

  test('a waiter whose lease expires fails at once, before the holder lets go', async () => {
    const backend = new MemoryConcurrencyBackend();
    const holder = await lock(backend, headerAt, { name: utf8('m'), lease: backend.grant() }, never());
    const lease = backend.grant();
    const waiting = lock(backend, headerAt, { name: utf8('m'), lease }, never());
    await quiesce();
    await backend.expireLease(lease);
    await assert.rejects(waiting, { code: GrpcStatus.UNKNOWN, message: 'mutex: session is expired' });
    assert.deepEqual(await keysUnder(backend, 'm'), [text(holder.key)]);
    assert.equal(backend.activeWatches, 0);
  });

  test('a cancelled waiter deletes its key, and the next waiter queues behind the holder alone', async () => {
    const backend = new MemoryConcurrencyBackend();
    const holder = await lock(backend, headerAt, { name: utf8('m'), lease: backend.grant() }, never());
    const controller = new AbortController();
    const cancelled = lock(backend, headerAt, { name: utf8('m'), lease: backend.grant() }, controller.signal);
    const third = lock(backend, headerAt, { name: utf8('m'), lease: backend.grant() }, never());
    await quiesce();
    assert.equal((await keysUnder(backend, 'm')).length, 3);
    const reason = new GrpcError(GrpcStatus.CANCELLED, 'the client cancelled the call');
    controller.abort(reason);
    await assert.rejects(cancelled, reason);
    assert.equal((await keysUnder(backend, 'm')).length, 2);
    await unlock(backend, headerAt, { key: holder.key });
    const acquired = await third;
    const owner = await backend.range(firstCreated(contenderPrefix(utf8('m'))));
    assert.ok(owner.ok);
    assert.deepEqual(owner.value.kvs[0]?.key, acquired.key);
  });
});

describe('Lock over gRPC', { timeout: TEST_TIMEOUT_MS }, () => {
  const fixture = new ConcurrencyTestServer();
  let client: grpc.Client;

  before(async () => {
    await fixture.start();
    client = fixture.client('v3lock.proto');
  });
  after(() => fixture.stop());

  test('Lock answers with the key and a header; Unlock lets the next locker in', async () => {
    const backend = fixture.backend;
    const first = await call(client, 'Lock', {
      name: Buffer.from('grpc-lock'),
      lease: backend.grant().toString(),
    }).response;
    const key = first.key as Buffer;
    assert.match(text(key), /^grpc-lock\/[0-9a-f]+$/);
    const header = first.header as Decoded;
    assert.equal(header.member_id, MEMBER_ID.toString());
    assert.equal(
      Number(header.revision),
      await createRevisionOf(backend, key),
      'uncontended: the put’s revision',
    );

    const second = call(client, 'Lock', {
      name: Buffer.from('grpc-lock'),
      lease: backend.grant().toString(),
    });
    await until(async () => (await keysUnder(backend, 'grpc-lock')).length === 2);
    let acquired = false;
    void second.response.then(() => {
      acquired = true;
    });
    await quiesce();
    assert.equal(acquired, false, 'the second locker waits');
    const unlocked = await call(client, 'Unlock', { key }).response;
    assert.ok(Number((unlocked.header as Decoded).revision) > Number(header.revision));
    const next = await second.response;
    assert.ok((await createRevisionOf(backend, next.key as Buffer))! > Number(header.revision));
    await call(client, 'Unlock', { key: next.key }).response;
  });

  test('a client that cancels a waiting Lock leaves no key behind', async () => {
    const backend = fixture.backend;
    const holder = await call(client, 'Lock', { name: Buffer.from('c'), lease: backend.grant().toString() })
      .response;
    const waiting = call(client, 'Lock', { name: Buffer.from('c'), lease: backend.grant().toString() });
    await until(async () => (await keysUnder(backend, 'c')).length === 2);
    waiting.cancel();
    await assert.rejects(waiting.response, { code: GrpcStatus.CANCELLED });
    await until(async () => (await keysUnder(backend, 'c')).length === 1);
    assert.deepEqual(await keysUnder(backend, 'c'), [text(holder.key as Buffer)]);
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
