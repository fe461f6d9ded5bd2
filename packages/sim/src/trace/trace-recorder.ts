// Turns a run's probe calls into SimTrace records: keeps only changes of node state, pairs each
// message's send with its fate by id, and bounds the whole (see TRACE_RECORDS_MAX).
import type { Entry, Message, RawNode, SnapshotMetadata } from '@synod/raft';
import type { Violation } from '../cluster/invariants.js';
import { decodeCommand } from '../cluster/kv-service.js';
import type { SimulationOptions, SimulationResult } from '../cluster/run.js';
import type { NemesisAction } from '../engine/nemesis.js';
import type { NetworkTraceEvent } from '../engine/network.js';
import type { DirectedLink } from '../engine/partition.js';
import type { Counterexample } from '../history/counterexample.js';
import type { KvCall, KvOperation, KvResult } from '../history/history.js';
import type { NodeCrash, NodeStart, SimProbe } from './probe.js';
import type {
  NodeStateRecord,
  OperationRecord,
  SendRecord,
  SimTrace,
  TraceCounterexample,
  TraceEntry,
  TraceParams,
  TraceRecord,
  TraceVerdict,
} from './sim-trace.js';
import {
  ENTRY_SUMMARY_CHARS_MAX,
  SIM_TRACE_FORMAT,
  SIM_TRACE_VERSION,
  START_LOG_TAIL_ENTRIES,
  TRACE_DETAIL_RECORDS_MAX,
  TRACE_RECORDS_MAX,
  traceOutcome,
  VIOLATION_MESSAGE_CHARS_MAX,
} from './sim-trace.js';

/** Detail records are the chatty ones: dropped first when a trace fills up. */
type Tier = 'detail' | 'essential';

/** Virtual times carry float noise from drifting clocks; microseconds are all a viewer needs. */
function roundMs(atMs: number): number {
  return Math.round(atMs * 1000) / 1000;
}

function clip(text: string, charsMax: number): string {
  return text.length <= charsMax ? text : `${text.slice(0, charsMax - 1)}…`;
}

/**
 * Collects one run's records as a {@link SimProbe}; `finish` adds the client operations and the
 * verdict. One recorder serves one run.
 */
export class TraceRecorder implements SimProbe {
  private readonly records: TraceRecord[] = [];
  private readonly lastState = new Map<string, NodeStateRecord>();
  private detailRecordsDropped = 0;
  private recordsDropped = 0;
  private firstDroppedAtMs: number | undefined;
  private readonly nodes: readonly string[];

  /** `nodes`: the run's node ids, in order. */
  constructor(nodes: readonly string[]) {
    this.nodes = nodes;
  }

  nodeStepped(atMs: number, node: string, raftNode: RawNode): void {
    const { role, term, lead, log } = raftNode.raft;
    const previous = this.lastState.get(node);
    if (
      previous?.role === role &&
      previous.term === term &&
      previous.leader === lead &&
      previous.commit === log.committed &&
      previous.applied === log.applied
    ) {
      return;
    }
    const record: NodeStateRecord = {
      atMs: roundMs(atMs),
      kind: 'node',
      node,
      role,
      term,
      leader: lead,
      commit: log.committed,
      applied: log.applied,
    };
    this.lastState.set(node, record);
    // Commit progress alone is detail; a new role, term or leader explains the run.
    const essential = previous?.role !== role || previous.term !== term || previous.leader !== lead;
    this.push(record, essential ? 'essential' : 'detail');
  }

  nodeStarted(atMs: number, node: string, start: NodeStart): void {
    const { raft } = start.raft;
    const logTail = start.entries.slice(-START_LOG_TAIL_ENTRIES).map(traceEntry);
    this.lastState.delete(node);
    this.push(
      {
        atMs: roundMs(atMs),
        kind: 'start',
        node,
        incarnation: start.incarnation,
        term: raft.term,
        commit: raft.log.committed,
        applied: raft.log.applied,
        lastIndex: raft.log.lastIndex(),
        logTail,
      },
      'essential',
    );
  }

  nodeCrashed(atMs: number, node: string, crash: NodeCrash): void {
    this.lastState.delete(node);
    this.push({ atMs: roundMs(atMs), kind: 'crash', node, ...crash }, 'essential');
  }

  entriesAppended(atMs: number, node: string, entries: readonly Entry[]): void {
    for (const entry of entries) {
      this.push({ atMs: roundMs(atMs), kind: 'append', node, ...traceEntry(entry) }, 'detail');
    }
  }

  snapshotInstalled(atMs: number, node: string, metadata: SnapshotMetadata): void {
    const { index, term } = metadata;
    this.push({ atMs: roundMs(atMs), kind: 'snapshot', node, index, term }, 'essential');
  }

  message(event: NetworkTraceEvent<Message>): void {
    const atMs = roundMs(event.atMs);
    const id = event.messageId;
    switch (event.kind) {
      case 'send':
        this.push(sendRecord(atMs, id, event.message), 'detail');
        return;
      case 'deliver':
        this.push({ atMs, kind: 'deliver', id }, 'detail');
        return;
      case 'drop':
        this.push({ atMs, kind: 'drop', id, reason: event.reason }, 'detail');
        return;
      case 'duplicate':
        this.push({ atMs, kind: 'duplicate', id, of: event.originalMessageId }, 'detail');
        return;
    }
  }

  nemesisApplied(atMs: number, action: NemesisAction): void {
    const at = roundMs(atMs);
    switch (action.kind) {
      case 'partition':
        this.push(
          {
            atMs: at,
            kind: 'partition',
            shape: action.shape,
            description: action.description,
            groups: partitionGroups(this.nodes, action.blockedLinks),
            blocked: action.blockedLinks.map(({ from, to }) => ({ from, to })),
          },
          'essential',
        );
        return;
      case 'heal':
        this.push({ atMs: at, kind: 'heal' }, 'essential');
        return;
      case 'clock':
        this.push(
          {
            atMs: at,
            kind: 'clock',
            node: action.node,
            offsetMs: action.offsetMs,
            driftPpm: action.driftPpm,
          },
          'essential',
        );
        return;
      case 'network':
        this.push(
          {
            atMs: at,
            kind: 'network',
            loss: action.loss,
            duplication: action.duplication,
            reorder: action.reorder.probability,
            latencyMeanMs: action.latency.meanMs,
          },
          'essential',
        );
        return;
      case 'crash':
      case 'restart':
        return; // the node itself reports these, with what its disk lost or kept
    }
  }

  violation(violation: Violation): void {
    this.push(
      {
        atMs: roundMs(violation.atMs),
        kind: 'violation',
        violation: violation.kind,
        ...(violation.node === undefined ? {} : { node: violation.node }),
        message: clip(violation.message, VIOLATION_MESSAGE_CHARS_MAX),
      },
      'essential',
    );
  }

  /** The finished trace: records with the client operations merged in, and the verdict. */
  finish(options: SimulationOptions, quiesceAtMs: number, result: SimulationResult): SimTrace {
    const records = this.withOperations(result.history);
    const truncated =
      this.firstDroppedAtMs === undefined
        ? null
        : {
            atMs: this.firstDroppedAtMs,
            detailRecordsDropped: this.detailRecordsDropped,
            recordsDropped: this.recordsDropped,
          };
    return {
      format: SIM_TRACE_FORMAT,
      version: SIM_TRACE_VERSION,
      params: traceParams(options, this.nodes, quiesceAtMs),
      limits: { recordsMax: TRACE_RECORDS_MAX, detailRecordsMax: TRACE_DETAIL_RECORDS_MAX },
      records,
      truncated,
      verdict: traceVerdict(result),
      summary: {
        operations: result.operations,
        okOperations: result.okOperations,
        failedOperations: result.failedOperations,
        indeterminateOperations: result.indeterminateOperations,
        leaderElections: result.leaderElections,
        committedEntries: result.committedEntries,
        messagesSent: result.messagesSent,
        eventsExecuted: result.eventsExecuted,
        virtualMs: roundMs(result.virtualMs),
      },
    };
  }

  private push(record: TraceRecord, tier: Tier): void {
    const limit = tier === 'detail' ? TRACE_DETAIL_RECORDS_MAX : TRACE_RECORDS_MAX;
    if (this.records.length < limit) {
      this.records.push(record);
      return;
    }
    this.firstDroppedAtMs ??= record.atMs;
    if (tier === 'detail') this.detailRecordsDropped++;
    else this.recordsDropped++;
  }

  /** Merges one record per operation, at its invocation, into the time-ordered records. */
  private withOperations(history: readonly KvOperation[]): TraceRecord[] {
    const operations = history
      .map(operationRecord)
      .sort((left, right) => left.atMs - right.atMs || left.op - right.op);
    const room = Math.max(0, TRACE_RECORDS_MAX - this.records.length);
    const kept = operations.slice(0, room);
    const firstLeftOut = operations[kept.length];
    if (firstLeftOut !== undefined) {
      this.recordsDropped += operations.length - kept.length;
      this.firstDroppedAtMs = Math.min(this.firstDroppedAtMs ?? firstLeftOut.atMs, firstLeftOut.atMs);
    }
    const merged: TraceRecord[] = [];
    let next = 0;
    for (const record of this.records) {
      // An operation goes after the records of its own instant: they happened first.
      while (next < kept.length && kept[next]!.atMs < record.atMs) merged.push(kept[next++]!);
      merged.push(record);
    }
    while (next < kept.length) merged.push(kept[next++]!);
    return merged;
  }
}

function traceEntry(entry: Entry): TraceEntry {
  return { index: entry.index, term: entry.term, command: describeEntry(entry) };
}

/** A short readable form of what an entry carries. */
export function describeEntry(entry: Entry): string {
  if (entry.kind === 'config') return '(config)';
  if (entry.data.byteLength === 0) return '(empty)';
  let call: KvCall;
  try {
    call = decodeCommand(entry.data).call;
  } catch {
    return '(unreadable)';
  }
  switch (call.kind) {
    case 'put':
      return clip(`put ${call.key}=${call.value}`, ENTRY_SUMMARY_CHARS_MAX);
    case 'get':
      return clip(`get ${call.key}`, ENTRY_SUMMARY_CHARS_MAX);
    case 'cas':
      return clip(`cas ${call.key} ${call.expected ?? '∅'}→${call.value}`, ENTRY_SUMMARY_CHARS_MAX);
  }
}

/** `reject` is written only when true: most responses accept, and traces are large. */
function rejected(reject: boolean): { reject?: true } {
  return reject ? { reject } : {};
}

function sendRecord(atMs: number, id: number, message: Message): SendRecord {
  const base = { atMs, kind: 'send', id, from: message.from, to: message.to, type: message.type } as const;
  const term = message.term;
  switch (message.type) {
    case 'append':
      return {
        ...base,
        term,
        index: message.prevLogIndex,
        logTerm: message.prevLogTerm,
        entries: message.entries.length,
        commit: message.commit,
      };
    case 'appendResponse':
      return { ...base, term, index: message.index, ...rejected(message.reject) };
    case 'vote':
    case 'preVote':
      return { ...base, term, index: message.lastLogIndex, logTerm: message.lastLogTerm };
    case 'voteResponse':
    case 'preVoteResponse':
      return { ...base, term, ...rejected(message.reject) };
    case 'heartbeat':
      return { ...base, term, commit: message.commit };
    case 'snapshot':
      return { ...base, term, index: message.metadata.index, logTerm: message.metadata.term };
    case 'snapshotResponse':
      return { ...base, term, index: message.snapshotIndex, ...rejected(message.receivedBytes < 0) };
    case 'readIndexResponse':
      return { ...base, term, index: message.index };
    case 'propose':
      return { ...base, term, entries: message.entries.length };
    case 'heartbeatResponse':
    case 'timeoutNow':
    case 'readIndex':
      return { ...base, term };
  }
}

function operationRecord(operation: KvOperation): OperationRecord {
  const { call, result } = operation;
  const record: OperationRecord = {
    atMs: roundMs(operation.invokedAt),
    kind: 'op',
    op: operation.id,
    process: operation.process,
    call: call.kind,
    key: call.key,
    ...(call.kind === 'get' ? {} : { value: call.value }),
    ...(call.kind === 'cas' ? { expected: call.expected } : {}),
    outcome: traceOutcome(operation.outcome),
    endMs: operation.completedAt === null ? null : roundMs(operation.completedAt),
  };
  if (result === undefined) return record;
  if ('value' in result && result.value !== undefined) return { ...record, read: result.value };
  if ('succeeded' in result && result.succeeded !== undefined)
    return { ...record, succeeded: result.succeeded };
  return record;
}

/** Nodes with the same blocked links out and in see the same network: one shaded group each. */
export function partitionGroups(nodes: readonly string[], blocked: readonly DirectedLink[]): string[][] {
  const groups = new Map<string, string[]>();
  for (const node of nodes) {
    const out = blocked.filter((link) => link.from === node).map((link) => link.to);
    const into = blocked.filter((link) => link.to === node).map((link) => link.from);
    const view = `${out.sort().join(',')}|${into.sort().join(',')}`;
    const group = groups.get(view);
    if (group) group.push(node);
    else groups.set(view, [node]);
  }
  return [...groups.values()];
}

function traceParams(options: SimulationOptions, nodes: readonly string[], quiesceAtMs: number): TraceParams {
  return {
    seed: options.seed,
    nodes,
    nemesis: options.nemesis === 'all' || options.nemesis === 'none' ? options.nemesis : [...options.nemesis],
    mutant: options.mutations.length === 0 ? null : options.mutations.join(','),
    durationMs: options.durationMs,
    quiesceAtMs,
    intensity: options.intensity,
    readMode: options.readMode,
    clients: options.clients,
    keys: options.keys,
  };
}

function traceVerdict(result: SimulationResult): TraceVerdict {
  const linearizability =
    result.linearizability === 'violation'
      ? 'not-linearizable'
      : result.linearizability === 'linearizable'
        ? 'linearizable'
        : 'unknown';
  const violations = result.violations.map((violation) => ({
    kind: violation.kind,
    atMs: roundMs(violation.atMs),
    ...(violation.node === undefined ? {} : { node: violation.node }),
    message: clip(violation.message, VIOLATION_MESSAGE_CHARS_MAX),
  }));
  const detail = result.counterexampleDetail;
  const verdict = { linearizability, passed: result.violations.length === 0, violations } as const;
  return detail === undefined ? verdict : { ...verdict, counterexample: traceCounterexample(detail) };
}

function traceCounterexample(detail: Counterexample<KvCall, KvResult>): TraceCounterexample {
  const involved = new Map<number, KvOperation>();
  for (const operation of [detail.blocked, ...detail.alsoUnplaceable, ...detail.concurrent])
    involved.set(operation.id, operation);
  if (detail.lastWrite) involved.set(detail.lastWrite.id, detail.lastWrite);
  const opIds = [...involved.values()]
    .sort((left, right) => left.invokedAt - right.invokedAt || left.id - right.id)
    .map((operation) => operation.id);
  return {
    key: detail.key,
    blockedOp: detail.blocked.id,
    ...(detail.lastWrite ? { lastWriteOp: detail.lastWrite.id } : {}),
    alsoUnplaceableOps: detail.alsoUnplaceable.map((operation) => operation.id),
    concurrentOps: detail.concurrent.map((operation) => operation.id),
    opIds,
    reason: detail.reason,
    stateAfterPrefix: detail.stateAfterPrefix,
    lines: [...detail.lines],
  };
}
