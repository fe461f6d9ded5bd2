/**
 * Linearizability checking: is there a total order of the operations that respects real time
 * (an operation that completed before another began comes first) and that the sequential model
 * accepts, result by result? The history is split per key (P-compositionality) and each part is
 * searched on its own (see `linearization-search.ts` for the search and its rules).
 *
 * Tie rule: at equal times, invocations sort before completions, so operations that touch at one
 * instant count as concurrent. With coarse clocks equal stamps prove no order; this choice can only
 * make more histories linearizable, never report a violation that is not there.
 *
 * Failed operations are removed before the search (they never took effect); indeterminate ones may
 * take effect at any time after their invocation, or never; indeterminate reads say nothing and are
 * removed too.
 */
import type { Counterexample } from './counterexample.js';
import { buildCounterexample } from './counterexample.js';
import type { KvCall, KvOperation, KvResult, RecordedOperation } from './history.js';
import { invariant } from './history.js';
import type { Model } from './kv-model.js';
import { kvRegisterModel } from './kv-model.js';
import type { SearchDeadline, SearchOutcome, StopReason } from './linearization-search.js';
import { PartitionSearch } from './linearization-search.js';

export type { SearchDeadline, StopReason } from './linearization-search.js';
export { deadlineCheckIntervalSteps } from './linearization-search.js';

export type Verdict = 'linearizable' | 'violation' | 'unknown';

export interface CheckOptions {
  /** Search steps (candidate tries plus backtracks) allowed for each key before it reports `unknown`. */
  readonly maxSearchStepsPerKey?: number;
  /** Consulted every `deadlineCheckIntervalSteps` steps; once expired, unfinished keys are `unknown`. */
  readonly deadline?: SearchDeadline;
}

/** The default step budget: ample for thousands of operations per key, and a few seconds at worst. */
export const defaultMaxSearchStepsPerKey = 2_000_000;

const neverExpires: SearchDeadline = { expired: () => false };

/** The result for one part of the history (one key, for the KV model). */
export interface PartitionReport {
  readonly key: string;
  readonly verdict: Verdict;
  /** Operations searched: failed operations and indeterminate reads are left out. */
  readonly operationCount: number;
  readonly searchSteps: number;
  readonly stoppedBy?: StopReason;
  /** When linearizable: operation ids in the order found (indeterminate ones left out never took effect). */
  readonly linearization?: readonly number[];
}

export interface LinearizabilityReport<Call, Result> {
  /** `violation` if any key has one; otherwise `unknown` if any key ran out of budget. */
  readonly verdict: Verdict;
  readonly perKey: readonly PartitionReport[];
  readonly searchSteps: number;
  readonly stoppedBy?: StopReason;
  /** For the first key (in partition order) with a violation. */
  readonly counterexample?: Counterexample<Call, Result>;
}

/**
 * Checks a history against a sequential model.
 *
 * @example
 * const report = checkLinearizability(kvRegisterModel, operations, { maxSearchStepsPerKey: 100_000 });
 * if (report.verdict === 'violation') console.log(report.counterexample?.lines.join('\n'));
 */
export function checkLinearizability<State, Call, Result>(
  model: Model<State, Call, Result>,
  operations: readonly RecordedOperation<Call, Result>[],
  options: CheckOptions = {},
): LinearizabilityReport<Call, Result> {
  const maxSearchSteps = options.maxSearchStepsPerKey ?? defaultMaxSearchStepsPerKey;
  invariant(
    Number.isSafeInteger(maxSearchSteps) && maxSearchSteps > 0,
    'maxSearchStepsPerKey must be a positive integer',
  );
  const deadline = options.deadline ?? neverExpires;
  const relevant = operations.filter(
    (operation) =>
      operation.outcome === 'ok' ||
      (operation.outcome === 'indeterminate' && !model.isReadOnly(operation.call, undefined)),
  );
  const perKey: PartitionReport[] = [];
  let counterexample: Counterexample<Call, Result> | undefined;
  for (const part of model.partition(relevant)) {
    const key = model.partitionLabel(part);
    const outcome = new PartitionSearch(model, part, maxSearchSteps, deadline).run();
    perKey.push(partitionReport(key, part.length, outcome));
    if (outcome.verdict === 'violation' && counterexample === undefined) {
      counterexample = buildCounterexample(model, key, part, outcome.stuck);
    }
  }
  return summarise(perKey, counterexample);
}

/**
 * Checks a KV history key by key with {@link kvRegisterModel}.
 *
 * @example
 * const report = checkKvHistory(recorder.operations());
 * assert.equal(report.verdict, 'linearizable', report.counterexample?.lines.join('\n'));
 */
export function checkKvHistory(
  operations: readonly KvOperation[],
  options: CheckOptions = {},
): LinearizabilityReport<KvCall, KvResult> {
  return checkLinearizability(kvRegisterModel, operations, options);
}

function partitionReport<State, Call, Result>(
  key: string,
  operationCount: number,
  outcome: SearchOutcome<State, Call, Result>,
): PartitionReport {
  const base = { key, verdict: outcome.verdict, operationCount, searchSteps: outcome.searchSteps };
  switch (outcome.verdict) {
    case 'linearizable':
      return { ...base, linearization: outcome.linearization.map((operation) => operation.id) };
    case 'unknown':
      return { ...base, stoppedBy: outcome.stoppedBy };
    case 'violation':
      return base;
  }
}

function summarise<Call, Result>(
  perKey: readonly PartitionReport[],
  counterexample: Counterexample<Call, Result> | undefined,
): LinearizabilityReport<Call, Result> {
  const searchSteps = perKey.reduce((sum, part) => sum + part.searchSteps, 0);
  if (counterexample !== undefined) return { verdict: 'violation', perKey, searchSteps, counterexample };
  const stopped = perKey.find((part) => part.stoppedBy !== undefined);
  if (stopped?.stoppedBy !== undefined)
    return { verdict: 'unknown', perKey, searchSteps, stoppedBy: stopped.stoppedBy };
  return { verdict: 'linearizable', perKey, searchSteps };
}
