// The replay page: loads a simulator trace (from this member's /api/sim/trace, or a file), then
// lets the reader move through virtual time with a scrubber, step buttons, play and the keyboard.
import { ARROWS_DRAWN_MAX, networkLine, renderCluster, renderNodeTable } from './replay-cluster-view.js';
import {
  formatMs,
  indexTrace,
  messagesAt,
  ReplayCursor,
  stepTime,
  validateTrace,
  verdictSummary,
} from './replay-model.js';
import { counterexampleRows, OpsTable } from './replay-ops-table.js';

/** Shift+arrow moves this far, in virtual ms. */
const BIG_STEP_MS = 100;

const $ = (testId) => /** @type {HTMLElement} */ (document.querySelector(`[data-testid="${testId}"]`));

const elements = {
  form: /** @type {HTMLFormElement} */ ($('load-form')),
  seed: /** @type {HTMLInputElement} */ ($('seed')),
  nodes: /** @type {HTMLSelectElement} */ ($('nodes')),
  mutant: /** @type {HTMLSelectElement} */ ($('mutant')),
  loadButton: /** @type {HTMLButtonElement} */ ($('load-button')),
  file: /** @type {HTMLInputElement} */ ($('trace-file')),
  status: $('status'),
  main: $('replay'),
  dropOverlay: $('drop-overlay'),
  verdict: $('verdict'),
  verdictHeadline: $('verdict-headline'),
  verdictDetail: $('verdict-detail'),
  runMeta: $('run-meta'),
  jump: /** @type {HTMLButtonElement} */ ($('jump-to-violation')),
  jumpInvariant: /** @type {HTMLButtonElement} */ ($('jump-to-invariant')),
  explanation: /** @type {HTMLDetailsElement} */ ($('checker-explanation')),
  checkerLines: $('checker-lines'),
  violationsDetails: /** @type {HTMLDetailsElement} */ ($('violations-details')),
  violationList: $('violation-list'),
  scrubber: /** @type {HTMLInputElement} */ ($('scrubber')),
  time: $('time'),
  play: /** @type {HTMLButtonElement} */ ($('play')),
  stepBy: /** @type {HTMLSelectElement} */ ($('step-by')),
  speed: /** @type {HTMLSelectElement} */ ($('speed')),
  overview: $('overview'),
  cluster: /** @type {SVGSVGElement} */ (/** @type {unknown} */ ($('cluster-view'))),
  networkLine: $('network-line'),
  flightLine: $('flight-line'),
  nodeBody: /** @type {HTMLTableSectionElement} */ ($('node-table').querySelector('tbody')),
  events: $('events-list'),
  counterexample: $('counterexample'),
  counterexampleBody: /** @type {HTMLTableSectionElement} */ (
    $('counterexample-table').querySelector('tbody')
  ),
  opsFilter: /** @type {HTMLSelectElement} */ ($('ops-filter')),
  opsBody: /** @type {HTMLTableSectionElement} */ ($('ops-table').querySelector('tbody')),
  opsWindow: $('ops-window'),
};

const opsTable = new OpsTable(elements.opsBody, elements.opsWindow);
/** The loaded trace, its cursor and the current time; null before the first load. */
let replay = null;
let playing = false;
let lastFrameMs = 0;
let renderQueued = false;

function setStatus(text, isError = false) {
  elements.status.textContent = text;
  elements.status.classList.toggle('error', isError);
}

async function loadFromServer(seed, nodes, mutant) {
  const query = new URLSearchParams({ seed: String(seed), nodes: String(nodes) });
  if (mutant) query.set('mutant', mutant);
  setStatus(`Running seed ${seed} (${nodes} nodes${mutant ? `, ${mutant}` : ''}) on the server…`);
  elements.loadButton.disabled = true;
  try {
    const response = await fetch(`api/sim/trace?${query}`);
    if (response.status === 429) throw new Error('another trace is being computed; try again in a moment');
    if (!response.ok) {
      const body = await response.text();
      throw new Error(`the server answered ${response.status}: ${body.slice(0, 300)}`);
    }
    showTrace(await response.json(), `seed ${seed} from the server`);
    history.replaceState(null, '', `?${query}`);
  } catch (error) {
    setStatus(`Could not load the trace: ${error instanceof Error ? error.message : String(error)}`, true);
  } finally {
    elements.loadButton.disabled = false;
  }
}

async function loadFromFile(file) {
  setStatus(`Reading ${file.name}…`);
  try {
    showTrace(JSON.parse(await file.text()), file.name);
  } catch (error) {
    setStatus(`Could not read ${file.name}: ${error instanceof Error ? error.message : String(error)}`, true);
  }
}

function showTrace(value, source) {
  const checked = validateTrace(value);
  if (!checked.ok) {
    setStatus(`Cannot show ${source}: ${checked.error}`, true);
    return;
  }
  const index = indexTrace(checked.trace);
  replay = { index, cursor: new ReplayCursor(index), atMs: 0 };
  pause();
  elements.scrubber.max = String(index.endMs);
  elements.seed.value = String(index.params.seed);
  showVerdict(index);
  renderOverview(index);
  opsTable.load(index);
  opsTable.filter(elements.opsFilter.value);
  elements.main.hidden = false;
  const truncated = checked.trace.truncated
    ? ' Some records were left out (the trace reached its size limit).'
    : '';
  setStatus(
    `Loaded ${source}: ${checked.trace.records.length.toLocaleString('en')} records, ${index.operations.length} operations.${truncated}`,
  );
  seek(0);
}

function showVerdict(index) {
  const summary = verdictSummary(index.verdict);
  elements.verdict.dataset.tone = summary.tone;
  elements.verdict.dataset.verdict = summary.verdict;
  elements.verdictHeadline.textContent = summary.headline;
  elements.verdictDetail.textContent = summary.detail ? ` — ${summary.detail}` : '';
  const { params, summary: run } = index.trace;
  const mutant = params.mutant ? `mutant ${params.mutant}` : 'correct core';
  elements.runMeta.textContent =
    `Seed ${params.seed}, ${params.nodes.length} nodes, ${mutant}, nemesis ${Array.isArray(params.nemesis) ? params.nemesis.join(',') : params.nemesis}; ` +
    `${run.operations} operations (${run.okOperations} ok), ${run.leaderElections} elections, ` +
    `${run.messagesSent.toLocaleString('en')} messages, ended at ${formatMs(run.virtualMs)}.`;
  elements.jump.hidden = index.firstCounterexampleMs === null;
  const firstInvariant = index.verdict.violations.find(
    (violation) => violation.kind !== 'linearizability' && violation.kind !== 'liveness',
  );
  elements.jumpInvariant.hidden = firstInvariant === undefined;
  elements.jumpInvariant.dataset.atMs = String(firstInvariant?.atMs ?? 0);
  elements.counterexample.hidden = index.counterexampleIds.size === 0;
  elements.counterexampleBody.replaceChildren(...counterexampleRows(index, (op) => showOperation(op)));
  const lines = index.verdict.counterexample?.lines ?? [];
  elements.explanation.hidden = lines.length === 0;
  elements.checkerLines.textContent = lines.join('\n');
  elements.violationsDetails.hidden = index.verdict.violations.length === 0;
  elements.violationList.replaceChildren(
    ...index.verdict.violations.map((violation) => {
      const item = document.createElement('li');
      const where = violation.node ? ` on ${violation.node}` : '';
      item.textContent = `${violation.kind} at t = ${formatMs(violation.atMs)}${where}: ${violation.message.split('\n')[0]}`;
      return item;
    }),
  );
}

/** Marks partitions, node downtime, violations and the counterexample on a strip under the scrubber. */
function renderOverview(index) {
  const span = index.endMs || 1;
  const marks = [];
  const mark = (className, fromMs, toMs, title) => {
    const element = document.createElement('span');
    element.className = `mark ${className}`;
    element.style.left = `${(100 * fromMs) / span}%`;
    element.style.width = `max(2px, ${(100 * (toMs - fromMs)) / span}%)`;
    element.title = title;
    marks.push(element);
  };
  let partitionFrom = null;
  const downFrom = new Map();
  for (const record of index.stateRecords) {
    if (record.kind === 'partition' || record.kind === 'heal') {
      if (partitionFrom !== null)
        mark('mark-partition', partitionFrom.atMs, record.atMs, partitionFrom.description);
      partitionFrom = record.kind === 'partition' ? record : null;
    } else if (record.kind === 'crash') downFrom.set(record.node, record.atMs);
    else if (record.kind === 'start' && downFrom.has(record.node)) {
      mark('mark-crash', downFrom.get(record.node), record.atMs, `${record.node} down`);
      downFrom.delete(record.node);
    } else if (record.kind === 'violation')
      mark('mark-violation', record.atMs, record.atMs, record.violation);
  }
  if (partitionFrom !== null)
    mark('mark-partition', partitionFrom.atMs, index.endMs, partitionFrom.description);
  for (const [node, fromMs] of downFrom) mark('mark-crash', fromMs, index.endMs, `${node} down`);
  for (const op of index.operations) {
    if (index.counterexampleIds.has(op.op))
      mark('mark-counterexample', op.atMs, op.endMs ?? op.atMs, `op ${op.op}`);
  }
  elements.overview.replaceChildren(...marks);
}

/** Moves to `atMs` and redraws (at most once per animation frame). */
function seek(atMs) {
  if (replay === null) return;
  replay.atMs = Math.min(replay.index.endMs, Math.max(0, atMs));
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    render();
  });
}

function render() {
  const { index, cursor, atMs } = replay;
  const state = cursor.seek(atMs);
  elements.scrubber.value = String(atMs);
  const timeText = `t = ${formatMs(atMs)} of ${formatMs(index.endMs)}`;
  elements.time.textContent = timeText;
  elements.scrubber.setAttribute('aria-valuetext', timeText);
  const flight = messagesAt(index, atMs, ARROWS_DRAWN_MAX);
  renderCluster(elements.cluster, index, state, flight);
  const hidden = flight.inFlightTotal - flight.inFlight.length;
  elements.flightLine.textContent =
    `${flight.inFlightTotal} message${flight.inFlightTotal === 1 ? '' : 's'} in flight` +
    `${hidden > 0 ? ` (newest ${flight.inFlight.length} drawn)` : ''}, ${flight.dropped.length} just dropped. ` +
    'Arrows are labelled with the message type and term; ✕ marks a drop.';
  elements.networkLine.textContent = networkLine(index, state);
  renderNodeTable(elements.nodeBody, index, state);
  renderEvents(state);
  opsTable.update(atMs);
}

function renderEvents(state) {
  const items = [...state.recentEvents].reverse().map((event) => {
    const item = document.createElement('li');
    item.className = `event event-${event.kind}`;
    item.textContent = `${formatMs(event.atMs)} — ${event.text}`;
    return item;
  });
  if (items.length === 0) {
    const item = document.createElement('li');
    item.textContent = 'Nothing has happened yet.';
    items.push(item);
  }
  elements.events.replaceChildren(...items);
}

function stepBy() {
  const value = elements.stepBy.value;
  return value === 'event' || value === 'state' ? value : Number(value);
}

function step(direction, big = false) {
  if (replay === null) return;
  pause();
  seek(stepTime(replay.index, replay.atMs, direction, big ? BIG_STEP_MS : stepBy()));
}

/** Stops playing and moves to `atMs`. */
function jumpTo(atMs) {
  pause();
  seek(atMs);
}

function play() {
  if (replay === null) return;
  if (replay.atMs >= replay.index.endMs) replay.atMs = 0;
  playing = true;
  elements.play.textContent = '⏸ Pause';
  elements.play.setAttribute('aria-pressed', 'true');
  lastFrameMs = performance.now();
  requestAnimationFrame(tick);
}

function pause() {
  playing = false;
  elements.play.textContent = '▶ Play';
  elements.play.setAttribute('aria-pressed', 'false');
}

function tick(nowMs) {
  if (!playing || replay === null) return;
  const virtualPerSecond = Number(elements.speed.value);
  const next = replay.atMs + ((nowMs - lastFrameMs) / 1000) * virtualPerSecond;
  lastFrameMs = nowMs;
  seek(next);
  if (next >= replay.index.endMs) {
    pause();
    return;
  }
  requestAnimationFrame(tick);
}

function togglePlay() {
  if (playing) pause();
  else play();
}

function jumpToCounterexample() {
  const index = replay?.index;
  const first = index?.operations.find((op) => index.counterexampleIds.has(op.op));
  if (first !== undefined) showOperation(first);
}

/** Moves to an operation's invocation and focuses its row in the operations table. */
function showOperation(op) {
  jumpTo(op.atMs);
  // The row exists once the frame that moves the table's window has run.
  requestAnimationFrame(() => requestAnimationFrame(() => opsTable.focusOperation(op.op)));
}

/** Keys that would otherwise type into or operate a form control are left to it. */
function keyBelongsToControl(event) {
  const target = /** @type {HTMLElement} */ (event.target);
  if (target === elements.scrubber) return false;
  const tag = target.tagName;
  if (
    tag === 'SELECT' ||
    tag === 'TEXTAREA' ||
    (tag === 'INPUT' && target.getAttribute('type') !== 'checkbox')
  )
    return true;
  return event.key === ' ' && (tag === 'BUTTON' || tag === 'SUMMARY' || tag === 'INPUT' || tag === 'A');
}

function onKeyDown(event) {
  if (replay === null || event.altKey || event.ctrlKey || event.metaKey || keyBelongsToControl(event)) return;
  const actions = {
    ArrowLeft: () => step(-1, event.shiftKey),
    ArrowRight: () => step(1, event.shiftKey),
    Home: () => jumpTo(0),
    End: () => jumpTo(replay.index.endMs),
    ' ': togglePlay,
  };
  const action = actions[event.key];
  if (action === undefined) return;
  event.preventDefault();
  action();
}

function wireControls() {
  elements.form.addEventListener('submit', (event) => {
    event.preventDefault();
    void loadFromServer(Number(elements.seed.value), Number(elements.nodes.value), elements.mutant.value);
  });
  elements.file.addEventListener('change', () => {
    const file = elements.file.files?.[0];
    if (file) void loadFromFile(file);
  });
  elements.scrubber.addEventListener('input', () => {
    pause();
    seek(Number(elements.scrubber.value));
  });
  $('step-back').addEventListener('click', () => step(-1));
  $('step-forward').addEventListener('click', () => step(1));
  $('go-start').addEventListener('click', () => jumpTo(0));
  $('go-end').addEventListener('click', () => jumpTo(replay?.index.endMs ?? 0));
  elements.play.addEventListener('click', togglePlay);
  elements.jump.addEventListener('click', jumpToCounterexample);
  elements.jumpInvariant.addEventListener('click', () => jumpTo(Number(elements.jumpInvariant.dataset.atMs)));
  elements.opsFilter.addEventListener('change', () => opsTable.filter(elements.opsFilter.value));
  document.addEventListener('keydown', onKeyDown);
  wireDrop();
}

function wireDrop() {
  let depth = 0;
  document.addEventListener('dragenter', (event) => {
    if (!event.dataTransfer?.types.includes('Files')) return;
    depth++;
    elements.dropOverlay.hidden = false;
  });
  document.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) elements.dropOverlay.hidden = true;
  });
  document.addEventListener('dragover', (event) => event.preventDefault());
  document.addEventListener('drop', (event) => {
    event.preventDefault();
    depth = 0;
    elements.dropOverlay.hidden = true;
    const file = event.dataTransfer?.files?.[0];
    if (file) void loadFromFile(file);
  });
}

/** `?seed=9&nodes=3&mutant=…` in the page's address loads that run at once (links share runs). */
function loadFromAddress() {
  const query = new URLSearchParams(location.search);
  const seed = query.get('seed');
  if (seed === null) return;
  elements.seed.value = seed;
  const nodes = query.get('nodes');
  if (nodes !== null) elements.nodes.value = nodes;
  elements.mutant.value = query.get('mutant') ?? '';
  void loadFromServer(Number(seed), Number(elements.nodes.value), elements.mutant.value);
}

wireControls();
loadFromAddress();
