import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FULL_PLAN, OptionsError, parseOptions, QUICK_PLAN } from './options.js';

test('no flags: both parts, both systems, the full plan', () => {
  const options = parseOptions([]);
  assert.deepEqual(options.parts, ['fanout', 'leases']);
  assert.deepEqual(options.systems, ['synod', 'etcd']);
  assert.deepEqual(options.plan, FULL_PLAN);
});

test('--quick shortens the runs but keeps the loads', () => {
  const { plan } = parseOptions(['--quick']);
  assert.deepEqual(plan, QUICK_PLAN);
  assert.equal(plan.fanout.watchers, FULL_PLAN.fanout.watchers);
  assert.equal(plan.leases.leases, FULL_PLAN.leases.leases);
  assert.ok(plan.fanout.writeSeconds < FULL_PLAN.fanout.writeSeconds);
});

test('loads can be changed; lists are comma-separated or repeated', () => {
  const options = parseOptions([
    '--only=leases',
    '--systems',
    'etcd',
    '--rates=50,100',
    '--watchers=20',
    '--connections=4',
  ]);
  assert.deepEqual(options.parts, ['leases']);
  assert.deepEqual(options.systems, ['etcd']);
  assert.deepEqual(options.plan.fanout.putsPerSecond, [50, 100]);
  assert.equal(options.plan.fanout.watchers, 20);
});

test('bad flags are refused with a message, not a crash', () => {
  assert.throws(() => parseOptions(['--only=watch']), OptionsError);
  assert.throws(() => parseOptions(['--systems=zookeeper']), OptionsError);
  assert.throws(() => parseOptions(['--rates=100,fast']), OptionsError);
  assert.throws(() => parseOptions(['--watchers=1001']), /multiple of --connections/);
  assert.throws(() => parseOptions(['--bogus']), OptionsError);
});
