import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CrdtFormatError } from './json.js';
import { LwwRegister } from './lww-register.js';

describe('LwwRegister', () => {
  test('the later write wins on every replica', () => {
    const a = new LwwRegister<string>('a').set('old', 100);
    const b = new LwwRegister<string>('b').set('new', 200);
    assert.equal(a.merge(b).value, 'new');
    assert.equal(b.merge(new LwwRegister<string>('a').set('old', 100)).value, 'new');
  });

  test('equal timestamps are broken by replica id, the same way everywhere', () => {
    const fromA = new LwwRegister<string>('a').set('from-a', 5);
    const fromB = new LwwRegister<string>('b').set('from-b', 5);
    assert.equal(LwwRegister.fromJSON<string>('x', fromA.toJSON()).merge(fromB).value, 'from-b');
    assert.equal(LwwRegister.fromJSON<string>('y', fromB.toJSON()).merge(fromA).value, 'from-b');
  });

  test('takes timestamps from the injected clock, and a local rewrite always supersedes', () => {
    const register = new LwwRegister<number>('a', { clock: { now: () => 42 } });
    register.set(1);
    assert.equal(register.timestamp, 42);
    register.set(2);
    assert.equal(register.value, 2);
    assert.equal(register.timestamp, 43);
  });

  test('is empty before any write and refuses malformed states', () => {
    assert.equal(new LwwRegister('a').value, undefined);
    assert.deepEqual(new LwwRegister('a').toJSON(), { write: null });
    assert.throws(
      () => LwwRegister.fromJSON('a', { write: { value: 1, timestamp: 'soon', replicaId: 'b' } }),
      CrdtFormatError,
    );
    assert.throws(() => LwwRegister.fromJSON('a', {}), CrdtFormatError);
  });
});
