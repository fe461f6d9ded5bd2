import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  newSimpleTokenPrefix,
  SIMPLE_TOKEN_PREFIX_LETTERS,
  SIMPLE_TOKEN_TTL_MS_DEFAULT,
  SimpleTokenManager,
  simpleTokenIndex,
} from './simple-token-manager.js';

/** A clock the test moves by hand. */
function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let nowMs = 1_000;
  return { now: () => nowMs, advance: (ms) => (nowMs += ms) };
}

describe('simple token format', () => {
  test('prefixes are 16 letters, drawn without the bias a plain modulo would add', () => {
    assert.match(newSimpleTokenPrefix(), new RegExp(`^[a-zA-Z]{${SIMPLE_TOKEN_PREFIX_LETTERS}}$`));
    // 255 and 208 are ≥ 208 (4 × 52) and must be skipped; 0 → 'a', 51 → 'Z', 52 → 'a'.
    let call = 0;
    const random = (count: number) => {
      call++;
      return call === 1 ? new Uint8Array([255, 208, 0, 51, 52]) : new Uint8Array(count).fill(1);
    };
    assert.equal(newSimpleTokenPrefix(random), `aZa${'b'.repeat(SIMPLE_TOKEN_PREFIX_LETTERS - 3)}`);
  });

  test('a token names its log index; anything else is no simple token', () => {
    assert.equal(simpleTokenIndex('abcDEF.42'), 42);
    for (const bad of [
      'abc',
      '.42',
      'abc.',
      'abc.042',
      'abc.4.2',
      'abc.-1',
      'abc.0',
      'abc.99999999999999999',
    ]) {
      assert.equal(simpleTokenIndex(bad), undefined, bad);
    }
  });
});

describe('SimpleTokenManager', () => {
  test(`a token lives ${SIMPLE_TOKEN_TTL_MS_DEFAULT / 1000} s after its last use`, () => {
    const clock = manualClock();
    const tokens = new SimpleTokenManager({ now: clock.now });
    tokens.assign('t.1', 'alice');
    clock.advance(SIMPLE_TOKEN_TTL_MS_DEFAULT - 1);
    assert.equal(tokens.lookup('t.1'), 'alice', 'still alive, and renewed');
    clock.advance(SIMPLE_TOKEN_TTL_MS_DEFAULT - 1);
    assert.equal(tokens.lookup('t.1'), 'alice');
    clock.advance(SIMPLE_TOKEN_TTL_MS_DEFAULT);
    assert.equal(tokens.lookup('t.1'), undefined);
    assert.equal(tokens.size, 0);
  });

  test('past the limit the least recently used token goes', () => {
    const clock = manualClock();
    const tokens = new SimpleTokenManager({ now: clock.now, tokensMax: 3 });
    for (const token of ['a.1', 'b.2', 'c.3']) {
      tokens.assign(token, 'alice');
      clock.advance(2_000);
    }
    // Used again more than the renewal resolution (1 s) after its last use: now the most recent.
    tokens.lookup('a.1');
    tokens.assign('d.4', 'bob');
    assert.equal(tokens.size, 3);
    assert.equal(tokens.lookup('b.2'), undefined, 'the least recently used went');
    assert.equal(tokens.lookup('a.1'), 'alice');
    assert.equal(tokens.lookup('d.4'), 'bob');
  });

  test('a busy token is reordered at most once a second (renewal resolution), yet stays alive', () => {
    const clock = manualClock();
    const tokens = new SimpleTokenManager({ now: clock.now, tokensMax: 2 });
    tokens.assign('a.1', 'alice');
    clock.advance(10);
    tokens.assign('b.2', 'bob');
    clock.advance(10);
    assert.equal(tokens.lookup('a.1'), 'alice', 'within the resolution: not moved');
    tokens.assign('c.3', 'carol');
    assert.equal(tokens.lookup('a.1'), undefined, 'so it was still the oldest');
    assert.equal(tokens.lookup('b.2'), 'bob');
  });

  test('expired tokens are swept when a new one comes', () => {
    const clock = manualClock();
    const tokens = new SimpleTokenManager({ now: clock.now, ttlMs: 10 });
    tokens.assign('a.1', 'alice');
    tokens.assign('b.2', 'bob');
    clock.advance(11);
    tokens.assign('c.3', 'carol');
    assert.equal(tokens.size, 1);
  });

  test('effects: assign, invalidate one user’s tokens, invalidate all', () => {
    const tokens = new SimpleTokenManager({ now: manualClock().now });
    tokens.applyEffect({ kind: 'assign', token: 'a.1', username: 'alice' });
    tokens.applyEffect({ kind: 'assign', token: 'a.2', username: 'alice' });
    tokens.applyEffect({ kind: 'assign', token: 'b.3', username: 'bob' });
    tokens.applyEffect({ kind: 'invalidateUser', username: 'alice' });
    assert.equal(tokens.lookup('a.1'), undefined);
    assert.equal(tokens.lookup('a.2'), undefined);
    assert.equal(tokens.lookup('b.3'), 'bob');
    tokens.applyEffect({ kind: 'invalidateAll' });
    assert.equal(tokens.lookup('b.3'), undefined);
    assert.equal(tokens.size, 0);
  });

  test('assigning a token again (a replayed entry) keeps one entry, for the new user', () => {
    const tokens = new SimpleTokenManager({ now: manualClock().now });
    tokens.assign('a.1', 'alice');
    tokens.assign('a.1', 'bob');
    assert.equal(tokens.size, 1);
    tokens.invalidateUser('alice');
    assert.equal(tokens.lookup('a.1'), 'bob');
  });

  test('nonsensical limits are refused', () => {
    assert.throws(() => new SimpleTokenManager({ ttlMs: 0 }), RangeError);
    assert.throws(() => new SimpleTokenManager({ tokensMax: 0 }), RangeError);
  });
});
