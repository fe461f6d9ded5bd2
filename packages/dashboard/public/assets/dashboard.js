// The cluster view. Reads the serving member's /api/node to learn the members, then streams every
// member's NodeView directly (so the page stays live when the member that served it dies).

import {
  byMemberName,
  currentLeader,
  leaderAnnouncement,
  memberKey,
  memberLabel,
  membersFromView,
  mergeElections,
  pickLiveMember,
  rateEdges,
} from './cluster-model.js';
import { createDevControls } from './dev-controls.js';
import { setUpKeysPanel } from './keys-panel.js';
import { MemberCard } from './member-card.js';
import { MemberStream } from './member-stream.js';
import { renderRateGraph } from './rate-graph.js';
import { setUpWatchPanel } from './watch-panel.js';

/** Pause between attempts to read the serving member's /api/node at start. */
const BOOT_RETRY_MS = 1_000;
/** Updates arriving within this window are drawn once. */
const RENDER_DELAY_MS = 16;

/**
 * @typedef {import('./cluster-model.js').MemberState} MemberState
 * @typedef {import('./cluster-model.js').NodeView} NodeView
 */

/** @type {MemberState[]} */
const members = [];
/** @type {Map<string, MemberCard>} */
const cards = new Map();
/** @type {Map<string, MemberStream>} */
const streams = new Map();
const page = {
  dev: false,
  clusterId: '',
  servingName: '',
  announcedLeader: /** @type {string | undefined} */ (undefined),
};
/** @type {ReturnType<typeof setTimeout> | undefined} */
let renderTimer;

/**
 * @param {string} testId
 * @returns {HTMLElement}
 */
function byTestId(testId) {
  const found = document.querySelector(`[data-testid="${testId}"]`);
  if (!(found instanceof HTMLElement)) {
    throw new Error(`dashboard markup lacks data-testid="${testId}"`);
  }
  return found;
}

const devControls = createDevControls(() => members, byTestId('fault-status'));

/**
 * Adds a member the page has not seen (and opens its stream), or fills in what it lacked: a
 * member's peers list it with an empty name until it has published one.
 * @param {{ name: string, adminUrl: string, raftId: string }} ref
 */
function ensureMember(ref) {
  if (!ref.adminUrl) return;
  const key = memberKey(ref);
  const known = members.find((member) => member.key === key || member.adminUrl === ref.adminUrl);
  if (known) {
    if (ref.name && known.name !== ref.name) {
      known.name = ref.name;
      placeCards();
    }
    if (!known.raftId && ref.raftId) known.raftId = ref.raftId;
    return;
  }
  /** @type {MemberState} */
  const member = {
    key,
    name: ref.name,
    adminUrl: ref.adminUrl,
    raftId: ref.raftId,
    status: 'connecting',
    view: null,
  };
  members.push(member);
  cards.set(key, new MemberCard(key, devControls));
  placeCards();
  const stream = new MemberStream(ref.adminUrl, {
    onView: (view) => acceptView(member, view),
    onStatus: (status) => {
      if (member.status === status) return;
      member.status = status;
      scheduleRender();
    },
  });
  streams.set(key, stream);
  stream.start();
}

/** Keeps members and their cards in name order (only when membership or names change). */
function placeCards() {
  members.sort(byMemberName);
  const list = byTestId('member-list');
  const ordered = members.map((member) => cards.get(member.key)?.root).filter((root) => root !== undefined);
  if (ordered.some((root, index) => list.children[index] !== root)) list.replaceChildren(...ordered);
}

/**
 * @param {MemberState} member
 * @param {NodeView} view
 */
function acceptView(member, view) {
  member.view = view;
  if (view.raftId) member.raftId = view.raftId;
  if (view.dev) page.dev = true;
  if (!page.clusterId && view.clusterId) page.clusterId = view.clusterId;
  for (const ref of membersFromView(view)) ensureMember(ref);
  scheduleRender();
}

function scheduleRender() {
  if (renderTimer !== undefined) return;
  renderTimer = setTimeout(() => {
    renderTimer = undefined;
    render();
  }, RENDER_DELAY_MS);
}

function render() {
  const leader = currentLeader(members);
  for (const member of members) cards.get(member.key)?.update(member, leader, page.dev);
  byTestId('leader-name').textContent = leader ? memberLabel(leader) : 'none';
  byTestId('leader-term').textContent = leader?.view ? String(leader.view.term) : '–';
  byTestId('members-up').textContent = String(members.filter((member) => member.status === 'up').length);
  byTestId('members-total').textContent = String(members.length);
  byTestId('cluster-id').textContent = page.clusterId || '–';
  byTestId('fault-controls').hidden = !page.dev;
  const announcement = leaderAnnouncement(page.announcedLeader, leader);
  if (announcement) byTestId('announcer').textContent = announcement;
  page.announcedLeader = leader ? memberLabel(leader) : undefined;
  renderRates(leader);
  renderElections();
}

/** @param {MemberState | undefined} leader */
function renderRates(leader) {
  const edges = rateEdges(members);
  const nodes = members.map((member) => ({
    name: memberLabel(member),
    status: member.status,
    isLeader: member === leader,
  }));
  renderRateGraph(byTestId('rate-graph'), nodes, edges);
  const rows = edges.map((edge) =>
    tableRow([edge.from, edge.to, edge.perSecond.toFixed(1), String(edge.queueDepth)]),
  );
  byTestId('rate-table')
    .querySelector('tbody')
    ?.replaceChildren(...rows);
}

function renderElections() {
  const rows = mergeElections(members).map((election) =>
    tableRow([String(election.term), election.leaderName, new Date(election.atMs).toLocaleTimeString()]),
  );
  byTestId('election-table')
    .querySelector('tbody')
    ?.replaceChildren(...rows);
}

/** @param {readonly string[]} cells */
function tableRow(cells) {
  const row = document.createElement('tr');
  for (const text of cells) {
    const cell = document.createElement('td');
    cell.textContent = text;
    row.append(cell);
  }
  return row;
}

/** A reachable member for reads, preferring the one that served the page. */
function readMember(/** @type {string | undefined} */ avoid) {
  return pickLiveMember(members, avoid === undefined ? { prefer: page.servingName } : { avoid });
}

async function boot() {
  const error = byTestId('load-error');
  for (;;) {
    try {
      const response = await fetch('/api/node');
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      /** @type {NodeView} */
      const view = await response.json();
      error.hidden = true;
      page.servingName = view.name;
      for (const ref of membersFromView(view)) ensureMember(ref);
      const served = members.find((member) => member.key === memberKey(view));
      if (served) acceptView(served, view);
      return;
    } catch (cause) {
      error.hidden = false;
      error.textContent = `Cannot read /api/node from this member (${cause instanceof Error ? cause.message : String(cause)}); retrying.`;
      await new Promise((resolve) => setTimeout(resolve, BOOT_RETRY_MS));
    }
  }
}

byTestId('isolate-leader').addEventListener('click', () => devControls.isolateLeader());
byTestId('heal').addEventListener('click', () => devControls.heal());
setUpKeysPanel(/** @type {HTMLElement} */ (byTestId('keys-form').closest('section')), () =>
  readMember(undefined),
);
setUpWatchPanel(/** @type {HTMLElement} */ (byTestId('watch-form').closest('section')), readMember);
window.addEventListener('pagehide', () => {
  for (const stream of streams.values()) stream.stop();
});
boot();
