// Pure quorum arithmetic for majority and joint configurations (Raft thesis §4.3: during joint
// consensus, decisions need a majority of the old AND of the new configuration).
import type { NodeId } from './types.js';

export type VoteOutcome = 'won' | 'lost' | 'pending';

/** The highest index acknowledged by a majority of `voters`; an empty configuration commits anything. */
export function majorityCommitIndex(
  voters: readonly NodeId[],
  matchOf: (id: NodeId) => number,
  offByOne = false,
): number {
  if (voters.length === 0) return Number.POSITIVE_INFINITY;
  const matched = voters.map(matchOf).sort((a, b) => b - a);
  // With n voters, the (floor(n/2)+1)-th largest match is held by a majority.
  const position = Math.floor(voters.length / 2) - (offByOne ? 1 : 0);
  return matched[Math.max(0, position)]!;
}

export function majorityVote(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteOutcome {
  if (voters.length === 0) return 'won';
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const vote = votes.get(id);
    if (vote === undefined) missing++;
    else if (vote) granted++;
  }
  const needed = Math.floor(voters.length / 2) + 1;
  if (granted >= needed) return 'won';
  if (granted + missing >= needed) return 'pending';
  return 'lost';
}

/** A configuration whose decisions need every non-empty half: `incoming` and, when joint, `outgoing`. */
export interface JointVoters {
  readonly incoming: readonly NodeId[];
  readonly outgoing: readonly NodeId[];
}

/** `offByOne` exists only for the 'commit-quorum-off-by-one' test mutation. */
export function jointCommitIndex(
  config: JointVoters,
  matchOf: (id: NodeId) => number,
  offByOne = false,
): number {
  const index = Math.min(
    majorityCommitIndex(config.incoming, matchOf, offByOne),
    majorityCommitIndex(config.outgoing, matchOf, offByOne),
  );
  return index === Number.POSITIVE_INFINITY ? 0 : index;
}

export function jointVote(config: JointVoters, votes: ReadonlyMap<NodeId, boolean>): VoteOutcome {
  const incoming = majorityVote(config.incoming, votes);
  const outgoing = majorityVote(config.outgoing, votes);
  if (incoming === 'won' && outgoing === 'won') return 'won';
  if (incoming === 'lost' || outgoing === 'lost') return 'lost';
  return 'pending';
}

/** Is `active` (nodes recently heard from) a quorum of the joint configuration? */
export function hasQuorum(config: JointVoters, active: (id: NodeId) => boolean): boolean {
  const votes = new Map<NodeId, boolean>();
  for (const id of config.incoming) votes.set(id, active(id));
  for (const id of config.outgoing) votes.set(id, active(id));
  return jointVote(config, votes) === 'won';
}

/** Every voter of the joint configuration, each once, in a stable order. */
export function allVoters(config: JointVoters): NodeId[] {
  const ids = new Set<NodeId>(config.incoming);
  for (const id of config.outgoing) ids.add(id);
  return [...ids];
}
