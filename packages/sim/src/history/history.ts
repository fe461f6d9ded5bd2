/**
 * The client history of a KV register store: what each client process asked for, when, and what it
 * saw. The simulator records it with {@link HistoryRecorder}; real-process tests write the same JSON
 * form (`history-json.ts`); the linearizability checker reads either. `history-text.ts` renders and
 * parses a one-line-per-operation text form.
 *
 * Times are plain numbers in one consistent unit (virtual ms, or ns/µs from a monotonic clock); only
 * their order matters.
 */

/** A call on the KV register store. `cas` with `expected: null` means "only if the key is absent". */
export type KvCall =
  | { readonly kind: 'put'; readonly key: string; readonly value: string }
  | { readonly kind: 'get'; readonly key: string }
  | { readonly kind: 'cas'; readonly key: string; readonly expected: string | null; readonly value: string };

/** The result of a `put`: nothing beyond success, written `{}`. */
export interface PutResult {
  readonly value?: never;
  readonly succeeded?: never;
}
/** The result of a `get`: the value read, `null` when the key is absent. */
export interface GetResult {
  readonly value: string | null;
}
/** The result of a `cas`: whether the comparison held and the value was written. */
export interface CasResult {
  readonly succeeded: boolean;
}
export type KvResult = PutResult | GetResult | CasResult;

/**
 * How an operation ended, as far as the client knows.
 * - `ok`: it took effect exactly once, somewhere between invocation and completion; `result` is set.
 * - `fail`: it definitely did not take effect (e.g. rejected before it was proposed).
 * - `indeterminate`: the client gave up (timeout, connection lost) or the history ended first; it may
 *   have taken effect at any time after invocation, even after the client stopped waiting, or never.
 */
export type OperationOutcome = 'ok' | 'fail' | 'indeterminate';

/** One client operation in a history; generic so the checker can serve other models too. */
export interface RecordedOperation<Call, Result> {
  /** Unique within the history. */
  readonly id: number;
  /** The client process; a process runs one operation at a time. */
  readonly process: number;
  readonly call: Call;
  readonly invokedAt: number;
  /** When the client learnt the outcome; `null` when it never did (the history ended first). */
  readonly completedAt: number | null;
  readonly outcome: OperationOutcome;
  /** Present exactly when `outcome` is `ok`. */
  readonly result?: Result;
}

export type KvOperation = RecordedOperation<KvCall, KvResult>;

/** Thrown on a broken invariant: a bug in the caller or in this module, never a user error. */
export function invariant(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`invariant violated: ${message}`);
}

export function isGetResult(result: KvResult): result is GetResult {
  return 'value' in result && result.value !== undefined;
}

export function isCasResult(result: KvResult): result is CasResult {
  return 'succeeded' in result && typeof result.succeeded === 'boolean';
}

/** Whether `result` has the shape `call` produces (put → `{}`, get → value, cas → succeeded). */
export function resultFitsCall(call: KvCall, result: KvResult): boolean {
  switch (call.kind) {
    case 'put':
      return !isGetResult(result) && !isCasResult(result);
    case 'get':
      return isGetResult(result) && !isCasResult(result);
    case 'cas':
      return isCasResult(result) && !isGetResult(result);
  }
}

interface OperationDraft {
  id: number;
  process: number;
  call: KvCall;
  invokedAt: number;
  completedAt: number | null;
  outcome: OperationOutcome | 'pending';
  result?: KvResult;
}

/**
 * Records a history as it happens. Misuse (completing twice, a process with two outstanding
 * operations, a result of the wrong shape, time running backwards) is a bug and throws.
 *
 * After `indeterminate`, the process may invoke again: the checker treats the abandoned operation as
 * outstanding forever, whatever process ran it.
 *
 * @example
 * const recorder = new HistoryRecorder();
 * const id = recorder.invoke(0, { kind: 'put', key: 'k0', value: 'p0-0' }, 10);
 * recorder.complete(id, {}, 14);
 * checkKvHistory(recorder.operations()).verdict; // 'linearizable'
 */
export class HistoryRecorder {
  readonly #operations: OperationDraft[] = [];
  readonly #outstandingByProcess = new Map<number, number>();
  readonly #lastTimeByProcess = new Map<number, number>();

  /** Records the start of `call` by `process` at `time`; returns the operation id. */
  invoke(process: number, call: KvCall, time: number): number {
    invariant(Number.isSafeInteger(process) && process >= 0, `process must be a non-negative integer`);
    invariant(Number.isFinite(time), `invocation time must be finite, got ${time}`);
    const outstanding = this.#outstandingByProcess.get(process);
    invariant(outstanding === undefined, `process ${process} invoked while operation ${outstanding} is open`);
    const lastTime = this.#lastTimeByProcess.get(process) ?? Number.NEGATIVE_INFINITY;
    invariant(time >= lastTime, `process ${process} time ran backwards (${time} < ${lastTime})`);
    const id = this.#operations.length;
    this.#operations.push({ id, process, call, invokedAt: time, completedAt: null, outcome: 'pending' });
    this.#outstandingByProcess.set(process, id);
    this.#lastTimeByProcess.set(process, time);
    return id;
  }

  /** Records that operation `id` took effect and returned `result` at `time`. */
  complete(id: number, result: KvResult, time: number): void {
    const draft = this.#close(id, time);
    invariant(
      resultFitsCall(draft.call, result),
      `result ${JSON.stringify(result)} does not fit ${draft.call.kind}`,
    );
    draft.outcome = 'ok';
    draft.result = result;
  }

  /** Records that operation `id` definitely did not take effect. */
  fail(id: number, time: number): void {
    this.#close(id, time).outcome = 'fail';
  }

  /** Records that the client stopped waiting for `id` at `time` without learning its outcome. */
  indeterminate(id: number, time: number): void {
    this.#close(id, time).outcome = 'indeterminate';
  }

  /** A snapshot of the history so far; operations still open are reported as indeterminate. */
  operations(): KvOperation[] {
    return this.#operations.map((draft) => {
      const { outcome, result, ...rest } = draft;
      if (outcome === 'pending') return { ...rest, completedAt: null, outcome: 'indeterminate' };
      return result === undefined ? { ...rest, outcome } : { ...rest, outcome, result };
    });
  }

  #close(id: number, time: number): OperationDraft {
    const draft = this.#operations[id];
    invariant(draft !== undefined, `unknown operation id ${id}`);
    invariant(draft.outcome === 'pending', `operation ${id} was already completed (${draft.outcome})`);
    invariant(Number.isFinite(time) && time >= draft.invokedAt, `operation ${id} completed before it began`);
    draft.completedAt = time;
    this.#outstandingByProcess.delete(draft.process);
    this.#lastTimeByProcess.set(draft.process, time);
    return draft;
  }
}

/** A history that cannot be read: `path` names the offending field or line, `message` says why. */
export class HistoryFormatError extends Error {
  readonly code = 'HISTORY_FORMAT_INVALID';
  readonly path: string;

  constructor(path: string, problem: string) {
    super(`${path}: ${problem}`);
    this.name = 'HistoryFormatError';
    this.path = path;
  }
}

/** A short rendering of a JSON value for error messages. */
export function show(raw: unknown): string {
  if (raw === undefined) return 'nothing';
  const text = JSON.stringify(raw) ?? String(raw);
  const shownCharsMax = 40;
  return text.length > shownCharsMax ? `${text.slice(0, shownCharsMax)}…` : text;
}

/**
 * Checks what a single operation cannot show: ids are unique, every operation ends no earlier than it
 * began, `ok` results fit their calls, and each process runs one operation at a time.
 *
 * @throws HistoryFormatError naming the first offending operation.
 */
export function validateHistory(operations: readonly KvOperation[]): void {
  const seenIds = new Set<number>();
  for (const operation of operations) {
    const path = `operation ${operation.id}`;
    if (seenIds.has(operation.id)) throw new HistoryFormatError(path, 'duplicate id');
    seenIds.add(operation.id);
    if (operation.completedAt !== null && operation.completedAt < operation.invokedAt) {
      throw new HistoryFormatError(
        path,
        `completedAt ${operation.completedAt} is before invokedAt ${operation.invokedAt}`,
      );
    }
    if (operation.outcome === 'ok' && operation.completedAt === null) {
      throw new HistoryFormatError(path, 'an "ok" operation needs a completedAt time');
    }
    if (
      operation.outcome === 'ok' &&
      (operation.result === undefined || !resultFitsCall(operation.call, operation.result))
    ) {
      throw new HistoryFormatError(
        path,
        `result ${show(operation.result)} does not fit a ${operation.call.kind}`,
      );
    }
  }
  validateProcessesSequential(operations);
}

function validateProcessesSequential(operations: readonly KvOperation[]): void {
  const byProcess = new Map<number, KvOperation[]>();
  for (const operation of operations) {
    const list = byProcess.get(operation.process) ?? [];
    list.push(operation);
    byProcess.set(operation.process, list);
  }
  for (const [process, list] of byProcess) {
    list.sort((a, b) => a.invokedAt - b.invokedAt || a.id - b.id);
    for (let index = 1; index < list.length; index += 1) {
      const previous = list[index - 1]!;
      const current = list[index]!;
      // A process whose operation never completed cannot be said to have waited for it.
      if (previous.completedAt === null) continue;
      if (current.invokedAt < previous.completedAt) {
        throw new HistoryFormatError(
          `operation ${current.id}`,
          `process ${process} invoked it at ${current.invokedAt} while operation ${previous.id} was still open ` +
            `(until ${previous.completedAt}); a process runs one operation at a time`,
        );
      }
    }
  }
}
