// One member's card. Built once and updated in place, so a focused button keeps its focus while
// the numbers change several times a second.

import { lagBehindLeader, memberLabel, peerConnectivity, roleLabel } from './cluster-model.js';

/**
 * @typedef {import('./cluster-model.js').MemberState} MemberState
 * @typedef {{ kill: (name: string) => void, restart: (name: string) => void, isolate: (name: string) => void }} CardActions
 */

/**
 * @param {string} tag
 * @param {Record<string, string>} [attributes]
 * @param {string} [text]
 */
function element(tag, attributes = {}, text) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * A button whose visible text is short ("Kill") and whose accessible name says which member.
 * @param {string} label
 * @param {string} testId
 * @param {() => void} onPress
 */
function memberButton(label, testId, onPress) {
  const button = element('button', { type: 'button', 'data-testid': testId });
  const whom = element('span', { class: 'visually-hidden' });
  button.append(label, whom);
  button.addEventListener('click', onPress);
  return { button, whom };
}

export class MemberCard {
  /**
   * @param {string} key stable identity of the member (raft id, else admin URL)
   * @param {CardActions} actions called with the member's current name
   */
  constructor(key, actions) {
    this.name = '';
    const headingId = `member-${key.replace(/[^A-Za-z0-9_-]/g, '_')}-name`;
    this.root = element('article', {
      class: 'member-card',
      'data-testid': 'member-card',
      'aria-labelledby': headingId,
    });
    const header = element('div', { class: 'member-header' });
    this.heading = element('h3', { id: headingId });
    header.append(this.heading);
    this.role = element('span', { class: 'badge role-badge', 'data-testid': 'member-role' }, 'unknown');
    this.status = element(
      'span',
      { class: 'badge status-badge', 'data-testid': 'member-status' },
      'connecting',
    );
    header.append(this.role, this.status);
    this.fields = element('dl', { class: 'member-fields' });
    this.values = {
      term: this.field('Term', 'member-term'),
      commit: this.field('Commit index', 'member-commit'),
      applied: this.field('Applied index', 'member-applied'),
      lag: this.field('Lag behind leader', 'member-lag'),
      revision: this.field('Revision', 'member-revision'),
      keys: this.field('Keys', 'member-keys'),
      peers: this.field('Peers connected', 'member-peers'),
    };
    this.devButtons = element('div', {
      class: 'button-row',
      'data-testid': 'member-dev-controls',
      hidden: '',
    });
    this.buttons = [
      memberButton('Kill', 'kill', () => actions.kill(this.name)),
      memberButton('Restart', 'restart', () => actions.restart(this.name)),
      memberButton('Isolate', 'isolate', () => actions.isolate(this.name)),
    ];
    this.devButtons.append(...this.buttons.map((entry) => entry.button));
    this.root.append(header, this.fields, this.devButtons);
  }

  /**
   * @param {string} label
   * @param {string} testId
   */
  field(label, testId) {
    const value = element('dd', { 'data-testid': testId }, '–');
    this.fields.append(element('dt', {}, label), value);
    return value;
  }

  /**
   * @param {MemberState} member
   * @param {MemberState | undefined} leader
   * @param {boolean} dev
   */
  update(member, leader, dev) {
    if (this.name !== member.name || !this.heading.textContent) this.rename(member);
    const isLeader = member === leader;
    const role = roleLabel(member, leader);
    this.root.dataset.status = member.status;
    this.root.dataset.role = role;
    this.root.dataset.leader = String(isLeader);
    this.role.textContent = role;
    this.status.textContent = member.status === 'up' ? 'reachable' : member.status;
    const view = member.status === 'up' ? member.view : null;
    this.values.term.textContent = view ? String(view.term) : '–';
    this.values.commit.textContent = view ? String(view.commitIndex) : '–';
    this.values.applied.textContent = view ? String(view.appliedIndex) : '–';
    const lag = lagBehindLeader(member, leader);
    this.values.lag.textContent = lag === null ? '–' : `${lag} ${lag === 1 ? 'entry' : 'entries'}`;
    this.values.revision.textContent = view ? String(view.revision) : '–';
    this.values.keys.textContent = view ? String(view.keys) : '–';
    const peers = view ? peerConnectivity(view) : undefined;
    this.values.peers.textContent = peers ? `${peers.connected} of ${peers.total}` : '–';
    // Fault controls address members by name: none until the member has one.
    this.devButtons.hidden = !dev || !member.name;
  }

  /** @param {MemberState} member */
  rename(member) {
    this.name = member.name;
    this.root.dataset.member = member.name;
    this.heading.textContent = memberLabel(member);
    for (const { whom } of this.buttons) whom.textContent = ` ${memberLabel(member)}`;
  }
}
