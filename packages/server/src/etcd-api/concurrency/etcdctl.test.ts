// Real etcdctl 3.4 processes competing for a lock and an election, beside our Lock and Election
// services on the same store. etcdctl runs the recipe client-side over KV, Watch and Lease (served
// here by a test-only fake, etcd-kv.fixture.ts), so this checks that our services use the very
// same keys and order: an etcdctl holder blocks an RPC caller and the other way round. Leases do
// not expire by themselves here; a test expires one to play "the killed process's lease ran out".
// Skipped when etcdctl is not on PATH, unless SYNOD_REQUIRE_ETCDCTL=1.
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type * as grpc from '@grpc/grpc-js';
import {
  ConcurrencyTestServer,
  call,
  type Decoded,
  headerAt,
  stream,
  text,
} from './concurrency-server.fixture.js';
import { registerFakeEtcd } from './etcd-kv.fixture.js';
import { contenderPrefix, prefixRangeEnd, rangeRequest } from './recipe.js';

const etcdctlAvailable = await promisify(execFile)('etcdctl', ['version']).then(
  () => true,
  () => false,
);
const skip = !etcdctlAvailable && process.env.SYNOD_REQUIRE_ETCDCTL !== '1';
const WAIT_MS = 10_000;

/** A running etcdctl and the lines it has printed so far. */
class Etcdctl {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  private readonly exited: Promise<number | null>;
  private changed: () => void = () => {};

  constructor(port: number, args: readonly string[]) {
    this.child = spawn('etcdctl', [`--endpoints=127.0.0.1:${port}`, ...args], {
      env: { ...process.env, ETCDCTL_API: '3' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let partial = '';
    this.child.stdout?.on('data', (chunk: Buffer) => {
      const text = partial + chunk.toString('utf8');
      const complete = text.split('\n');
      partial = complete.pop() ?? '';
      this.lines.push(...complete);
      this.changed();
    });
    this.child.stderr?.resume();
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** Resolves with the first printed line matching `pattern`. */
  async line(pattern: RegExp): Promise<string> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const found = this.lines.find((line) => pattern.test(line));
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`etcdctl printed no line like ${pattern}: ${this.lines}`);
      await new Promise<void>((resolve) => {
        this.changed = resolve;
        setTimeout(resolve, 50);
      });
    }
  }

  async stop(signal: NodeJS.Signals): Promise<number | null> {
    this.child.kill(signal);
    return this.exited;
  }
}

describe('etcdctl lock and elect beside the Lock and Election services', { skip, timeout: 60_000 }, () => {
  const fixture = new ConcurrencyTestServer();
  const running: Etcdctl[] = [];
  let lockClient: grpc.Client;
  let electionClient: grpc.Client;

  before(async () => {
    registerFakeEtcd(fixture.server, fixture.backend, headerAt);
    await fixture.start();
    lockClient = fixture.client('v3lock.proto');
    electionClient = fixture.client('v3election.proto');
  });
  after(async () => {
    for (const started of running) started.child.kill('SIGKILL');
    await fixture.stop();
  });

  const etcdctl = (...args: string[]): Etcdctl => {
    const started = new Etcdctl(fixture.port, args);
    running.push(started);
    return started;
  };

  async function contenders(name: string): Promise<{ key: string; createRevision: number }[]> {
    const prefix = contenderPrefix(Buffer.from(name));
    const answer = await fixture.backend.range(rangeRequest(prefix, { rangeEnd: prefixRangeEnd(prefix) }));
    assert.ok(answer.ok);
    return answer.value.kvs.map((kv) => ({ key: text(kv.key), createRevision: kv.createRevision }));
  }

  async function untilContenders(name: string, count: number): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    while ((await contenders(name)).length !== count) {
      if (Date.now() > deadline) throw new Error(`${name} never had ${count} contenders`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  test('a second `etcdctl lock` gets the lock only once the first is killed and its lease expires', async () => {
    const first = etcdctl('lock', 'mylock');
    const firstKey = await first.line(/^mylock\/[0-9a-f]+$/);
    const second = etcdctl('lock', 'mylock');
    await untilContenders('mylock', 2);
    // Queued behind the first: nothing but the first key's deletion can let it in.
    assert.deepEqual(second.lines, []);

    await first.stop('SIGKILL');
    assert.equal(
      (await contenders('mylock')).length,
      2,
      'a killed etcdctl leaves its key until its lease expires',
    );
    await fixture.backend.expireLease(BigInt(`0x${firstKey.slice('mylock/'.length)}`));
    const secondKey = await second.line(/^mylock\/[0-9a-f]+$/);
    assert.notEqual(secondKey, firstKey);

    // Our Lock RPC queues behind the etcdctl holder (same keys, same order) and gets in when it unlocks.
    const lease = fixture.backend.grant();
    const rpc = call(lockClient, 'Lock', { name: Buffer.from('mylock'), lease: lease.toString() });
    await untilContenders('mylock', 2);
    const secondToken = (await contenders('mylock')).find((c) => c.key === secondKey)!.createRevision;
    assert.equal(await second.stop('SIGTERM'), 0, 'etcdctl unlocks on SIGTERM and exits cleanly');
    const acquired = await rpc.response;
    const [holder] = await contenders('mylock');
    assert.equal(holder?.key, text(acquired.key as Buffer));
    assert.ok(holder!.createRevision > secondToken, 'the fencing token grew');
  });

  test('`etcdctl elect` campaigns, Observe follows it, and the next proposal wins after a resign', async () => {
    const observer = stream(electionClient, 'Observe', { name: Buffer.from('myelection') });
    const observedValue = async (): Promise<string> =>
      text(((await observer.next()).kv as Decoded).value as Buffer);
    const first = etcdctl('elect', 'myelection', 'p1');
    await first.line(/^p1$/);
    assert.match(first.lines[0] ?? '', /^myelection\/[0-9a-f]+$/);
    assert.equal(await observedValue(), 'p1');

    const second = etcdctl('elect', 'myelection', 'p2');
    await untilContenders('myelection', 2);
    assert.deepEqual(second.lines, []);
    assert.equal(await first.stop('SIGTERM'), 0, 'etcdctl resigns on SIGTERM');
    await second.line(/^p2$/);
    assert.equal(await observedValue(), 'p2');
    const leader = await call(electionClient, 'Leader', { name: Buffer.from('myelection') }).response;
    assert.equal(text((leader.kv as Decoded).value as Buffer), 'p2');
    observer.cancel();
    await second.stop('SIGTERM');
  });
});
