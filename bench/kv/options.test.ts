import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OptionsError, PARTS, parseOptions } from './options.js';

test('no flags: every part, both cluster sizes, the full plan', () => {
  const options = parseOptions([]);
  assert.deepEqual(options.parts, PARTS);
  assert.deepEqual(options.clusterSizes, [1, 3]);
  assert.equal(options.quick, false);
});

test('--only takes lists and repeats, in the bench order; --nodes restricts; --synod-env collects', () => {
  const options = parseOptions([
    '--only=profile,put',
    '--only',
    'latency',
    '--nodes=3',
    '--synod-env=SYNOD_METRICS=off',
    '--synod-env',
    'A=b=c',
  ]);
  assert.deepEqual(options.parts, ['put', 'latency', 'profile']);
  assert.deepEqual(options.clusterSizes, [3]);
  assert.deepEqual(options.synodEnv, { SYNOD_METRICS: 'off', A: 'b=c' });
});

test('bad input is an OptionsError with a message, not a crash', () => {
  for (const argv of [['--only=writes'], ['--nodes=5'], ['--synod-env=novalue'], ['--fast'], ['put']]) {
    assert.throws(() => parseOptions(argv), OptionsError, argv.join(' '));
  }
});
