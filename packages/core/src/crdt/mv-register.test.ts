import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CrdtFormatError } from './json.js';
import { MvRegister } from './mv-register.js';

describe('MvRegister', () => {
  test('keeps both of two concurrent writes', () => {
    const a = new MvRegister<string>('a').set('left');
    const b = new MvRegister<string>('b').set('right');
    assert.deepEqual(a.merge(b).values, ['left', 'right']);
  });

  test('a write that has seen the conflict resolves it everywhere', () => {
    const a = new MvRegister<string>('a').set('left');
    const b = new MvRegister<string>('b').set('right');
    a.merge(b).set('resolved');
    assert.deepEqual(b.merge(a).values, ['resolved']);
  });

  test('a later write from the same history supersedes the earlier one', () => {
    const a = new MvRegister<number>('a').set(1);
    const b = new MvRegister<number>('b').merge(a).set(2);
    assert.deepEqual(a.merge(b).values, [2]);
  });

  test('refuses an entry whose clock is malformed', () => {
    assert.throws(
      () => MvRegister.fromJSON('a', { entries: [{ value: 1, clock: { a: -1 } }] }),
      CrdtFormatError,
    );
  });
});
