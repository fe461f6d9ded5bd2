/**
 * Turns the deepest dead end of a failed linearizability search into something a person can act on:
 * the order the search managed (the longest linearizable prefix), the operation that had to come next
 * and could not, what it could not follow, and the operations running at the same time.
 */
import type { RecordedOperation } from './history.js';
import { invariant } from './history.js';
import type { Model } from './kv-model.js';

/** What the search saw at its deepest dead end (internal to the checker). */
export interface StuckPoint<State, Call, Result> {
  /** The longest linearizable prefix found, in the order chosen. */
  readonly prefix: readonly RecordedOperation<Call, Result>[];
  /** The model state after the prefix. */
  readonly state: State;
  /** The operation whose completion the search reached without being able to place it. */
  readonly blocked: RecordedOperation<Call, Result>;
  /** Other candidates for the next place whose results do not fit the state either. */
  readonly alsoUnplaceable: readonly RecordedOperation<Call, Result>[];
}

/** A violation, as data (for dashboards) and as text lines (for logs and test failures). */
export interface Counterexample<Call, Result> {
  /** The partition (key) with the violation. */
  readonly key: string;
  /** The longest linearizable prefix found, in the order the search chose. */
  readonly prefix: readonly RecordedOperation<Call, Result>[];
  /** The model state after the prefix, as the model describes it. */
  readonly stateAfterPrefix: string;
  /** The last operation of the prefix that changed the state; absent while the state is initial. */
  readonly lastWrite?: RecordedOperation<Call, Result>;
  /** The operation that had to be placed next (its completion came) but could not be. */
  readonly blocked: RecordedOperation<Call, Result>;
  /** Why it could not be placed, e.g. `cannot follow put(k1,"v9") at t=1180 ok`. */
  readonly reason: string;
  /** Other operations that could have come next and did not fit either. */
  readonly alsoUnplaceable: readonly RecordedOperation<Call, Result>[];
  /** Operations whose intervals overlap the blocked one's, by invocation time (capped). */
  readonly concurrent: readonly RecordedOperation<Call, Result>[];
  readonly lines: readonly string[];
}

/** How many prefix operations, unplaceable candidates and concurrent operations the text shows. */
export const prefixOperationsShownMax = 5;
export const unplaceableOperationsShownMax = 4;
export const concurrentOperationsShownMax = 8;

/** Builds the counterexample for one partition from the search's deepest dead end. */
export function buildCounterexample<State, Call, Result>(
  model: Model<State, Call, Result>,
  key: string,
  operations: readonly RecordedOperation<Call, Result>[],
  stuck: StuckPoint<State, Call, Result>,
): Counterexample<Call, Result> {
  const lastWrite = findLastWrite(model, stuck.prefix);
  const blocked = stuck.blocked;
  const fits = model.step(stuck.state, blocked.call, blocked.result).ok;
  const follows =
    lastWrite === undefined
      ? `the initial state (${model.describeState(stuck.state)})`
      : `${model.describe(lastWrite.call, undefined)} at t=${lastWrite.invokedAt} ${lastWrite.outcome}`;
  const reason = fits
    ? `fits state ${model.describeState(stuck.state)}, but no order of the operations after it does`
    : `cannot follow ${follows}`;
  const base = {
    key,
    prefix: stuck.prefix,
    stateAfterPrefix: model.describeState(stuck.state),
    blocked,
    reason,
    alsoUnplaceable: stuck.alsoUnplaceable,
    concurrent: concurrentWith(blocked, operations),
  };
  const counterexample = lastWrite === undefined ? base : { ...base, lastWrite };
  return { ...counterexample, lines: renderLines(model, operations.length, counterexample) };
}

/** Replays the prefix to find the last operation that changed the state. */
function findLastWrite<State, Call, Result>(
  model: Model<State, Call, Result>,
  prefix: readonly RecordedOperation<Call, Result>[],
): RecordedOperation<Call, Result> | undefined {
  let state = model.init();
  let lastWrite: RecordedOperation<Call, Result> | undefined;
  for (const operation of prefix) {
    const outcome = model.step(state, operation.call, resultIfKnown(operation));
    invariant(outcome.ok, `the linearizable prefix does not replay at operation ${operation.id}`);
    if (model.stateKey(outcome.next) !== model.stateKey(state)) lastWrite = operation;
    state = outcome.next;
  }
  return lastWrite;
}

function resultIfKnown<Call, Result>(operation: RecordedOperation<Call, Result>): Result | undefined {
  return operation.outcome === 'ok' ? operation.result : undefined;
}

/**
 * The operations overlapping `blocked`, definite ones first: indeterminate operations overlap
 * everything after their invocation, and would otherwise crowd out the ones that matter.
 */
function concurrentWith<Call, Result>(
  blocked: RecordedOperation<Call, Result>,
  operations: readonly RecordedOperation<Call, Result>[],
): RecordedOperation<Call, Result>[] {
  const overlapping = operations.filter((operation) => operation !== blocked && overlaps(operation, blocked));
  const definiteFirst = [
    ...overlapping.filter((operation) => operation.outcome === 'ok'),
    ...overlapping.filter((operation) => operation.outcome !== 'ok'),
  ];
  return definiteFirst
    .slice(0, concurrentOperationsShownMax)
    .sort((a, b) => a.invokedAt - b.invokedAt || a.id - b.id);
}

function completedOrNever(operation: RecordedOperation<unknown, unknown>): number {
  // An indeterminate operation may take effect at any later time, so it overlaps everything after it.
  return operation.outcome === 'ok' && operation.completedAt !== null
    ? operation.completedAt
    : Number.POSITIVE_INFINITY;
}

function overlaps(
  left: RecordedOperation<unknown, unknown>,
  right: RecordedOperation<unknown, unknown>,
): boolean {
  return left.invokedAt <= completedOrNever(right) && right.invokedAt <= completedOrNever(left);
}

type CounterexampleData<Call, Result> = Omit<Counterexample<Call, Result>, 'lines'>;

function renderLines<State, Call, Result>(
  model: Model<State, Call, Result>,
  operationCount: number,
  counterexample: CounterexampleData<Call, Result>,
): string[] {
  const show = (operation: RecordedOperation<Call, Result>): string => renderOperation(model, operation);
  const { key, prefix, blocked, alsoUnplaceable, concurrent } = counterexample;
  const shownPrefix = prefix.slice(-prefixOperationsShownMax);
  const lines = [
    `not linearizable: key ${key}: ${prefix.length} of ${operationCount} operations placed in order, then none could follow`,
    `  last placed (${shownPrefix.length} of ${prefix.length}, oldest first)${shownPrefix.length === 0 ? ': none' : ':'}`,
    ...shownPrefix.map((operation) => `    ${show(operation)}`),
    `  state then: ${counterexample.stateAfterPrefix}`,
    '  could not be placed next:',
    `    ${show(blocked)}   ${counterexample.reason}`,
    ...alsoUnplaceable
      .slice(0, unplaceableOperationsShownMax)
      .map((operation) => `    ${show(operation)}   does not fit either`),
  ];
  if (concurrent.length > 0) {
    lines.push(
      `  concurrent with p${blocked.process}'s operation:`,
      ...concurrent.map((operation) => `    ${show(operation)}`),
    );
  }
  return lines;
}

/** `p3  get(k1) → "v7"   [t=1204..1290]` for any model. */
export function renderOperation<State, Call, Result>(
  model: Model<State, Call, Result>,
  operation: RecordedOperation<Call, Result>,
): string {
  const callColumnWidth = 30;
  const result = resultIfKnown(operation);
  const description =
    result === undefined
      ? `${model.describe(operation.call, undefined)} → ?`
      : model.describe(operation.call, result);
  const interval = `[t=${operation.invokedAt}..${operation.completedAt ?? ''}]`;
  const outcome = operation.outcome === 'ok' ? '' : ` ${operation.outcome}`;
  return `p${operation.process}  ${description.padEnd(callColumnWidth)}  ${interval}${outcome}`;
}
