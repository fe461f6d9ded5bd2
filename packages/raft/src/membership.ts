// Membership changes (Raft thesis §4): learners, simple one-voter changes, and joint consensus for
// anything larger. Changes take effect when their entry is applied, one pending change at a time.
import type { ConfChange, ConfChangeSingle, ConfState, NodeId } from './types.js';

export type ConfChangeResult = { ok: true; confState: ConfState } | { ok: false; reason: string };

export function isJoint(confState: ConfState): boolean {
  return confState.votersOutgoing.length > 0;
}

/** Every member (voters of both halves and learners), sorted so iteration order is deterministic. */
export function allMembers(confState: ConfState): NodeId[] {
  const ids = new Set<NodeId>([
    ...confState.voters,
    ...confState.votersOutgoing,
    ...confState.learners,
    ...confState.learnersNext,
  ]);
  return [...ids].sort();
}

export function isVoter(confState: ConfState, id: NodeId): boolean {
  return confState.voters.includes(id) || confState.votersOutgoing.includes(id);
}

export function isLearner(confState: ConfState, id: NodeId): boolean {
  return !isVoter(confState, id) && (confState.learners.includes(id) || confState.learnersNext.includes(id));
}

/** Computes the configuration that results from applying `change` to `current`, or why it is invalid. */
export function applyConfChange(current: ConfState, change: ConfChange): ConfChangeResult {
  if (current.voters.length === 0 && current.votersOutgoing.length === 0) {
    // A member that joined without a snapshot has no configuration (the bootstrap one is in snapshot
    // metadata, never in the log). Replaying changes onto nothing would make it its own sole voter:
    // it would elect itself and commit alone. It stays without one until a snapshot brings it.
    return { ok: false, reason: 'the configuration is unknown: a new member learns it from a snapshot' };
  }
  if (change.changes.length === 0) return leaveJoint(current);
  if (isJoint(current))
    return { ok: false, reason: 'a joint configuration must be left before another change' };
  const incoming = applyChanges(current, change.changes);
  if (!incoming.ok) return incoming;
  const next = incoming.confState;
  const votersChanged = symmetricDifference(current.voters, next.voters);
  if (change.transition === 'auto' && votersChanged <= 1) return validate(next);
  // Joint consensus: the old voters keep a say until the joint configuration is left.
  const learnersNext = next.learners.filter((id) => current.voters.includes(id));
  return validate({
    voters: next.voters,
    votersOutgoing: [...current.voters],
    learners: next.learners.filter((id) => !current.voters.includes(id)),
    learnersNext,
    autoLeave: change.transition === 'auto',
  });
}

function leaveJoint(current: ConfState): ConfChangeResult {
  if (!isJoint(current)) return { ok: false, reason: 'not in a joint configuration' };
  return validate({
    voters: current.voters,
    votersOutgoing: [],
    learners: sortedUnion(current.learners, current.learnersNext),
    learnersNext: [],
    autoLeave: false,
  });
}

function applyChanges(current: ConfState, changes: readonly ConfChangeSingle[]): ConfChangeResult {
  const voters = new Set(current.voters);
  const learners = new Set(current.learners);
  for (const { type, node } of changes) {
    if (node === '') return { ok: false, reason: 'a member id must not be empty' };
    voters.delete(node);
    learners.delete(node);
    if (type === 'addVoter') voters.add(node);
    else if (type === 'addLearner') learners.add(node);
  }
  return {
    ok: true,
    confState: { ...current, voters: [...voters].sort(), learners: [...learners].sort() },
  };
}

function validate(confState: ConfState): ConfChangeResult {
  if (confState.voters.length === 0) return { ok: false, reason: 'the configuration would have no voters' };
  for (const id of confState.learners) {
    if (isVoter(confState, id)) return { ok: false, reason: `${id} cannot be both a voter and a learner` };
  }
  return { ok: true, confState };
}

function symmetricDifference(a: readonly NodeId[], b: readonly NodeId[]): number {
  let count = 0;
  for (const id of a) if (!b.includes(id)) count++;
  for (const id of b) if (!a.includes(id)) count++;
  return count;
}

function sortedUnion(a: readonly NodeId[], b: readonly NodeId[]): NodeId[] {
  return [...new Set([...a, ...b])].sort();
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeConfChange(change: ConfChange): Uint8Array {
  return encoder.encode(JSON.stringify(change));
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  const parsed: unknown = JSON.parse(decoder.decode(data));
  if (!isConfChange(parsed)) throw new Error('config entry does not hold a ConfChange');
  return parsed;
}

function isConfChange(value: unknown): value is ConfChange {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { changes?: unknown; transition?: unknown };
  if (candidate.transition !== 'auto' && candidate.transition !== 'joint') return false;
  if (!Array.isArray(candidate.changes)) return false;
  return candidate.changes.every(
    (item: unknown) =>
      typeof item === 'object' &&
      item !== null &&
      typeof (item as ConfChangeSingle).node === 'string' &&
      ['addVoter', 'addLearner', 'removeNode'].includes((item as ConfChangeSingle).type),
  );
}
