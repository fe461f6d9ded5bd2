// The client operations of a replay around the current time: the operations still running, a few
// before and after a "now" row. Only that window is in the page (a long run has thousands of
// operations, and laying out a table that size on every step is what makes scrubbing slow). The
// checker's counterexample is flagged in words (data-testid="violation") as well as by colour.
import { describeCall, describeOutcome, formatMs, operationStatus } from './replay-model.js';

/** Operations shown before the "now" row (besides any still running) and after it. */
export const ROWS_BEFORE_NOW = 10;
export const ROWS_AFTER_NOW = 14;

const STATUS_TEXT = { future: 'not yet', running: 'running', ok: 'done', fail: 'done', info: 'gave up' };

export class OpsTable {
  /**
   * @param {HTMLTableSectionElement} tbody
   * @param {HTMLElement} caption where "operations 120–144 of 1 871" is written
   */
  constructor(tbody, caption) {
    this.tbody = tbody;
    this.caption = caption;
    this.operations = [];
    /** Positions in `operations` the filter lets through, in invocation order. */
    this.shown = [];
    /** Row elements, built when first shown (op position → row). */
    this.rows = new Map();
    this.index = null;
    this.marker = document.createElement('tr');
    this.marker.className = 'now-marker';
    this.marker.dataset.testid = 'now-marker';
    const cell = document.createElement('td');
    cell.colSpan = 7;
    this.marker.append(cell);
    this.windowKey = '';
    this.atMs = 0;
  }

  /** Takes a new trace's operations. */
  load(index) {
    this.index = index;
    this.operations = index.operations;
    this.rows = new Map();
    this.filter('all');
  }

  /** Shows all operations, only those on the counterexample's key, or only its operations. */
  filter(mode) {
    const index = this.index;
    if (index === null) return;
    const key = index.verdict.counterexample?.key;
    this.shown = [];
    this.operations.forEach((op, position) => {
      if (mode === 'key' && op.key !== key) return;
      if (mode === 'counterexample' && !index.counterexampleIds.has(op.op)) return;
      this.shown.push(position);
    });
    this.windowKey = '';
    this.update(this.atMs);
  }

  /** Shows the window around `atMs` and labels each operation's status then. */
  update(atMs) {
    this.atMs = atMs;
    const next = firstInvokedAfter(this.operations, this.shown, atMs);
    const from = Math.max(0, next - ROWS_BEFORE_NOW);
    const to = Math.min(this.shown.length, next + ROWS_AFTER_NOW);
    const window = this.shown.slice(from, to);
    // Operations invoked earlier but still running at `atMs` stay in view.
    const running = this.shown
      .slice(0, from)
      .filter((position) => operationStatus(this.operations[position], atMs) === 'running');
    const positions = [...running, ...window];
    const key = positions.join(',');
    if (key !== this.windowKey) {
      this.windowKey = key;
      const rows = positions.map((position) => this.row(position));
      rows.splice(running.length + (next - from), 0, this.marker);
      this.tbody.replaceChildren(...rows);
      this.caption.textContent =
        this.shown.length === 0
          ? 'No operations to show.'
          : `Operations ${from + 1}–${to} of ${this.shown.length.toLocaleString('en')} shown` +
            `${running.length > 0 ? `, and ${running.length} earlier still running` : ''}.`;
    }
    for (const position of positions) {
      const status = operationStatus(this.operations[position], atMs);
      const row = this.row(position);
      if (row.dataset.status === status) continue;
      row.dataset.status = status;
      row.lastElementChild.textContent = STATUS_TEXT[status];
    }
    this.marker.firstElementChild.textContent = `now: t = ${formatMs(atMs)}`;
  }

  /** Focuses operation `id`'s row if it is in view. */
  focusOperation(id) {
    const position = this.operations.findIndex((op) => op.op === id);
    const row = this.rows.get(position);
    if (row?.isConnected) row.focus();
  }

  row(position) {
    let row = this.rows.get(position);
    if (row === undefined) {
      const op = this.operations[position];
      row = operationRow(op, this.index.counterexampleIds.has(op.op), this.index.verdict.counterexample);
      this.rows.set(position, row);
    }
    return row;
  }
}

/** Position in `shown` of the first operation invoked after `atMs`. */
function firstInvokedAfter(operations, shown, atMs) {
  let low = 0;
  let high = shown.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (operations[shown[middle]].atMs <= atMs) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * Rows for the verdict's counterexample table: each operation the checker could not order, with
 * a button that moves the timeline to it.
 * @param {(op: any) => void} onShow
 */
export function counterexampleRows(index, onShow) {
  return index.operations
    .filter((op) => index.counterexampleIds.has(op.op))
    .map((op) => {
      const row = operationRow(op, true, index.verdict.counterexample);
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = `Show op ${op.op}`;
      button.addEventListener('click', () => onShow(op));
      row.lastElementChild.replaceChildren(button);
      return row;
    });
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
