import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { blockedPeersByMember, describeGroups, parsePartition } from './partition.js';

const NAMES = ['n1', 'n2', 'n3'];
const RAFT_IDS = new Map([
  ['n1', 'a1'],
  ['n2', 'a2'],
  ['n3', 'a3'],
]);

describe('synod dev partitions', () => {
  test('each member blocks exactly the members outside its group', () => {
    const blocked = blockedPeersByMember([['n1'], ['n2', 'n3']], RAFT_IDS);
    assert.deepEqual(Object.fromEntries(blocked), { n1: ['a2', 'a3'], n2: ['a1'], n3: ['a1'] });
  });

  test('a member named in no group is cut off from everyone', () => {
    const blocked = blockedPeersByMember([['n1', 'n2']], RAFT_IDS);
    assert.deepEqual(Object.fromEntries(blocked), { n1: ['a3'], n2: ['a3'], n3: ['a1', 'a2'] });
  });

  test('healing blocks nothing', () => {
    assert.deepEqual(Object.fromEntries(blockedPeersByMember(null, RAFT_IDS)), { n1: [], n2: [], n3: [] });
  });

  test('a valid request parses into its groups', () => {
    assert.deepEqual(parsePartition('{"groups":[["n1"],["n2","n3"]]}', NAMES), {
      ok: true,
      groups: [['n1'], ['n2', 'n3']],
    });
    assert.equal(describeGroups([['n1'], ['n2', 'n3']]), 'n1 | n2 n3');
  });

  test('bad requests are refused with a reason, never thrown', () => {
    const cases: [string, RegExp][] = [
      ['not json', /must be JSON/],
      ['{}', /non-empty array/],
      ['{"groups":[]}', /non-empty array/],
      ['null', /non-empty array/],
      ['{"groups":["n1"]}', /array of member names/],
      ['{"groups":[[1]]}', /array of member names/],
      ['{"groups":[["n9"]]}', /unknown member "n9"/],
      ['{"groups":[["n1"],["n1","n2"]]}', /more than one group/],
    ];
    for (const [body, error] of cases) {
      const result = parsePartition(body, NAMES);
      assert.equal(result.ok, false, body);
      if (!result.ok) assert.match(result.error, error, body);
    }
  });
});
