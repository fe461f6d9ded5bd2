// Structured traces: deterministic per seed, faithful to the run they record, bounded, and
// carrying the checker's counterexample by operation ids that exist in the trace.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Message } from '@synod/raft';
import { DEFAULT_SIMULATION, runSimulation } from '../cluster/run.js';
import { partitionBridge, partitionHalves, partitionIsolate, partitionOneWay } from '../engine/partition.js';
import { Prng } from '../engine/prng.js';
import type { OperationRecord, SimTrace } from './sim-trace.js';
import { SIM_TRACE_FORMAT, TRACE_DETAIL_RECORDS_MAX, traceOutcome } from './sim-trace.js';
import { partitionGroups, TraceRecorder } from './trace-recorder.js';
import { runTracedSimulation, traceRequestFromQuery, traceSimulation } from './traced-run.js';

/** A mutant seed whose history the checker rejects (simulation.test.ts catches this mutant). */
const FAILING_MUTANT = { seed: 9, nodes: 3, mutant: 'vote-without-log-check' } as const;
/** Short runs keep the file fast; determinism does not depend on length. */
const SHORT_RUN_MS = 4_000;

function operations(trace: SimTrace): OperationRecord[] {
  return trace.records.filter((record): record is OperationRecord => record.kind === 'op');
}

describe('traceSimulation', () => {
  test('the same seed gives the same trace, byte for byte; another seed a different one', () => {
    const first = JSON.stringify(traceSimulation({ seed: 42, nodes: 3, durationMs: SHORT_RUN_MS }));
    const second = JSON.stringify(traceSimulation({ seed: 42, nodes: 3, durationMs: SHORT_RUN_MS }));
    const other = JSON.stringify(traceSimulation({ seed: 43, nodes: 3, durationMs: SHORT_RUN_MS }));
    assert.equal(second, first);
    assert.notEqual(other, first);
  });

  test('tracing does not change the run: same events and history as an untraced run', () => {
    const options = { seed: 5, nodes: 5, durationMs: SHORT_RUN_MS };
    const trace = traceSimulation(options);
    const plain = runSimulation(options);
    assert.equal(trace.summary.eventsExecuted, plain.eventsExecuted);
    assert.equal(trace.summary.messagesSent, plain.messagesSent);
    const recorded = operations(trace);
    assert.equal(recorded.length, plain.history.length);
    for (const [index, operation] of plain.history.entries()) {
      const record = recorded[index]!;
      assert.equal(record.op, operation.id);
      assert.equal(record.key, operation.call.key);
      assert.equal(record.outcome, traceOutcome(operation.outcome));
    }
  });

  test('records are in time order and every delivery, drop or copy names an earlier send', () => {
    const trace = traceSimulation({ seed: 7, nodes: 5, durationMs: SHORT_RUN_MS });
    assert.equal(trace.format, SIM_TRACE_FORMAT);
    assert.deepEqual(trace.params.nodes, ['n1', 'n2', 'n3', 'n4', 'n5']);
    assert.equal(trace.truncated, null);
    const sent = new Set<number>();
    let previousMs = 0;
    for (const record of trace.records) {
      assert.ok(record.atMs >= previousMs, `record at ${record.atMs} after one at ${previousMs}`);
      previousMs = record.atMs;
      if (record.kind === 'send') sent.add(record.id);
      if (record.kind === 'duplicate') {
        assert.ok(sent.has(record.of), `copy of unknown message ${record.of}`);
        sent.add(record.id);
      }
      if (record.kind === 'deliver' || record.kind === 'drop')
        assert.ok(sent.has(record.id), `${record.kind} of unknown message ${record.id}`);
    }
    assert.equal(sent.size, trace.summary.messagesSent + count(trace, 'duplicate'));
    assert.ok(count(trace, 'node') > 0 && count(trace, 'append') > 0, 'node state and log appends recorded');
  });

  test('a correct run passes: linearizable, no violations, no counterexample', () => {
    const trace = traceSimulation({ seed: 3, nodes: 3, durationMs: SHORT_RUN_MS });
    assert.equal(trace.verdict.linearizability, 'linearizable');
    assert.equal(trace.verdict.passed, true);
    assert.equal(trace.verdict.counterexample, undefined);
  });
});

function count(trace: SimTrace, kind: SimTrace['records'][number]['kind']): number {
  return trace.records.filter((record) => record.kind === kind).length;
}

describe('runTracedSimulation', () => {
  test(`a failing mutant (${FAILING_MUTANT.mutant}, seed ${FAILING_MUTANT.seed}) yields a counterexample whose operations are in the trace`, async () => {
    const trace = await runTracedSimulation(FAILING_MUTANT);
    assert.equal(trace.params.mutant, FAILING_MUTANT.mutant);
    assert.equal(trace.verdict.linearizability, 'not-linearizable');
    assert.equal(trace.verdict.passed, false);
    const counterexample = trace.verdict.counterexample;
    assert.ok(counterexample, 'a counterexample');
    assert.ok(counterexample.opIds.includes(counterexample.blockedOp));
    const recorded = new Map(operations(trace).map((record) => [record.op, record]));
    for (const id of counterexample.opIds) assert.ok(recorded.has(id), `operation ${id} is in the trace`);
    assert.equal(recorded.get(counterexample.blockedOp)?.key, counterexample.key);
    assert.ok(
      trace.records.some((record) => record.kind === 'violation' && record.violation === 'linearizability'),
      'the violation is on the timeline',
    );
    // The worker's trace is the one this thread computes.
    const local = traceSimulation({
      seed: FAILING_MUTANT.seed,
      nodes: FAILING_MUTANT.nodes,
      mutations: [FAILING_MUTANT.mutant],
    });
    assert.equal(JSON.stringify(trace), JSON.stringify(local));
  });

  test('options out of bounds are refused before any run', async () => {
    await assert.rejects(runTracedSimulation({ seed: -1, nodes: 3 }), RangeError);
    await assert.rejects(runTracedSimulation({ seed: 1, nodes: 0 }), RangeError);
    await assert.rejects(runTracedSimulation({ seed: 1, nodes: 3, durationMs: 10 ** 9 }), RangeError);
  });
});

describe('traceRequestFromQuery', () => {
  test('reads seed, nodes (default 3), mutant and durationMs', () => {
    assert.deepEqual(
      traceRequestFromQuery(new URLSearchParams('seed=9&nodes=5&mutant=vote-without-log-check')),
      {
        ok: true,
        options: { seed: 9, nodes: 5, mutant: 'vote-without-log-check' },
      },
    );
    assert.deepEqual(traceRequestFromQuery(new URLSearchParams('seed=4&durationMs=5000&mutant=')), {
      ok: true,
      options: { seed: 4, nodes: 3, durationMs: 5000 },
    });
  });

  test('refuses a missing or malformed seed, a bad node count, an unknown mutant, a long run', () => {
    for (const query of ['', 'seed=abc', 'seed=1.5', 'seed=-3', 'seed=1&nodes=99', 'seed=1&mutant=nope']) {
      const parsed = traceRequestFromQuery(new URLSearchParams(query));
      assert.equal(parsed.ok, false, query);
    }
    const long = traceRequestFromQuery(new URLSearchParams('seed=1&durationMs=3600000'));
    assert.ok(!long.ok && long.error.includes('durationMs'), 'names the field');
  });
});

describe('partitionGroups', () => {
  const nodes = ['n1', 'n2', 'n3', 'n4', 'n5'];
  const random = new Prng(1);

  test('halves and an isolated node give two groups covering every node', () => {
    for (const partition of [partitionHalves(nodes, random), partitionIsolate('n3', nodes)]) {
      const groups = partitionGroups(nodes, partition.blockedLinks);
      assert.equal(groups.length, 2, partition.description);
      assert.deepEqual(groups.flat().sort(), nodes);
    }
    assert.deepEqual(partitionGroups(nodes, partitionIsolate('n3', nodes).blockedLinks), [
      ['n1', 'n2', 'n4', 'n5'],
      ['n3'],
    ]);
  });

  test('a bridge node is a group of its own; a one-way cut separates senders from receivers', () => {
    const bridge = partitionBridge(nodes, random);
    assert.equal(partitionGroups(nodes, bridge.blockedLinks).length, 3, bridge.description);
    const oneWay = partitionOneWay(['n1', 'n2'], ['n3', 'n4', 'n5']);
    assert.deepEqual(partitionGroups(nodes, oneWay.blockedLinks), [
      ['n1', 'n2'],
      ['n3', 'n4', 'n5'],
    ]);
    assert.deepEqual(partitionGroups(nodes, []), [nodes]);
  });
});

describe('TraceRecorder bounds', () => {
  test('chatty records stop at the detail limit; faults are still recorded and the trace says so', () => {
    const recorder = new TraceRecorder(['n1', 'n2']);
    const message = { type: 'timeoutNow', group: 'g', from: 'n1', to: 'n2', term: 1 } as Message;
    const extra = 1_000;
    for (let id = 1; id <= TRACE_DETAIL_RECORDS_MAX + extra; id++) {
      recorder.message({ kind: 'send', atMs: id, from: 'n1', to: 'n2', message, messageId: id });
    }
    recorder.nemesisApplied(TRACE_DETAIL_RECORDS_MAX + extra + 1, { atMs: 0, kind: 'heal' });
    const options = { ...DEFAULT_SIMULATION, seed: 1, nodes: 2, durationMs: 2_000, nemesis: 'none' as const };
    const plain = runSimulation(options);
    const trace = recorder.finish(options, 0, plain);
    assert.equal(trace.truncated?.detailRecordsDropped, extra);
    assert.equal(trace.truncated?.recordsDropped, 0);
    assert.equal(trace.truncated?.atMs, TRACE_DETAIL_RECORDS_MAX + 1);
    assert.equal(count(trace, 'send'), TRACE_DETAIL_RECORDS_MAX);
    assert.equal(count(trace, 'heal'), 1);
    assert.equal(count(trace, 'op'), plain.history.length);
  });
});
