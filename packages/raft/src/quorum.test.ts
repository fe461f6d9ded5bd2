// Quorum arithmetic checked against brute-force definitions: "a majority holds index i" is read
// straight off the definition (count the voters), never from the sorted-position shortcut the code
// uses. fast-check prints the seed and the shrunk counterexample of any failure.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { JointVoters } from './quorum.js';
import {
  allVoters,
  hasQuorum,
  jointCommitIndex,
  jointVote,
  majorityCommitIndex,
  majorityVote,
} from './quorum.js';

const ALL_IDS = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7'];

/** 1..7 distinct voters. */
const voterSets = fc.subarray(ALL_IDS, { minLength: 1, maxLength: 7 });
/** 0..7 distinct voters (an empty half stands for "not joint"). */
const maybeEmptyVoterSets = fc.subarray(ALL_IDS, { minLength: 0, maxLength: 7 });
const matchIndexes = fc.dictionary(fc.constantFrom(...ALL_IDS), fc.nat(20));
const ballots = fc.dictionary(fc.constantFrom(...ALL_IDS), fc.boolean());

function isMajority(count: number, size: number): boolean {
  return count * 2 > size;
}

/** Largest i such that more than half of `voters` have match ≥ i (i ranges over every index seen, and 0). */
function bruteCommitIndex(voters: readonly string[], match: Record<string, number>): number {
  let best = 0;
  for (const candidate of Object.values(match).concat(0)) {
    const holding = voters.filter((id) => (match[id] ?? 0) >= candidate).length;
    if (isMajority(holding, voters.length)) best = Math.max(best, candidate);
  }
  return best;
}

function bruteVote(voters: readonly string[], votes: Record<string, boolean>): 'won' | 'lost' | 'pending' {
  if (voters.length === 0) return 'won';
  const yes = voters.filter((id) => votes[id] === true).length;
  const undecided = voters.filter((id) => votes[id] === undefined).length;
  if (isMajority(yes, voters.length)) return 'won';
  return isMajority(yes + undecided, voters.length) ? 'pending' : 'lost';
}

/** Joint: an index is committed only when each non-empty half has it on a majority. */
function bruteJointCommitIndex(config: JointVoters, match: Record<string, number>): number {
  let best = 0;
  for (const candidate of Object.values(match).concat(0)) {
    const heldBy = (half: readonly string[]) =>
      half.length === 0 || isMajority(half.filter((id) => (match[id] ?? 0) >= candidate).length, half.length);
    if (heldBy(config.incoming) && heldBy(config.outgoing)) best = Math.max(best, candidate);
  }
  return best;
}

const toMap = <V>(record: Record<string, V>) => new Map(Object.entries(record));

describe('majority quorum', () => {
  test('the commit index is the largest index a majority holds, for 1..7 voters', () => {
    fc.assert(
      fc.property(voterSets, matchIndexes, (voters, match) => {
        assert.equal(
          majorityCommitIndex(voters, (id) => match[id] ?? 0),
          bruteCommitIndex(voters, match),
        );
      }),
    );
  });

  test('the off-by-one quorum mutation is caught by the same property (the check can fail)', () => {
    const result = fc.check(
      fc.property(voterSets, matchIndexes, (voters, match) => {
        return majorityCommitIndex(voters, (id) => match[id] ?? 0, true) === bruteCommitIndex(voters, match);
      }),
      { seed: 42 },
    );
    assert.equal(result.failed, true);
  });

  test('exact thresholds: 1 of 1, 2 of 3, 3 of 4, 3 of 5, 4 of 6 and 4 of 7 acknowledgements commit', () => {
    for (const [size, needed] of [
      [1, 1],
      [2, 2],
      [3, 2],
      [4, 3],
      [5, 3],
      [6, 4],
      [7, 4],
    ] as const) {
      const voters = ALL_IDS.slice(0, size);
      const acked = (count: number) => (id: string) => (voters.indexOf(id) < count ? 9 : 0);
      assert.equal(majorityCommitIndex(voters, acked(needed)), 9, `${needed} of ${size}`);
      assert.equal(majorityCommitIndex(voters, acked(needed - 1)), 0, `${needed - 1} of ${size}`);
    }
  });

  test('an election is won, lost or pending exactly as counting the ballots says, for 1..7 voters', () => {
    fc.assert(
      fc.property(voterSets, ballots, (voters, votes) => {
        assert.equal(majorityVote(voters, toMap(votes)), bruteVote(voters, votes));
      }),
    );
  });

  test('ballots of non-voters are ignored', () => {
    const votes = new Map([
      ['n1', true],
      ['learner', true],
      ['removed', true],
    ]);
    assert.equal(majorityVote(['n1', 'n2', 'n3'], votes), 'pending');
  });

  test('an empty configuration wins every vote and commits anything (it is the absent half of a joint one)', () => {
    assert.equal(majorityVote([], new Map()), 'won');
    assert.equal(
      majorityCommitIndex([], () => 0),
      Number.POSITIVE_INFINITY,
    );
  });
});

describe('joint quorum', () => {
  const jointConfigs = fc.record({ incoming: voterSets, outgoing: maybeEmptyVoterSets });

  test('the joint commit index needs a majority of each half', () => {
    fc.assert(
      fc.property(jointConfigs, matchIndexes, (config, match) => {
        assert.equal(
          jointCommitIndex(config, (id) => match[id] ?? 0),
          bruteJointCommitIndex(config, match),
        );
      }),
    );
  });

  test('a joint vote is won only when both halves are won, and lost as soon as either is lost', () => {
    fc.assert(
      fc.property(jointConfigs, ballots, (config, votes) => {
        const incoming = bruteVote(config.incoming, votes);
        const outgoing = bruteVote(config.outgoing, votes);
        const expected =
          incoming === 'won' && outgoing === 'won'
            ? 'won'
            : incoming === 'lost' || outgoing === 'lost'
              ? 'lost'
              : 'pending';
        assert.equal(jointVote(config, toMap(votes)), expected);
      }),
    );
  });

  test('hasQuorum agrees with a joint vote where every active voter says yes and every other says no', () => {
    fc.assert(
      fc.property(jointConfigs, fc.subarray(ALL_IDS), (config, active) => {
        const votes = Object.fromEntries(allVoters(config).map((id) => [id, active.includes(id)]));
        assert.equal(
          hasQuorum(config, (id) => active.includes(id)),
          bruteVote(config.incoming, votes) === 'won' && bruteVote(config.outgoing, votes) === 'won',
        );
      }),
    );
  });

  test('a majority of the union is not enough: replacing {a,b,c} by {c,d,e}, four of five members do not commit without two of the old ones', () => {
    const config = { incoming: ['c', 'd', 'e'], outgoing: ['a', 'b', 'c'] };
    const match: Record<string, number> = { a: 7, c: 0, d: 7, e: 7 };
    assert.equal(
      jointCommitIndex(config, (id) => match[id] ?? 0),
      0,
    );
    match.b = 7;
    assert.equal(
      jointCommitIndex(config, (id) => match[id] ?? 0),
      7,
    );
  });

  test('a joint configuration with both halves empty commits nothing rather than everything', () => {
    assert.equal(
      jointCommitIndex({ incoming: [], outgoing: [] }, () => 5),
      0,
    );
  });

  test('allVoters lists each voter of both halves once', () => {
    assert.deepEqual(allVoters({ incoming: ['a', 'b', 'c'], outgoing: ['c', 'd'] }), ['a', 'b', 'c', 'd']);
  });
});
