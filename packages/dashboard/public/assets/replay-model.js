// The replay view's model of a simulator trace (SimTrace, see packages/sim/src/trace/README.md):
// indexes built once per trace, and the cluster's state at any virtual time. Pure functions and
// plain data, no DOM, so node:test checks them directly (src/replay.test.ts).

export const TRACE_FORMAT = 'synod.sim-trace';
export const TRACE_VERSION = 1;
/** Log entries kept per node while replaying; the view shows the newest few. */
export const LOG_ENTRIES_KEPT = 8;
/** Recent events (faults, role changes, violations) kept for the events list. */
export const RECENT_EVENTS_MAX = 12;
/** A dropped message stays drawn (crossed out) this long after its drop, in virtual ms. */
export const DROP_SHOWN_MS = 3;
/** Messages whose fate the trace lost (a truncated trace) are drawn for at most this long. */
const UNRESOLVED_FLIGHT_MS = 50;

/** Kinds of records that describe messages; every other kind changes the cluster's state. */
const MESSAGE_KINDS = new Set(['send', 'deliver', 'drop', 'duplicate']);

/**
 * Checks that `value` is a trace this view can read.
 * @param {unknown} value
 * @returns {{ ok: true, trace: any } | { ok: false, error: string }}
 */
export function validateTrace(value) {
  if (typeof value !== 'object' || value === null) return { ok: false, error: 'not a JSON object' };
  const trace = /** @type {Record<string, unknown>} */ (value);
  if (trace.format !== TRACE_FORMAT)
    return { ok: false, error: `not a Synod simulator trace (format "${String(trace.format)}")` };
  if (trace.version !== TRACE_VERSION) {
    return {
      ok: false,
      error: `trace version ${String(trace.version)} is not supported (this page reads version ${TRACE_VERSION})`,
    };
  }
  if (!Array.isArray(trace.records) || typeof trace.params !== 'object' || typeof trace.verdict !== 'object')
    return { ok: false, error: 'the trace lacks params, records or verdict' };
  return { ok: true, trace };
}

/**
 * Splits a trace into what the view needs: state-changing records, messages with their whole
 * flight, client operations, and the times a step can land on.
 * @param {any} trace a validated SimTrace
 */
export function indexTrace(trace) {
  const endMs = Math.max(trace.summary?.virtualMs ?? 0, trace.records.at(-1)?.atMs ?? 0);
  const stateRecords = [];
  const operations = [];
  for (const record of trace.records) {
    if (record.kind === 'op') operations.push(record);
    else if (!MESSAGE_KINDS.has(record.kind)) stateRecords.push(record);
  }
  const { messages, maxFlightMs } = buildMessages(trace.records, endMs);
  const counterexample = trace.verdict.counterexample;
  const counterexampleIds = new Set(counterexample?.opIds ?? []);
  const firstCounterexampleOp = operations.find((op) => counterexampleIds.has(op.op));
  return {
    trace,
    params: trace.params,
    verdict: trace.verdict,
    nodes: /** @type {string[]} */ (trace.params.nodes),
    endMs,
    stateRecords,
    operations,
    messages,
    maxFlightMs,
    counterexampleIds,
    firstCounterexampleMs: firstCounterexampleOp?.atMs ?? null,
    eventTimes: distinctTimes([
      ...trace.records.map((record) => record.atMs),
      ...operations.map((op) => op.endMs).filter((ms) => ms !== null),
    ]),
    stateTimes: distinctTimes([
      ...stateRecords.map((record) => record.atMs),
      ...operations.flatMap((op) => (op.endMs === null ? [op.atMs] : [op.atMs, op.endMs])),
    ]),
  };
}

/** @param {number[]} times */
function distinctTimes(times) {
  const sorted = Float64Array.from(times).sort();
  const distinct = [];
  for (const time of sorted) if (distinct.at(-1) !== time) distinct.push(time);
  return Float64Array.from(distinct);
}

/**
 * Every message from its send to its delivery or drop (a duplicate copy is a message of its own).
 * @param {any[]} records
 * @param {number} endMs
 */
function buildMessages(records, endMs) {
  /** @type {Map<number, any>} */
  const byId = new Map();
  const messages = [];
  for (const record of records) {
    if (record.kind === 'send' || record.kind === 'duplicate') {
      const original = record.kind === 'duplicate' ? byId.get(record.of) : record;
      if (original === undefined) continue;
      const message = {
        id: record.id,
        copyOf: record.kind === 'duplicate' ? record.of : null,
        from: original.from,
        to: original.to,
        type: original.type,
        term: original.term,
        index: original.index ?? null,
        entries: original.entries ?? null,
        reject: original.reject === true,
        sentAtMs: record.atMs,
        endAtMs: Number.POSITIVE_INFINITY,
        fate: 'unknown',
        reason: '',
      };
      byId.set(record.id, message);
      messages.push(message);
    } else if (record.kind === 'deliver' || record.kind === 'drop') {
      const message = byId.get(record.id);
      if (message === undefined) continue;
      message.endAtMs = record.atMs;
      message.fate = record.kind === 'deliver' ? 'delivered' : 'dropped';
      message.reason = record.reason ?? '';
    }
  }
  let maxFlightMs = 0;
  for (const message of messages) {
    if (message.fate === 'unknown')
      message.endAtMs = Math.min(endMs, message.sentAtMs + UNRESOLVED_FLIGHT_MS);
    maxFlightMs = Math.max(maxFlightMs, message.endAtMs - message.sentAtMs);
  }
  return { messages, maxFlightMs };
}

/** Index of the first element of the sorted `values` greater than `time` (by `key`). */
function upperBound(values, time, key = (value) => value) {
  let low = 0;
  let high = values.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (key(values[middle]) <= time) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * Messages in the air at `atMs` (sent, not yet delivered or dropped) with how far along they are,
 * and messages dropped in the last DROP_SHOWN_MS. At most `limit` of each, newest first.
 * @param {ReturnType<typeof indexTrace>} index
 * @param {number} atMs
 * @param {number} limit
 */
export function messagesAt(index, atMs, limit) {
  const { messages, maxFlightMs } = index;
  const inFlight = [];
  const dropped = [];
  let inFlightTotal = 0;
  const last = upperBound(messages, atMs, (message) => message.sentAtMs) - 1;
  const earliestSendMs = atMs - Math.max(maxFlightMs, DROP_SHOWN_MS);
  for (let i = last; i >= 0 && messages[i].sentAtMs >= earliestSendMs; i--) {
    const message = messages[i];
    if (message.endAtMs > atMs) {
      inFlightTotal++;
      if (inFlight.length < limit) {
        const span = message.endAtMs - message.sentAtMs;
        inFlight.push({ message, progress: span > 0 ? (atMs - message.sentAtMs) / span : 0 });
      }
    } else if (
      message.fate === 'dropped' &&
      atMs - message.endAtMs <= DROP_SHOWN_MS &&
      dropped.length < limit
    ) {
      dropped.push(message);
    }
  }
  return { inFlight, inFlightTotal, dropped };
}

/**
 * The next (direction 1) or previous (-1) time a step lands on, or `atMs` itself at either end.
 * @param {ReturnType<typeof indexTrace>} index
 * @param {number} atMs
 * @param {1 | -1} direction
 * @param {'event' | 'state' | number} by a kind of step, or a fixed step in virtual ms
 */
export function stepTime(index, atMs, direction, by) {
  if (typeof by === 'number') return clamp(roundMicros(atMs + direction * by), 0, index.endMs);
  const times = by === 'state' ? index.stateTimes : index.eventTimes;
  if (direction > 0) {
    const next = upperBound(times, atMs);
    return next < times.length ? times[next] : index.endMs;
  }
  const previous = upperBound(times, atMs - 1e-9) - 1;
  return previous >= 0 ? times[previous] : 0;
}

function clamp(value, low, high) {
  return Math.min(high, Math.max(low, value));
}

function roundMicros(ms) {
  return Math.round(ms * 1000) / 1000;
}

/** One node as the view shows it. */
function freshNode(name) {
  return {
    name,
    up: false,
    incarnation: 0,
    role: 'follower',
    term: 0,
    leader: '',
    commit: 0,
    applied: 0,
    lastIndex: 0,
    /** @type {{ index: number, term: number, command: string }[]} */
    log: [],
    clock: { offsetMs: 0, driftPpm: 0 },
  };
}

function freshState(nodes) {
  return {
    atMs: Number.NEGATIVE_INFINITY,
    nodes: new Map(nodes.map((name) => [name, freshNode(name)])),
    /** @type {{ shape: string, description: string, groups: string[][] } | null} */
    partition: null,
    /** @type {{ loss: number, duplication: number, reorder: number, latencyMeanMs: number } | null} */
    network: null,
    /** @type {any[]} */
    violations: [],
    /** @type {{ atMs: number, text: string, kind: string }[]} */
    recentEvents: [],
  };
}

/**
 * Replays state records up to a time: forward incrementally, backward from the start (a few
 * thousand records per node take well under a millisecond).
 */
export class ReplayCursor {
  /** @param {ReturnType<typeof indexTrace>} index */
  constructor(index) {
    this.index = index;
    this.next = 0;
    this.state = freshState(index.nodes);
  }

  /** The cluster's state once every record at or before `atMs` happened. */
  seek(atMs) {
    if (atMs < this.state.atMs) {
      this.next = 0;
      this.state = freshState(this.index.nodes);
    }
    const records = this.index.stateRecords;
    while (this.next < records.length && records[this.next].atMs <= atMs) {
      applyRecord(this.state, records[this.next]);
      this.next++;
    }
    this.state.atMs = atMs;
    return this.state;
  }
}

function applyRecord(state, record) {
  const node = record.node === undefined ? undefined : state.nodes.get(record.node);
  const text = applyToNode(node, record) ?? applyToCluster(state, record);
  if (text === undefined) return;
  state.recentEvents.push({ atMs: record.atMs, text, kind: record.kind });
  if (state.recentEvents.length > RECENT_EVENTS_MAX) state.recentEvents.shift();
}

/** Applies a node's own record; returns the event text if it is worth listing. */
function applyToNode(node, record) {
  if (node === undefined) return undefined;
  switch (record.kind) {
    case 'start':
      Object.assign(node, {
        up: true,
        incarnation: record.incarnation,
        role: 'follower',
        term: record.term,
        leader: '',
        commit: record.commit,
        applied: record.applied ?? record.commit,
        lastIndex: record.lastIndex,
        log: record.logTail.map((entry) => ({ ...entry })),
      });
      return record.incarnation === 1
        ? undefined
        : `${node.name} restarted (term ${record.term}, log up to ${record.lastIndex})`;
    case 'crash':
      node.up = false;
      return `${node.name} crashed${record.lostRecords > 0 ? ` (lost ${record.lostRecords} unsynced disk records)` : ''}`;
    case 'node':
      return applyNodeState(node, record);
    case 'append':
      appendEntry(node, record);
      return undefined;
    case 'snapshot':
      node.log = [];
      node.lastIndex = Math.max(node.lastIndex, record.index);
      return `${node.name} installed a snapshot up to ${record.index}`;
    case 'clock':
      node.clock = { offsetMs: record.offsetMs, driftPpm: record.driftPpm };
      return `${node.name} clock: offset ${signed(record.offsetMs)} ms, drift ${signed(record.driftPpm)} ppm`;
    case 'violation':
      return undefined; // listed by applyToCluster with the cluster's violations
    default:
      return undefined;
  }
}

function applyNodeState(node, record) {
  const changed = node.role !== record.role || node.term !== record.term || node.leader !== record.leader;
  Object.assign(node, {
    role: record.role,
    term: record.term,
    leader: record.leader,
    commit: record.commit,
    applied: record.applied,
  });
  if (!changed) return undefined;
  if (record.role === 'leader') return `${node.name} became leader in term ${record.term}`;
  const following = record.leader ? `, following ${record.leader}` : '';
  return `${node.name} is ${roleLabel(record.role)} in term ${record.term}${following}`;
}

function appendEntry(node, record) {
  // An entry at an existing index replaces it and everything after it (Raft's log matching).
  while (node.log.length > 0 && node.log[node.log.length - 1].index >= record.index) node.log.pop();
  node.log.push({ index: record.index, term: record.term, command: record.command });
  if (node.log.length > LOG_ENTRIES_KEPT) node.log.shift();
  node.lastIndex = record.index;
}

function applyToCluster(state, record) {
  switch (record.kind) {
    case 'partition':
      state.partition = { shape: record.shape, description: record.description, groups: record.groups };
      return `partition (${record.shape}): ${record.description}`;
    case 'heal':
      state.partition = null;
      return 'all partitions healed';
    case 'network':
      state.network = record;
      return `network: ${describeNetwork(record)}`;
    case 'violation':
      state.violations.push(record);
      return `VIOLATION ${record.violation}${record.node ? ` on ${record.node}` : ''}: ${firstLine(record.message)}`;
    default:
      return undefined;
  }
}

/** @param {{ loss: number, duplication: number, reorder: number, latencyMeanMs: number }} network */
export function describeNetwork(network) {
  const percent = (probability) => `${(probability * 100).toFixed(1)}%`;
  return `loss ${percent(network.loss)}, duplication ${percent(network.duplication)}, reorder ${percent(network.reorder)}, mean latency ${network.latencyMeanMs} ms`;
}

function signed(value) {
  return value >= 0 ? `+${value}` : `${value}`;
}

function firstLine(text) {
  return String(text).split('\n')[0];
}

/** Raft's role names as words. */
export function roleLabel(role) {
  switch (role) {
    case 'leader':
      return 'leader';
    case 'candidate':
      return 'candidate';
    case 'preCandidate':
      return 'pre-candidate';
    default:
      return 'follower';
  }
}

/** `put k1=p3-7`, `get k2`, `cas k0 ∅→p1-0` */
export function describeCall(op) {
  switch (op.call) {
    case 'put':
      return `put ${op.key}=${op.value}`;
    case 'get':
      return `get ${op.key}`;
    default:
      return `cas ${op.key} ${op.expected ?? '∅'}→${op.value}`;
  }
}

/** What the client learnt: `ok`, `ok → "p2-4"`, `ok → absent`, `ok → false`, `fail`, `info (unknown)`. */
export function describeOutcome(op) {
  if (op.outcome === 'info') return 'info (unknown)';
  if (op.outcome !== 'ok') return op.outcome;
  if (op.call === 'get') return op.read === null ? 'ok → absent' : `ok → "${op.read}"`;
  if (op.call === 'cas') return `ok → ${op.succeeded ? 'swapped' : 'not swapped'}`;
  return 'ok';
}

/**
 * Where an operation stands at `atMs`.
 * @returns {'future' | 'running' | 'ok' | 'fail' | 'info'}
 */
export function operationStatus(op, atMs) {
  if (atMs < op.atMs) return 'future';
  if (op.endMs === null || atMs < op.endMs) return 'running';
  return op.outcome;
}

/** The verdict as the banner says it: a tone and words (never colour alone). */
export function verdictSummary(verdict) {
  const violationKinds = [...new Set(verdict.violations.map((violation) => violation.kind))];
  if (verdict.linearizability === 'not-linearizable') {
    const cx = verdict.counterexample;
    // The checker prints full-precision times; microseconds are plenty on a banner.
    const reason = cx?.reason.replace(/(\d+\.\d{3})\d+/g, '$1');
    const detail = cx ? `key ${cx.key}: operation ${cx.blockedOp} could not be placed, it ${reason}` : '';
    return { tone: 'bad', verdict: 'not-linearizable', headline: 'NOT linearizable', detail };
  }
  if (verdict.linearizability === 'unknown')
    return {
      tone: 'warn',
      verdict: 'unknown',
      headline: 'Linearizability unknown',
      detail: 'the checker ran out of budget on this history',
    };
  if (!verdict.passed)
    return {
      tone: 'bad',
      verdict: 'violations',
      headline: 'linearizable, but invariants broke',
      detail: violationKinds.join(', '),
    };
  return { tone: 'good', verdict: 'linearizable', headline: 'linearizable', detail: 'no invariant violated' };
}

/**
 * Node positions in a `width`×`height` drawing: a circle without a partition; with one, one
 * column per group (a shaded region each, labelled), so who can talk to whom reads at a glance.
 * @param {string[]} nodes
 * @param {string[][] | null} groups
 */
export function layoutNodes(nodes, groups, width, height) {
  /** @type {Map<string, { x: number, y: number }>} */
  const positions = new Map();
  const regions = [];
  if (groups === null || groups.length <= 1) {
    const radius = Math.min(width, height) / 2 - 60;
    nodes.forEach((name, i) => {
      const angle = -Math.PI / 2 + (2 * Math.PI * i) / nodes.length;
      positions.set(name, {
        x: width / 2 + radius * Math.cos(angle),
        y: height / 2 + radius * Math.sin(angle),
      });
    });
    return { positions, regions };
  }
  const columnWidth = width / groups.length;
  groups.forEach((group, column) => {
    const x0 = column * columnWidth;
    regions.push({
      x: x0 + 8,
      y: 8,
      width: columnWidth - 16,
      height: height - 16,
      label: `side ${column + 1}`,
      group,
    });
    const perColumn = Math.ceil(group.length / Math.ceil(group.length / 3));
    group.forEach((name, i) => {
      const subColumns = Math.ceil(group.length / perColumn);
      const sub = Math.floor(i / perColumn);
      const row = i % perColumn;
      const rows = Math.min(perColumn, group.length - sub * perColumn);
      positions.set(name, {
        x: x0 + (columnWidth * (sub + 1)) / (subColumns + 1),
        y: 40 + ((height - 40) * (row + 1)) / (rows + 1),
      });
    });
  });
  return { positions, regions };
}

/** `1 234.567 ms` */
export function formatMs(ms) {
  const [whole, fraction] = ms.toFixed(3).split('.');
  return `${whole.replace(/\B(?=(\d{3})+(?!\d))/g, '\u2009')}.${fraction} ms`;
}
