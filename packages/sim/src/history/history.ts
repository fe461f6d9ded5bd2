/**
 * The client history of a KV register store: what each client process asked for, when, and what it
 * saw. The simulator records it with {@link HistoryRecorder}; real-process tests write the same JSON
 * form ({@link historyToJson}); the linearizability checker reads either.
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

// ---------------------------------------------------------------------------------------------------
// JSON form

/** The `format` tag of a JSON history document; bump `historyFormatVersion` on incompatible changes. */
export const historyFormatName = 'synod.kv-history';
export const historyFormatVersion = 1;

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

/**
 * Serialises a history as a JSON document with one operation per line (diff- and grep-friendly).
 *
 * @example
 * writeFileSync('history.json', historyToJson(recorder.operations()));
 */
export function historyToJson(operations: readonly KvOperation[]): string {
  const lines = operations.map((operation) => `    ${JSON.stringify(operationToJson(operation))}`);
  const header = `{\n  "format": "${historyFormatName}",\n  "version": ${historyFormatVersion},\n`;
  return `${header}  "operations": [\n${lines.join(',\n')}\n  ]\n}\n`;
}

function operationToJson(operation: KvOperation): Record<string, unknown> {
  // Fixed field order keeps files stable across runs and readable by eye.
  const { id, process, call, invokedAt, completedAt, outcome, result } = operation;
  const json: Record<string, unknown> = { id, process, call, invokedAt, completedAt, outcome };
  if (result !== undefined) json.result = result;
  return json;
}

/**
 * Reads a JSON history document (as written by {@link historyToJson} or by any other recorder that
 * follows the format in this folder's README) and validates it.
 *
 * @throws HistoryFormatError naming the first offending field.
 * @example
 * const report = checkKvHistory(historyFromJson(readFileSync('history.json', 'utf8')));
 */
export function historyFromJson(text: string): KvOperation[] {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new HistoryFormatError('(document)', `not valid JSON (${(error as Error).message})`);
  }
  const root = readObject(document, '(document)');
  if (root.format !== historyFormatName) {
    throw new HistoryFormatError('format', `expected "${historyFormatName}", got ${show(root.format)}`);
  }
  if (root.version !== historyFormatVersion) {
    throw new HistoryFormatError('version', `expected ${historyFormatVersion}, got ${show(root.version)}`);
  }
  if (!Array.isArray(root.operations)) {
    throw new HistoryFormatError('operations', `expected an array, got ${show(root.operations)}`);
  }
  const operations = root.operations.map((raw, index) => parseOperation(raw, `operations[${index}]`));
  validateHistory(operations);
  return operations;
}

function parseOperation(raw: unknown, path: string): KvOperation {
  const record = readObject(raw, path);
  const id = readInteger(record, 'id', path);
  const process = readInteger(record, 'process', path);
  const call = parseCall(record.call, `${path}.call`);
  const invokedAt = readTime(record.invokedAt, `${path}.invokedAt`);
  const completedAt =
    record.completedAt === null ? null : readTime(record.completedAt, `${path}.completedAt`);
  const outcome = record.outcome;
  if (!isOutcome(outcome)) {
    throw new HistoryFormatError(
      `${path}.outcome`,
      `expected "ok", "fail" or "indeterminate", got ${show(outcome)}`,
    );
  }
  const base = { id, process, call, invokedAt, completedAt, outcome };
  if (outcome !== 'ok') {
    if (record.result !== undefined) {
      throw new HistoryFormatError(
        `${path}.result`,
        `only "ok" operations carry a result (this one is ${outcome})`,
      );
    }
    return base;
  }
  return { ...base, result: parseResult(record.result, call, `${path}.result`) };
}

function isOutcome(raw: unknown): raw is OperationOutcome {
  return raw === 'ok' || raw === 'fail' || raw === 'indeterminate';
}

function parseCall(raw: unknown, path: string): KvCall {
  const record = readObject(raw, path);
  const key = readString(record.key, `${path}.key`);
  switch (record.kind) {
    case 'put':
      return { kind: 'put', key, value: readString(record.value, `${path}.value`) };
    case 'get':
      return { kind: 'get', key };
    case 'cas': {
      const expected = record.expected === null ? null : readString(record.expected, `${path}.expected`);
      return { kind: 'cas', key, expected, value: readString(record.value, `${path}.value`) };
    }
    default:
      throw new HistoryFormatError(
        `${path}.kind`,
        `expected "put", "get" or "cas", got ${show(record.kind)}`,
      );
  }
}

function parseResult(raw: unknown, call: KvCall, path: string): KvResult {
  const record = readObject(raw, path);
  switch (call.kind) {
    case 'put':
      if (Object.keys(record).length > 0) throw new HistoryFormatError(path, `a put's result is {}`);
      return {};
    case 'get':
      return { value: record.value === null ? null : readString(record.value, `${path}.value`) };
    case 'cas':
      if (typeof record.succeeded !== 'boolean') {
        throw new HistoryFormatError(
          `${path}.succeeded`,
          `expected true or false, got ${show(record.succeeded)}`,
        );
      }
      return { succeeded: record.succeeded };
  }
}

function readObject(raw: unknown, path: string): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new HistoryFormatError(path, `expected an object, got ${show(raw)}`);
  }
  return raw as Record<string, unknown>;
}

function readString(raw: unknown, path: string): string {
  if (typeof raw !== 'string') throw new HistoryFormatError(path, `expected a string, got ${show(raw)}`);
  return raw;
}

function readInteger(record: Record<string, unknown>, field: string, path: string): number {
  const raw = record[field];
  if (typeof raw !== 'number' || !Number.isSafeInteger(raw) || raw < 0) {
    throw new HistoryFormatError(`${path}.${field}`, `expected a non-negative integer, got ${show(raw)}`);
  }
  return raw;
}

function readTime(raw: unknown, path: string): number {
  if (typeof raw !== 'number' || !Number.isFinite(raw)) {
    throw new HistoryFormatError(path, `expected a finite number, got ${show(raw)}`);
  }
  return raw;
}

function show(raw: unknown): string {
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

// ---------------------------------------------------------------------------------------------------
// Text form: one line per operation, for traces, test fixtures and counterexamples:
//   12  p3  get(k1) → "p2-7"  [t=1204..1290]
// Results: put `ok`, get `"value"` or `null`, cas `true`/`false`; outcome fail `fail`, indeterminate `?`.
// The id is optional when parsing (it defaults to the line's position among operations); `//` starts a
// comment line; `->` may replace `→`; a missing completion time is written `[t=1204..]`.

const bareKeyPattern = /^[A-Za-z0-9_.:-]+$/;
const bareKeyPrefixPattern = /^[A-Za-z0-9_.:-]+/;
const jsonStringPattern = /^"(?:[^"\\]|\\.)*"/;

export function formatKey(key: string): string {
  return bareKeyPattern.test(key) ? key : JSON.stringify(key);
}

/** `put(k1,"v")`, `get(k1)`, `cas(k1,null,"v")`. */
export function formatCall(call: KvCall): string {
  const key = formatKey(call.key);
  switch (call.kind) {
    case 'put':
      return `put(${key},${JSON.stringify(call.value)})`;
    case 'get':
      return `get(${key})`;
    case 'cas':
      return `cas(${key},${JSON.stringify(call.expected)},${JSON.stringify(call.value)})`;
  }
}

/** What the client saw: `ok`, `"v"`, `null`, `true`, `false`, `fail` or `?`. */
export function formatOutcome(operation: KvOperation): string {
  if (operation.outcome === 'fail') return 'fail';
  if (operation.outcome === 'indeterminate' || operation.result === undefined) return '?';
  return formatResult(operation.result);
}

/** `ok` for a put, `"v"` or `null` for a get, `true`/`false` for a cas. */
export function formatResult(result: KvResult): string {
  if (isGetResult(result)) return JSON.stringify(result.value);
  if (isCasResult(result)) return String(result.succeeded);
  return 'ok';
}

export function formatInterval(operation: KvOperation): string {
  return `[t=${operation.invokedAt}..${operation.completedAt ?? ''}]`;
}

/** One line, e.g. `p3  get(k1) → "p2-7"  [t=1204..1290]`; `withId` prefixes the operation id. */
export function formatOperation(operation: KvOperation, options: { readonly withId?: boolean } = {}): string {
  const callAndResult = `${formatCall(operation.call)} → ${formatOutcome(operation)}`;
  const callColumnWidth = 30;
  const line = `p${operation.process}  ${callAndResult.padEnd(callColumnWidth)}  ${formatInterval(operation)}`;
  return options.withId === true ? `${String(operation.id).padStart(4)}  ${line}` : line;
}

/** The whole history in the text form, one operation per line, in the given order. */
export function historyToText(operations: readonly KvOperation[]): string {
  return operations.map((operation) => `${formatOperation(operation, { withId: true })}\n`).join('');
}

/**
 * Parses the text form (see {@link historyToText}); handy for hand-written test histories.
 *
 * @throws HistoryFormatError naming the line and column.
 * @example
 * historyFromText(`
 *   p0  put(k0,"a") → ok   [t=0..10]
 *   p1  get(k0) → "a"      [t=5..15]
 * `);
 */
export function historyFromText(text: string): KvOperation[] {
  const operations: KvOperation[] = [];
  text.split('\n').forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('//')) return;
    operations.push(parseLine(new LineCursor(trimmed, index + 1), operations.length));
  });
  validateHistory(operations);
  return operations;
}

function parseLine(cursor: LineCursor, position: number): KvOperation {
  const idText = cursor.match(/^\d+(?=\s)/);
  const id = idText === null ? position : Number(idText);
  cursor.skipSpaces();
  cursor.expect('p');
  const process = Number(cursor.require(/^\d+/, 'a process number after "p"'));
  cursor.skipSpaces();
  const call = parseTextCall(cursor);
  cursor.skipSpaces();
  if (cursor.match(/^(→|->)/) === null) cursor.fail('expected "→" after the call');
  cursor.skipSpaces();
  const outcomeColumn = cursor.position;
  const outcomeToken = cursor.require(cursor.peek() === '"' ? jsonStringPattern : /^[^\s[]+/, 'a result');
  const outcome = parseTextOutcome(outcomeToken, call, (problem) => cursor.failAt(outcomeColumn, problem));
  cursor.skipSpaces();
  cursor.expect('[t=');
  const invokedAt = Number(cursor.require(timePattern, 'an invocation time'));
  cursor.expect('..');
  const completedText = cursor.match(timePattern);
  cursor.expect(']');
  if (!cursor.atEnd()) cursor.fail('unexpected text after the interval');
  const completedAt = completedText === null ? null : Number(completedText);
  return { id, process, call, invokedAt, completedAt, ...outcome };
}

const timePattern = /^-?\d+(\.\d+)?([eE][-+]?\d+)?/;

function parseTextCall(cursor: LineCursor): KvCall {
  const kind = cursor.require(/^(put|get|cas)\(/, 'put(, get( or cas(').slice(0, -1);
  const key = cursor.peek() === '"' ? cursor.readJsonString() : cursor.require(bareKeyPrefixPattern, 'a key');
  const args: (string | null)[] = [];
  while (cursor.match(/^,/) !== null) {
    args.push(cursor.match(/^null/) === null ? cursor.readJsonString() : null);
  }
  cursor.expect(')');
  const [first, second] = args;
  if (kind === 'get' && args.length === 0) return { kind, key };
  if (kind === 'put' && args.length === 1 && typeof first === 'string') return { kind, key, value: first };
  if (kind === 'cas' && args.length === 2 && first !== undefined && typeof second === 'string') {
    return { kind, key, expected: first, value: second };
  }
  return cursor.fail(
    `wrong arguments for ${kind}: expected ${kind === 'cas' ? 'key, expected, value' : 'key, value'}`,
  );
}

function parseTextOutcome(
  token: string,
  call: KvCall,
  fail: (problem: string) => never,
): Pick<KvOperation, 'outcome' | 'result'> {
  if (token === 'fail') return { outcome: 'fail' };
  if (token === '?') return { outcome: 'indeterminate' };
  if (call.kind === 'put' && token === 'ok') return { outcome: 'ok', result: {} };
  if (call.kind === 'cas' && (token === 'true' || token === 'false')) {
    return { outcome: 'ok', result: { succeeded: token === 'true' } };
  }
  if (call.kind === 'get' && token === 'null') return { outcome: 'ok', result: { value: null } };
  if (call.kind === 'get' && token.startsWith('"'))
    return { outcome: 'ok', result: { value: JSON.parse(token) } };
  const expected = { put: 'ok', get: '"value" or null', cas: 'true or false' }[call.kind];
  return fail(`result ${token} does not fit ${call.kind} (expected ${expected}, fail or ?)`);
}

/** A read position in one line of the text form; failures name the line and column. */
class LineCursor {
  readonly #text: string;
  readonly #lineNumber: number;
  #position = 0;

  constructor(text: string, lineNumber: number) {
    this.#text = text;
    this.#lineNumber = lineNumber;
  }

  peek(): string {
    return this.#text.charAt(this.#position);
  }

  atEnd(): boolean {
    return this.#position >= this.#text.length;
  }

  skipSpaces(): void {
    this.match(/^\s+/);
  }

  /** Consumes and returns the text matching `pattern` (anchored with `^`), or `null`. */
  match(pattern: RegExp): string | null {
    const found = pattern.exec(this.#text.slice(this.#position));
    if (found === null) return null;
    this.#position += found[0].length;
    return found[0];
  }

  require(pattern: RegExp, what: string): string {
    return this.match(pattern) ?? this.fail(`expected ${what}`);
  }

  expect(literal: string): void {
    if (!this.#text.startsWith(literal, this.#position)) this.fail(`expected "${literal}"`);
    this.#position += literal.length;
  }

  /** Reads a JSON string literal such as `"p1-\"3\""` and returns its value. */
  readJsonString(): string {
    const literal = this.require(jsonStringPattern, 'a "quoted" string');
    return JSON.parse(literal) as string;
  }

  get position(): number {
    return this.#position;
  }

  fail(problem: string): never {
    return this.failAt(this.#position, problem);
  }

  failAt(position: number, problem: string): never {
    const nearCharsMax = 20;
    const near = this.#text.slice(position, position + nearCharsMax);
    throw new HistoryFormatError(
      `line ${this.#lineNumber}, column ${position + 1}`,
      `${problem} (near "${near}")`,
    );
  }
}
