/**
 * The JSON form of a history: a document tagged with its format and version, one operation per
 * line. This is what recorders outside the simulator (real-process tests, other languages) write.
 */
import type { KvCall, KvOperation, KvResult, OperationOutcome } from './history.js';
import { HistoryFormatError, show, validateHistory } from './history.js';

/** The `format` tag of a JSON history document; bump `historyFormatVersion` on incompatible changes. */
export const historyFormatName = 'synod.kv-history';
export const historyFormatVersion = 1;

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
