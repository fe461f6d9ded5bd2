// `etcdctl lock` and `etcdctl elect` (the client-side recipes on KV, Watch and Lease) against a
// real 3-member cluster: two competing processes, mutual exclusion, hand-over on exit and on kill.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { bareEndpoint, etcdctlMissing, eventually } from './etcdctl.fixture.js';
import { ProcessCluster } from './process-cluster.js';

/** A background etcdctl command collecting its output. */
function background(
  endpoints: string,
  args: readonly string[],
): { child: ChildProcess; output: () => string } {
  const child = spawn('etcdctl', [`--endpoints=${endpoints}`, ...args], {
    env: { ...process.env, ETCDCTL_API: '3' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return { child, output: () => output };
}

describe('etcdctl lock and elect on a 3-member cluster', { skip: etcdctlMissing() }, () => {
  let cluster: ProcessCluster;
  let endpoints: string;
  const children: ChildProcess[] = [];
  before(async () => {
    cluster = await ProcessCluster.create(3);
    await cluster.startAll();
    endpoints = cluster.members.map((member) => bareEndpoint(member.clientUrl)).join(',');
  });
  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await cluster?.stopAll();
  });

  test('the second locker waits while the first holds the lock, then takes it when the first exits', async () => {
    const first = background(endpoints, ['lock', 'jobs']);
    children.push(first.child);
    await eventually(async () => first.output().includes('jobs/'), 'the first holder');
    const second = background(endpoints, ['lock', 'jobs']);
    children.push(second.child);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    assert.equal(second.output(), '', 'the second must wait while the first holds the lock');
    first.child.kill('SIGINT'); // etcdctl revokes its session on interrupt
    await eventually(async () => second.output().includes('jobs/'), 'the second holder', 10_000);
    const firstToken = /jobs\/([0-9a-f]+)/.exec(first.output())?.[1];
    const secondToken = /jobs\/([0-9a-f]+)/.exec(second.output())?.[1];
    assert.notEqual(firstToken, secondToken);
    second.child.kill('SIGINT');
  });

  test('a killed holder loses the lock when its lease expires', async () => {
    const first = background(endpoints, ['lock', '--ttl=2', 'jobs2']);
    children.push(first.child);
    await eventually(async () => first.output().includes('jobs2/'), 'the first holder');
    const second = background(endpoints, ['lock', '--ttl=2', 'jobs2']);
    children.push(second.child);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.equal(second.output(), '');
    const killedAt = Date.now();
    first.child.kill('SIGKILL'); // no chance to revoke: the leader expires the lease
    await eventually(async () => second.output().includes('jobs2/'), 'hand-over after expiry', 15_000);
    const waitedMs = Date.now() - killedAt;
    assert.ok(waitedMs >= 1_000, `handed over after ${waitedMs} ms: before the 2 s lease could expire`);
    second.child.kill('SIGINT');
  });

  test('elect: one leader at a time; the follower becomes leader when the leader resigns', async () => {
    const first = background(endpoints, ['elect', 'svc', 'alpha']);
    children.push(first.child);
    await eventually(async () => first.output().includes('alpha'), 'alpha elected');
    const observer = background(endpoints, ['elect', '--listen', 'svc']);
    children.push(observer.child);
    const second = background(endpoints, ['elect', 'svc', 'beta']);
    children.push(second.child);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    assert.equal(second.output(), '', 'beta must not be elected while alpha leads');
    await eventually(async () => observer.output().includes('alpha'), 'the observer to see alpha');
    first.child.kill('SIGINT');
    await eventually(async () => second.output().includes('beta'), 'beta elected', 10_000);
    await eventually(async () => observer.output().includes('beta'), 'the observer to see beta', 10_000);
    second.child.kill('SIGINT');
  });
});
