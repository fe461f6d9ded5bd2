import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CrdtFormatError } from './json.js';
import { OrSet } from './or-set.js';

describe('OrSet', () => {
  test('a concurrent add wins over a remove', () => {
    const a = new OrSet<string>('a').add('x');
    const b = new OrSet<string>('b').merge(a);
    b.remove('x');
    a.add('x');
    assert.equal(b.merge(a).has('x'), true);
    assert.equal(a.merge(b).has('x'), true);
  });

  test('a remove beats the adds it observed', () => {
    const a = new OrSet<string>('a').add('x');
    const b = new OrSet<string>('b').merge(a);
    assert.equal(b.remove('x'), true);
    assert.equal(a.merge(b).has('x'), false);
    assert.equal(b.remove('x'), false);
  });

  test('an element added independently on two replicas survives the removal of one add', () => {
    const a = new OrSet<string>('a').add('x');
    const b = new OrSet<string>('b').add('x');
    a.remove('x');
    assert.equal(a.merge(b).has('x'), true);
  });

  test('elements are JSON values compared by content', () => {
    const set = new OrSet<{ id: number; tags: string[] }>('a');
    set.add({ id: 1, tags: ['a'] });
    assert.equal(set.has({ tags: ['a'], id: 1 }), true);
    assert.equal(set.size, 1);
  });

  test('the exported state holds no tombstones: removed elements leave only the clock behind', () => {
    const set = new OrSet<string>('a').add('x').add('y');
    set.remove('x');
    assert.deepEqual(set.toJSON(), { clock: { a: 2 }, elements: [{ element: 'y', dots: [['a', 2]] }] });
  });

  test('refuses a state whose dots lie beyond its clock', () => {
    const forged = { clock: { a: 1 }, elements: [{ element: 'x', dots: [['a', 5]] }] };
    assert.throws(() => OrSet.fromJSON('b', forged), CrdtFormatError);
  });
});
