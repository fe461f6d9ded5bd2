// Fault injection buttons (shown only for `synod dev` clusters). Requests go to a reachable member's
// admin server, which passes them to the dev supervisor.

import { currentLeader, isolationGroups, pickLiveMember } from './cluster-model.js';

/** @typedef {import('./cluster-model.js').MemberState} MemberState */

/**
 * @param {() => readonly MemberState[]} getMembers
 * @param {HTMLElement} status where outcomes are written (an aria-live region)
 */
export function createDevControls(getMembers, status) {
  /**
   * @param {string} path e.g. 'kill?member=n1'
   * @param {{ avoid?: string, body?: unknown, done: string }} request
   */
  const post = async (path, request) => {
    const via = pickLiveMember(getMembers(), request.avoid === undefined ? {} : { avoid: request.avoid });
    if (!via) {
      status.textContent = 'No reachable member can pass the request to the dev supervisor.';
      return;
    }
    status.textContent = `Sending ${path.split('?')[0]} through ${via.name}…`;
    try {
      /** @type {RequestInit} */
      const init = { method: 'POST' };
      if (request.body !== undefined) {
        init.headers = { 'content-type': 'application/json' };
        init.body = JSON.stringify(request.body);
      }
      const response = await fetch(`${via.adminUrl}/api/dev/${path}`, init);
      const text = await response.text();
      /** @type {{ message?: string, error?: string }} */
      let answer = {};
      try {
        answer = JSON.parse(text);
      } catch {
        answer = { error: text };
      }
      status.textContent = response.ok
        ? (answer.message ?? request.done)
        : `Refused (HTTP ${response.status}): ${answer.error ?? answer.message ?? text}`;
    } catch (error) {
      status.textContent = `Could not reach ${via.name}: ${error instanceof Error ? error.message : String(error)}`;
    }
  };
  const allNames = () => getMembers().map((member) => member.name);
  /** @param {string} name */
  const isolate = (name) =>
    post('partition', {
      body: isolationGroups(name, allNames()),
      done: `${name} is cut off from the others.`,
    });

  return {
    /** @param {string} name */
    kill: (name) => post(`kill?member=${encodeURIComponent(name)}`, { avoid: name, done: `${name} killed.` }),
    /** @param {string} name */
    restart: (name) =>
      post(`restart?member=${encodeURIComponent(name)}`, { avoid: name, done: `${name} restarting.` }),
    isolate,
    isolateLeader: () => {
      const leader = currentLeader(getMembers());
      if (!leader) {
        status.textContent = 'There is no leader to isolate right now.';
        return;
      }
      isolate(leader.name);
    },
    heal: () => post('heal', { done: 'Partitions healed.' }),
  };
}
