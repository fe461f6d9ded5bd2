// The watch tail: new changes under a prefix (GET /api/watch, SSE), newest first, bounded.

/** Events kept on the page; older ones fall off the bottom. */
export const MAX_WATCH_EVENTS = 200;
/** Pause before re-opening a watch that failed or overflowed. */
const REWATCH_DELAY_MS = 500;

/**
 * @typedef {import('./cluster-model.js').MemberState} MemberState
 * @typedef {{ type: string, key: string, value?: string, modRevision: number }} WatchEvent
 */

/**
 * @param {HTMLElement} root the watch section
 * @param {(avoid?: string) => MemberState | undefined} pickMember
 */
export function setUpWatchPanel(root, pickMember) {
  const form = /** @type {HTMLFormElement} */ (root.querySelector('[data-testid="watch-form"]'));
  const stopButton = /** @type {HTMLButtonElement} */ (root.querySelector('[data-testid="watch-stop"]'));
  const status = /** @type {HTMLElement} */ (root.querySelector('[data-testid="watch-status"]'));
  const list = /** @type {HTMLElement} */ (root.querySelector('[data-testid="watch-list"]'));
  /** @type {EventSource | undefined} */
  let source;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let retryTimer;
  let prefix = '';

  const close = () => {
    source?.close();
    source = undefined;
    clearTimeout(retryTimer);
  };
  /** @param {WatchEvent} change */
  const show = (change) => {
    const item = document.createElement('li');
    item.dataset.testid = 'watch-event';
    const value = change.type === 'PUT' ? ` = ${change.value ?? ''}` : '';
    item.textContent = `${change.type} ${change.key}${value} (revision ${change.modRevision})`;
    list.prepend(item);
    while (list.children.length > MAX_WATCH_EVENTS) list.lastElementChild?.remove();
  };
  /** @param {string | undefined} avoid */
  const open = (avoid) => {
    close();
    const member = pickMember(avoid);
    if (!member) {
      status.textContent = 'No member is reachable; retrying.';
      retryTimer = setTimeout(() => open(undefined), REWATCH_DELAY_MS);
      return;
    }
    const watched = new EventSource(`${member.adminUrl}/api/watch?${new URLSearchParams({ prefix })}`);
    source = watched;
    status.textContent = `Opening a watch on ${member.name}…`;
    watched.addEventListener('open', () => {
      status.textContent = `Watching "${prefix}" on ${member.name}.`;
    });
    watched.addEventListener('kv', (event) => {
      try {
        show(JSON.parse(/** @type {MessageEvent<string>} */ (event).data));
      } catch {
        // a malformed event is skipped
      }
    });
    const reopen = (/** @type {string} */ why) => {
      if (source !== watched) return;
      close();
      status.textContent = `${why} Re-opening the watch (changes in between are not shown).`;
      retryTimer = setTimeout(() => open(member.name), REWATCH_DELAY_MS);
    };
    watched.addEventListener('overflow', () =>
      reopen(`${member.name} dropped the watch: the page fell behind.`),
    );
    watched.addEventListener('error', () => reopen(`Lost the watch on ${member.name}.`));
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    prefix = String(new FormData(form).get('prefix') ?? '');
    list.replaceChildren();
    stopButton.disabled = false;
    open(undefined);
  });
  stopButton.addEventListener('click', () => {
    close();
    stopButton.disabled = true;
    status.textContent = 'Stopped.';
  });
}
