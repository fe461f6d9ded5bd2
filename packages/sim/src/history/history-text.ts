/**
 * The text form of a history: one line per operation, for traces, test fixtures and counterexamples:
 *   12  p3  get(k1) → "p2-7"  [t=1204..1290]
 * Results: put `ok`, get `"value"` or `null`, cas `true`/`false`; outcome fail `fail`, indeterminate `?`.
 * The id is optional when parsing (it defaults to the line's position among operations); `//` starts a
 * comment line; `->` may replace `→`; a missing completion time is written `[t=1204..]`.
 */
import type { KvCall, KvOperation, KvResult } from './history.js';
import { HistoryFormatError, isCasResult, isGetResult, validateHistory } from './history.js';

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
