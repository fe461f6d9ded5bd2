/**
 * The sequential specification of the KV register store, written once and shared by the replicated
 * state machine (which applies committed calls with {@link applyKv}) and the linearizability checker
 * (which asks {@link kvRegisterModel} whether an observed result fits).
 */
import type { KvCall, KvResult, RecordedOperation } from './history.js';
import { invariant, isCasResult, isGetResult, resultFitsCall } from './history.js';
import { formatCall, formatResult } from './history-text.js';

/** One key's register: its value, or `null` when the key is absent. */
export type RegisterValue = string | null;

/** A register after a call, and what the call returns. */
export interface KvApplied {
  readonly state: RegisterValue;
  readonly result: KvResult;
}

/**
 * Applies `call` to one key's register. Pure: the same inputs always give the same outputs.
 *
 * @example
 * applyKv(null, { kind: 'cas', key: 'k0', expected: null, value: 'a' }); // { state: 'a', result: { succeeded: true } }
 */
export function applyKv(state: RegisterValue, call: KvCall): KvApplied {
  switch (call.kind) {
    case 'put':
      return { state: call.value, result: {} };
    case 'get':
      return { state, result: { value: state } };
    case 'cas':
      if (state === call.expected) return { state: call.value, result: { succeeded: true } };
      return { state, result: { succeeded: false } };
  }
}

/**
 * Applies `call` to a whole store (key → value) in place and returns its result.
 *
 * @example
 * const store = new Map<string, string>();
 * applyKvToStore(store, { kind: 'put', key: 'k0', value: 'a' }); // {}
 * applyKvToStore(store, { kind: 'get', key: 'k0' }); // { value: 'a' }
 */
export function applyKvToStore(store: Map<string, string>, call: KvCall): KvResult {
  const { state, result } = applyKv(store.get(call.key) ?? null, call);
  if (state === null) store.delete(call.key);
  else store.set(call.key, state);
  return result;
}

/** Whether two results of the same call are equal. */
export function sameKvResult(left: KvResult, right: KvResult): boolean {
  if (isGetResult(left)) return isGetResult(right) && left.value === right.value;
  if (isCasResult(left)) return isCasResult(right) && left.succeeded === right.succeeded;
  return !isGetResult(right) && !isCasResult(right);
}

/** Whether an operation with this observed result fits the state, and the state it leaves. */
export interface StepOutcome<State> {
  readonly ok: boolean;
  readonly next: State;
}

/**
 * A sequential specification as the linearizability checker needs it.
 *
 * `step` receives `result: undefined` for an indeterminate operation: its result is unknown, so it
 * must accept it and return the state it would leave had it taken effect (the checker itself handles
 * "it never took effect").
 */
export interface Model<State, Call, Result> {
  init(): State;
  step(state: State, call: Call, result: Result | undefined): StepOutcome<State>;
  /** Splits a history into independent parts checked separately (P-compositionality). */
  partition(operations: readonly RecordedOperation<Call, Result>[]): RecordedOperation<Call, Result>[][];
  /** Names a part returned by `partition` (e.g. its key) for reports. */
  partitionLabel(operations: readonly RecordedOperation<Call, Result>[]): string;
  /**
   * Whether the call, given its result (`undefined`: unknown), leaves every state as it found it.
   * Indeterminate read-only operations say nothing and are dropped; definite ones that fit are
   * linearized as soon as they can be, with no alternatives searched.
   */
  isReadOnly(call: Call, result: Result | undefined): boolean;
  /**
   * Whether the call sets the state regardless of what it was (a put: a blind write), so that it
   * hides whatever came just before it. Answer false when unsure: it only saves search steps.
   */
  isBlindWrite(call: Call): boolean;
  /** Equal keys for equal states; memoisation depends on it. */
  stateKey(state: State): string | number;
  /** `get(k1) → "v7"`, or just the call (`get(k1)`) when `result` is `undefined`. */
  describe(call: Call, result: Result | undefined): string;
  describeState(state: State): string;
}

/** Marks the absent register in state keys; strings cannot collide with a number. */
const absentStateKey = -1;

function stepRegister(
  state: RegisterValue,
  call: KvCall,
  result: KvResult | undefined,
): StepOutcome<RegisterValue> {
  const applied = applyKv(state, call);
  if (result === undefined) return { ok: true, next: applied.state };
  invariant(resultFitsCall(call, result), `result ${JSON.stringify(result)} does not fit ${call.kind}`);
  return { ok: sameKvResult(applied.result, result), next: applied.state };
}

/** A get never writes; nor does a cas known to have failed. */
function isKvReadOnly(call: KvCall, result: KvResult | undefined): boolean {
  if (call.kind === 'get') return true;
  return call.kind === 'cas' && result !== undefined && isCasResult(result) && !result.succeeded;
}

function describeKv(call: KvCall, result: KvResult | undefined): string {
  return result === undefined ? formatCall(call) : `${formatCall(call)} → ${formatResult(result)}`;
}

/**
 * The KV store as one register per key, partitioned by key: each key's history is checked on its own,
 * which is what keeps the search small.
 *
 * @example
 * checkLinearizability(kvRegisterModel, recorder.operations()).verdict;
 */
export const kvRegisterModel: Model<RegisterValue, KvCall, KvResult> = {
  init: () => null,
  step: stepRegister,
  partition(operations) {
    const byKey = new Map<string, RecordedOperation<KvCall, KvResult>[]>();
    for (const operation of operations) {
      const list = byKey.get(operation.call.key) ?? [];
      list.push(operation);
      byKey.set(operation.call.key, list);
    }
    return [...byKey.keys()].sort().map((key) => byKey.get(key)!);
  },
  partitionLabel: (operations) => operations[0]?.call.key ?? '(empty)',
  isReadOnly: isKvReadOnly,
  isBlindWrite: (call) => call.kind === 'put',
  stateKey: (state) => state ?? absentStateKey,
  describe: describeKv,
  describeState: (state) => (state === null ? 'absent' : JSON.stringify(state)),
};

/** The whole store as a sorted, frozen list of [key, value] pairs. */
export type KvStoreState = readonly (readonly [string, string])[];

/**
 * The KV store as a single object, without partitioning. Exponentially slower than
 * {@link kvRegisterModel} on long histories; it exists to cross-check the per-key split.
 */
export const kvStoreModel: Model<KvStoreState, KvCall, KvResult> = {
  init: () => [],
  step(state, call, result) {
    const entry = state.find(([key]) => key === call.key);
    const outcome = stepRegister(entry === undefined ? null : entry[1], call, result);
    const others = state.filter(([key]) => key !== call.key);
    const next: KvStoreState =
      outcome.next === null
        ? others
        : [...others, [call.key, outcome.next] as const].sort(([a], [b]) => (a < b ? -1 : 1));
    return { ok: outcome.ok, next };
  },
  partition: (operations) => [[...operations]],
  partitionLabel: () => '(all keys)',
  isReadOnly: isKvReadOnly,
  isBlindWrite: (call) => call.kind === 'put',
  stateKey: (state) => JSON.stringify(state),
  describe: describeKv,
  describeState: (state) => JSON.stringify(Object.fromEntries(state)),
};
