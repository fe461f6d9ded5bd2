// One member's live NodeView over Server-Sent Events, with our own reconnect schedule (the
// browser's default retry is seconds; a restarted member should show up again at once) and a
// staleness check (members send an event at least once per second).

/** First reconnect delay after the stream fails. */
export const RECONNECT_MIN_MS = 200;
/** Reconnect delays double up to this. */
export const RECONNECT_MAX_MS = 1_000;
/** A member silent this long is shown as down even if the socket still looks open. */
export const STALE_AFTER_MS = 3_000;

/**
 * @typedef {import('./cluster-model.js').NodeView} NodeView
 * @typedef {import('./cluster-model.js').LinkStatus} LinkStatus
 */

export class MemberStream {
  /**
   * @param {string} adminUrl e.g. http://127.0.0.1:2381
   * @param {{ onView: (view: NodeView) => void, onStatus: (status: LinkStatus) => void }} handlers
   */
  constructor(adminUrl, handlers) {
    this.adminUrl = adminUrl.replace(/\/+$/, '');
    this.handlers = handlers;
    /** @type {EventSource | undefined} */
    this.source = undefined;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.reconnectTimer = undefined;
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.staleTimer = undefined;
    this.reconnectDelayMs = RECONNECT_MIN_MS;
    this.lastEventMs = 0;
    this.stopped = false;
  }

  start() {
    this.stopped = false;
    this.connect();
    this.staleTimer = setInterval(() => this.checkStale(), STALE_AFTER_MS / 3);
  }

  stop() {
    this.stopped = true;
    this.source?.close();
    this.source = undefined;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.staleTimer);
  }

  connect() {
    if (this.stopped) return;
    const source = new EventSource(`${this.adminUrl}/api/node/stream`);
    this.source = source;
    this.lastEventMs = Date.now();
    source.addEventListener('node', (event) => {
      /** @type {NodeView} */
      let view;
      try {
        view = JSON.parse(/** @type {MessageEvent<string>} */ (event).data);
      } catch {
        return; // a malformed event is skipped; the next one (≤ 1 s) replaces it
      }
      this.lastEventMs = Date.now();
      this.reconnectDelayMs = RECONNECT_MIN_MS;
      this.handlers.onStatus('up');
      this.handlers.onView(view);
    });
    source.addEventListener('error', () => this.fail());
  }

  /** Drops the connection, reports the member down and tries again later. */
  fail() {
    this.source?.close();
    this.source = undefined;
    this.handlers.onStatus('down');
    if (this.stopped || this.reconnectTimer !== undefined) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect();
    }, this.reconnectDelayMs);
    this.reconnectDelayMs = Math.min(RECONNECT_MAX_MS, this.reconnectDelayMs * 2);
  }

  checkStale() {
    if (this.source && Date.now() - this.lastEventMs > STALE_AFTER_MS) this.fail();
  }
}
