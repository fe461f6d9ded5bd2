import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  PASSWORD_HASH_QUEUE_MAX,
  PASSWORD_HASHES_CONCURRENT_MAX,
  PasswordHasher,
  PasswordHasherBusyError,
} from './password.js';

/** Fast parameters for tests; one test uses the production default. */
const FAST_LOG2_COST = 4;

describe('PasswordHasher', () => {
  test('a hash verifies its password and no other, with the default work factors', async () => {
    const hasher = new PasswordHasher();
    const encoded = await hasher.hash('s3cret');
    assert.match(encoded, /^\$scrypt\$ln=14,r=8,p=1\$[A-Za-z0-9+/]+={0,2}\$[A-Za-z0-9+/]+={0,2}$/);
    assert.equal(await hasher.verify('s3cret', encoded), true);
    assert.equal(await hasher.verify('s3cret ', encoded), false);
  });

  test('equal passwords hash differently (random salt), and each still verifies', async () => {
    const hasher = new PasswordHasher({ log2Cost: FAST_LOG2_COST });
    const first = await hasher.hash('same');
    const second = await hasher.hash('same');
    assert.notEqual(first, second);
    assert.equal(await hasher.verify('same', first), true);
    assert.equal(await hasher.verify('same', second), true);
  });

  test('the parameters travel with the hash: a hasher with other defaults still verifies it', async () => {
    const encoded = await new PasswordHasher({ log2Cost: FAST_LOG2_COST }).hash('pw');
    assert.equal(await new PasswordHasher({ log2Cost: FAST_LOG2_COST + 1 }).verify('pw', encoded), true);
  });

  test('an empty, malformed, tampered or too costly hash never matches', async () => {
    const hasher = new PasswordHasher({ log2Cost: FAST_LOG2_COST });
    const encoded = await hasher.hash('pw');
    const parts = encoded.split('$');
    const tamperedHash = [...parts.slice(0, 4), Buffer.alloc(32, 1).toString('base64')].join('$');
    for (const bad of [
      '',
      'pw',
      encoded.replace('ln=4', 'ln=17'),
      encoded.replace('ln=4', 'ln=0'),
      encoded.replace('r=8', 'r=99'),
      encoded.replace('$scrypt$', '$bcrypt$'),
      tamperedHash,
      `${encoded}$extra`,
    ]) {
      assert.equal(await hasher.verify('pw', bad), false, JSON.stringify(bad));
    }
  });

  test('the decoy check for a missing user never matches', async () => {
    const hasher = new PasswordHasher({ log2Cost: FAST_LOG2_COST });
    assert.equal(await hasher.verifyDecoy('decoy password'), false);
  });

  test(`at most ${PASSWORD_HASHES_CONCURRENT_MAX} hashes run and ${PASSWORD_HASH_QUEUE_MAX} wait; one more is refused`, async () => {
    const hasher = new PasswordHasher({ log2Cost: FAST_LOG2_COST });
    const accepted = PASSWORD_HASHES_CONCURRENT_MAX + PASSWORD_HASH_QUEUE_MAX;
    const calls = Array.from({ length: accepted + 1 }, () => hasher.hash('pw'));
    const results = await Promise.allSettled(calls);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, accepted);
    const rejected = results.filter((r) => r.status === 'rejected');
    assert.equal(rejected.length, 1);
    assert.ok((rejected[0] as PromiseRejectedResult).reason instanceof PasswordHasherBusyError);
    assert.match(await hasher.hash('pw'), /^\$scrypt\$/, 'slots come back once the burst is over');
  });
});
