import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GCounter, PNCounter } from './counters.js';
import { CrdtFormatError } from './json.js';

describe('GCounter', () => {
  test('counts every replica once, however often states are exchanged', () => {
    const a = new GCounter('a').increment(3);
    const b = new GCounter('b').increment(4);
    a.merge(b).merge(b);
    b.merge(a);
    assert.equal(a.value, 7);
    assert.equal(b.value, 7);
  });

  test('merges a state received as JSON', () => {
    const remote = JSON.parse(JSON.stringify(new GCounter('b').increment(5)));
    assert.equal(new GCounter('a').increment(1).merge(remote).value, 6);
  });

  test('refuses negative increments and malformed states', () => {
    assert.throws(() => new GCounter('a').increment(-1), RangeError);
    assert.throws(() => GCounter.fromJSON('a', { counts: { b: -2 } }), CrdtFormatError);
    assert.throws(() => new GCounter('a').merge({ counts: 'x' } as never), CrdtFormatError);
  });
});

describe('PNCounter', () => {
  test('concurrent increments and decrements all count', () => {
    const a = new PNCounter('a').increment(10).decrement(2);
    const b = new PNCounter('b').decrement(5);
    assert.equal(a.merge(b).value, 3);
    assert.deepEqual(a.toJSON(), { increments: { a: 10 }, decrements: { a: 2, b: 5 } });
  });
});
