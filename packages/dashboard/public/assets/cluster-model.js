// What the dashboard shows, computed from the NodeViews the members stream. Pure functions, no DOM,
// so node:test checks them directly (src/cluster-model.test.ts).

/**
 * @typedef {object} MemberRef
 * @property {string} name
 * @property {string} raftId
 * @property {string} [memberId]
 * @property {string} [clientUrl]
 * @property {string} adminUrl
 * @property {boolean} [isLearner]
 * @property {number | null} [matchIndex]
 * @property {boolean} [connected]
 */

/**
 * @typedef {object} MessageRate
 * @property {string} to raft id of the receiving member
 * @property {number} perSecond
 * @property {number} queueDepth
 */

/**
 * @typedef {object} Election
 * @property {number} term
 * @property {string} leader raft id
 * @property {number} atMs
 */

/**
 * One member's own view of itself and the cluster (GET /api/node).
 * @typedef {object} NodeView
 * @property {string} name
 * @property {string} memberId
 * @property {string} raftId
 * @property {string} clusterId
 * @property {string} clientUrl
 * @property {string} adminUrl
 * @property {string} role leader | follower | candidate | pre-candidate | learner
 * @property {number} term
 * @property {string} leader raft id, or '' when unknown
 * @property {number} commitIndex
 * @property {number} appliedIndex
 * @property {number} lastIndex
 * @property {number} revision
 * @property {number} keys
 * @property {MemberRef[]} members
 * @property {MessageRate[]} messageRates
 * @property {Election[]} elections
 * @property {boolean} dev
 * @property {number} uptimeMs
 */

/** @typedef {'connecting' | 'up' | 'down'} LinkStatus */

/**
 * What the page knows about one member: where to reach it and its latest view.
 * @typedef {object} MemberState
 * @property {string} key see memberKey
 * @property {string} name '' until known
 * @property {string} adminUrl
 * @property {string} raftId
 * @property {LinkStatus} status
 * @property {NodeView | null} view
 */

/** Elections listed at most (each member reports its last 20). */
export const MAX_ELECTIONS_SHOWN = 20;

/**
 * A member's identity on the page: its raft id, else its admin URL. Not its name: a member that
 * has not published its name yet is listed by its peers with an empty one.
 * @param {{ raftId: string, adminUrl: string }} ref
 * @returns {string}
 */
export function memberKey(ref) {
  return ref.raftId || ref.adminUrl;
}

/**
 * What the page calls a member: its name, or its raft id until it has published a name.
 * @param {{ name: string, raftId: string }} member
 * @returns {string}
 */
export function memberLabel(member) {
  return member.name || `unnamed ${member.raftId}`;
}

/**
 * Orders members by name (numbers inside names by value: n2 before n10), unnamed ones last.
 * @param {{ name: string }} a
 * @param {{ name: string }} b
 */
export function byMemberName(a, b) {
  if (!a.name || !b.name) return (a.name ? 0 : 1) - (b.name ? 0 : 1);
  return a.name.localeCompare(b.name, 'en', { numeric: true });
}

/**
 * Every member a view names (itself and its `members`), once each, sorted by name.
 * @param {NodeView} view
 * @returns {{ name: string, adminUrl: string, raftId: string }[]}
 */
export function membersFromView(view) {
  /** @type {Map<string, { name: string, adminUrl: string, raftId: string }>} */
  const byKey = new Map();
  const self = { name: view.name, adminUrl: view.adminUrl, raftId: view.raftId };
  byKey.set(memberKey(self), self);
  for (const member of view.members ?? []) {
    const ref = { name: member.name ?? '', adminUrl: member.adminUrl, raftId: member.raftId };
    if (!byKey.has(memberKey(ref))) byKey.set(memberKey(ref), ref);
  }
  return [...byKey.values()].sort(byMemberName);
}

/**
 * The leader to show: among reachable members that say they lead, the one with the highest term
 * (a partitioned old leader may still believe it leads, at a lower term).
 * @param {readonly MemberState[]} members
 * @returns {MemberState | undefined}
 */
export function currentLeader(members) {
  /** @type {MemberState | undefined} */
  let leader;
  for (const member of members) {
    if (member.status !== 'up' || member.view?.role !== 'leader') continue;
    if (!leader || member.view.term > (leader.view?.term ?? -1)) leader = member;
  }
  return leader;
}

/**
 * The role to print for a member: its own word while reachable, 'unknown' otherwise.
 * @param {MemberState} member
 * @param {MemberState | undefined} leader
 * @returns {string}
 */
export function roleLabel(member, leader) {
  if (member.status !== 'up' || !member.view) return 'unknown';
  if (member.view.role === 'leader' && member !== leader) return 'stale leader';
  return member.view.role;
}

/**
 * How many committed entries the member has yet to apply, measured against the leader's commit
 * index; null while either side is unknown.
 * @param {MemberState} member
 * @param {MemberState | undefined} leader
 * @returns {number | null}
 */
export function lagBehindLeader(member, leader) {
  if (!leader?.view || member.status !== 'up' || !member.view) return null;
  return Math.max(0, leader.view.commitIndex - member.view.appliedIndex);
}

/**
 * How many of its peers a member says it is connected to (a partition shows here).
 * @param {NodeView} view
 * @returns {{ connected: number, total: number }}
 */
export function peerConnectivity(view) {
  const peers = (view.members ?? []).filter((member) => member.raftId !== view.raftId);
  return { connected: peers.filter((member) => member.connected).length, total: peers.length };
}

/**
 * @param {readonly MemberState[]} members
 * @returns {Map<string, string>} raft id → member name
 */
export function namesByRaftId(members) {
  const names = new Map();
  for (const member of members) {
    if (member.raftId) names.set(member.raftId, memberLabel(member));
    if (member.view?.raftId) names.set(member.view.raftId, memberLabel(member));
  }
  return names;
}

/**
 * Elections from every member's history, one per term (the earliest sighting), newest term first.
 * Members that are down keep contributing what they reported before.
 * @param {readonly MemberState[]} members
 * @param {number} [limit]
 * @returns {{ term: number, leaderName: string, atMs: number }[]}
 */
export function mergeElections(members, limit = MAX_ELECTIONS_SHOWN) {
  const names = namesByRaftId(members);
  /** @type {Map<number, Election>} */
  const byTerm = new Map();
  for (const member of members) {
    for (const election of member.view?.elections ?? []) {
      const seen = byTerm.get(election.term);
      if (!seen || election.atMs < seen.atMs) byTerm.set(election.term, election);
    }
  }
  return [...byTerm.values()]
    .sort((a, b) => b.term - a.term)
    .slice(0, limit)
    .map((election) => ({
      term: election.term,
      leaderName: names.get(election.leader) ?? election.leader,
      atMs: election.atMs,
    }));
}

/**
 * Directed message-rate edges between members, as reported by reachable senders.
 * @param {readonly MemberState[]} members
 * @returns {{ from: string, to: string, perSecond: number, queueDepth: number }[]}
 */
export function rateEdges(members) {
  const names = namesByRaftId(members);
  const edges = [];
  for (const member of members) {
    if (member.status !== 'up' || !member.view) continue;
    for (const rate of member.view.messageRates ?? []) {
      edges.push({
        from: memberLabel(member),
        to: names.get(rate.to) ?? rate.to,
        perSecond: rate.perSecond,
        queueDepth: rate.queueDepth,
      });
    }
  }
  return edges.sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
}

/**
 * The sentence announced when the shown leader changes; undefined when it did not.
 * @param {string | undefined} previousName
 * @param {MemberState | undefined} leader
 * @returns {string | undefined}
 */
export function leaderAnnouncement(previousName, leader) {
  const name = leader ? memberLabel(leader) : undefined;
  if (name === previousName) return undefined;
  if (!name) return previousName ? `No leader: ${previousName} is no longer reachable as leader.` : undefined;
  return `Leader is now ${name} (term ${leader?.view?.term ?? '?'}).`;
}

/**
 * Partition groups that cut one member off from all the others.
 * @param {string} isolated
 * @param {readonly string[]} allNames
 * @returns {{ groups: string[][] }}
 */
export function isolationGroups(isolated, allNames) {
  const rest = allNames.filter((name) => name !== isolated);
  return { groups: [[isolated], rest] };
}

/**
 * A member to send requests through: the preferred one when reachable, else any reachable member
 * other than `avoid` (killing a member through itself would lose the answer).
 * @param {readonly MemberState[]} members
 * @param {{ avoid?: string, prefer?: string }} [options]
 * @returns {MemberState | undefined}
 */
export function pickLiveMember(members, options = {}) {
  const live = members.filter((member) => member.status === 'up' && member.name !== options.avoid);
  return live.find((member) => member.name === options.prefer) ?? live[0];
}
