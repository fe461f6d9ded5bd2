// The client operations of a replay as a table built once per trace: a "now" row marks the
// current time, running operations are labelled, and the checker's counterexample is flagged in
// words (data-testid="violation") as well as by colour.
import { describeCall, describeOutcome, formatMs, operationStatus } from './replay-model.js';

const STATUS_TEXT = { future: 'not yet', running: 'running', ok: 'done', fail: 'done', info: 'gave up' };

export class OpsTable {
  /**
   * @param {HTMLTableSectionElement} tbody
   * @param {HTMLElement} scroller the scrollable box around the table
   */
  constructor(tbody, scroller) {
    this.tbody = tbody;
    this.scroller = scroller;
    /** @type {HTMLTableRowElement[]} */
    this.rows = [];
    this.operations = [];
    this.marker = document.createElement('tr');
    this.marker.className = 'now-marker';
    this.marker.dataset.testid = 'now-marker';
    const cell = document.createElement('td');
    cell.colSpan = 7;
    this.marker.append(cell);
    this.lastMs = 0;
    this.maxDurationMs = 0;
    this.follow = true;
  }

  /** Builds every row for the trace's operations (once per trace). */
  load(index) {
    this.operations = index.operations;
    const cx = index.verdict.counterexample;
    this.maxDurationMs = 0;
    this.rows = this.operations.map((op) => {
      if (op.endMs !== null) this.maxDurationMs = Math.max(this.maxDurationMs, op.endMs - op.atMs);
      return operationRow(op, index.counterexampleIds.has(op.op), cx);
    });
    this.tbody.replaceChildren(...this.rows);
    this.lastMs = Number.NaN;
  }

  /** Shows all rows, only the counterexample's key, or only its operations. */
  filter(mode, index) {
    const key = index.verdict.counterexample?.key;
    this.operations.forEach((op, i) => {
      const row = this.rows[i];
      row.hidden =
        (mode === 'key' && op.key !== key) ||
        (mode === 'counterexample' && !index.counterexampleIds.has(op.op));
    });
    this.keepInView();
  }

  /** Moves the "now" row and relabels the operations whose status changed since the last call. */
  update(atMs) {
    const previous = Number.isNaN(this.lastMs) ? undefined : this.lastMs;
    this.lastMs = atMs;
    const low = previous === undefined ? 0 : Math.min(previous, atMs) - this.maxDurationMs;
    const high = previous === undefined ? Number.POSITIVE_INFINITY : Math.max(previous, atMs);
    this.operations.forEach((op, i) => {
      // Only rows invoked in the window can change, plus those that never completed.
      if (op.endMs !== null && (op.atMs < low || op.atMs > high)) return;
      const status = operationStatus(op, atMs);
      const row = this.rows[i];
      if (row.dataset.status === status) return;
      row.dataset.status = status;
      row.lastElementChild.textContent = STATUS_TEXT[status];
    });
    const next = firstInvokedAfter(this.operations, atMs);
    const anchor = this.rows[next] ?? null;
    if (this.marker.nextSibling !== anchor || this.marker.parentNode !== this.tbody)
      this.tbody.insertBefore(this.marker, anchor);
    this.marker.firstElementChild.textContent = `now: t = ${formatMs(atMs)}`;
    this.keepInView();
  }

  keepInView() {
    if (!this.follow || this.marker.parentNode === null) return;
    const top = this.marker.offsetTop - this.scroller.clientHeight / 2;
    this.scroller.scrollTop = Math.max(0, top);
  }

  /** Scrolls to operation `id`'s row and focuses it. */
  focusOperation(id) {
    const row = this.rows[this.operations.findIndex((op) => op.op === id)];
    if (row === undefined) return;
    this.scroller.scrollTop = Math.max(0, row.offsetTop - this.scroller.clientHeight / 3);
    row.focus({ preventScroll: true });
  }
}

function firstInvokedAfter(operations, atMs) {
  let low = 0;
  let high = operations.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (operations[middle].atMs <= atMs) low = middle + 1;
    else high = middle;
  }
  return low;
}

function operationRow(op, inCounterexample, cx) {
  const row = document.createElement('tr');
  row.dataset.op = String(op.op);
  row.dataset.status = '';
  row.tabIndex = -1;
  const opCell = document.createElement('th');
  opCell.scope = 'row';
  opCell.textContent = String(op.op);
  if (inCounterexample) {
    row.classList.add('counterexample');
    row.dataset.testid = 'violation';
    opCell.append(badge(counterexampleRole(op.op, cx)));
  }
  row.append(opCell);
  const texts = [
    `p${op.process}`,
    describeCall(op),
    describeOutcome(op),
    formatMs(op.atMs),
    op.endMs === null ? '—' : formatMs(op.endMs),
    '',
  ];
  for (const text of texts) {
    const cell = document.createElement('td');
    cell.textContent = text;
    row.append(cell);
  }
  row.children[3].className = `outcome outcome-${op.outcome}`;
  return row;
}

function counterexampleRole(id, cx) {
  if (cx === undefined) return 'counterexample';
  if (id === cx.blockedOp) return 'counterexample: could not be placed';
  if (id === cx.lastWriteOp) return 'counterexample: the write it cannot follow';
  return 'counterexample';
}

function badge(text) {
  const element = document.createElement('span');
  element.className = 'badge';
  element.textContent = text;
  return element;
}
