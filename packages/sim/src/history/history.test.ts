import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { HistoryFormatError, HistoryRecorder, validateHistory } from './history.js';
import { historyFromJson, historyToJson } from './history-json.js';
import { formatOperation, historyFromText, historyToText } from './history-text.js';
import { generateLinearizableHistory, seededRandom } from './workload.js';

const propertySeed = 0x4157;

describe('HistoryRecorder', () => {
  test('records ok, failed and indeterminate operations, and reports open ones as indeterminate', () => {
    const recorder = new HistoryRecorder();
    const put = recorder.invoke(0, { kind: 'put', key: 'k0', value: 'a' }, 1);
    const get = recorder.invoke(1, { kind: 'get', key: 'k0' }, 2);
    const cas = recorder.invoke(2, { kind: 'cas', key: 'k0', expected: null, value: 'b' }, 3);
    const open = recorder.invoke(3, { kind: 'put', key: 'k1', value: 'c' }, 4);
    recorder.complete(put, {}, 5);
    recorder.fail(get, 6);
    recorder.indeterminate(cas, 7);
    const operations = recorder.operations();
    assert.deepEqual(
      operations.map(({ id, outcome, completedAt, result }) => ({ id, outcome, completedAt, result })),
      [
        { id: put, outcome: 'ok', completedAt: 5, result: {} },
        { id: get, outcome: 'fail', completedAt: 6, result: undefined },
        { id: cas, outcome: 'indeterminate', completedAt: 7, result: undefined },
        { id: open, outcome: 'indeterminate', completedAt: null, result: undefined },
      ],
    );
    assert.equal('result' in operations[1]!, false);
  });

  test('rejects completing an operation twice', () => {
    const recorder = new HistoryRecorder();
    const id = recorder.invoke(0, { kind: 'get', key: 'k0' }, 1);
    recorder.complete(id, { value: null }, 2);
    assert.throws(() => recorder.fail(id, 3), /already completed/);
  });

  test('rejects a process invoking while its previous operation is open', () => {
    const recorder = new HistoryRecorder();
    recorder.invoke(4, { kind: 'get', key: 'k0' }, 1);
    assert.throws(
      () => recorder.invoke(4, { kind: 'get', key: 'k1' }, 2),
      /process 4 invoked while operation 0 is open/,
    );
  });

  test('lets a process invoke again once its previous operation became indeterminate', () => {
    const recorder = new HistoryRecorder();
    const first = recorder.invoke(0, { kind: 'put', key: 'k0', value: 'a' }, 1);
    recorder.indeterminate(first, 5);
    assert.equal(recorder.invoke(0, { kind: 'get', key: 'k0' }, 5), 1);
  });

  test('rejects a result that does not fit the call, and time running backwards', () => {
    const recorder = new HistoryRecorder();
    const id = recorder.invoke(0, { kind: 'get', key: 'k0' }, 10);
    assert.throws(() => recorder.complete(id, { succeeded: true }, 11), /does not fit get/);
    assert.throws(() => recorder.complete(id, { value: 'a' }, 9), /completed before it began/);
    assert.throws(() => recorder.complete(99, { value: 'a' }, 12), /unknown operation id 99/);
  });
});

describe('JSON form', () => {
  test('round-trips generated histories exactly', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 0, max: 60 }), (seed, operations) => {
        const history = generateLinearizableHistory({
          random: seededRandom(seed),
          operations,
          indeterminateRatio: 0.2,
        });
        assert.deepEqual(historyFromJson(historyToJson(history)), history);
      }),
      { seed: propertySeed, numRuns: 50 },
    );
  });

  test('writes one operation per line under a format tag and version', () => {
    const recorder = new HistoryRecorder();
    recorder.complete(recorder.invoke(2, { kind: 'put', key: 'k0', value: 'a' }, 1), {}, 3);
    assert.equal(
      historyToJson(recorder.operations()),
      [
        '{',
        '  "format": "synod.kv-history",',
        '  "version": 1,',
        '  "operations": [',
        '    {"id":0,"process":2,"call":{"kind":"put","key":"k0","value":"a"},"invokedAt":1,"completedAt":3,"outcome":"ok","result":{}}',
        '  ]',
        '}',
        '',
      ].join('\n'),
    );
  });

  const document = (operations: unknown[]): string =>
    JSON.stringify({ format: 'synod.kv-history', version: 1, operations });
  const okGet = {
    id: 0,
    process: 0,
    call: { kind: 'get', key: 'k0' },
    invokedAt: 1,
    completedAt: 2,
    outcome: 'ok',
    result: { value: null },
  };

  const rejections: [string, string, RegExp][] = [
    ['text that is not JSON', '{"format":', /^\(document\): not valid JSON/],
    [
      'another format',
      JSON.stringify({ format: 'jepsen', version: 1, operations: [] }),
      /^format: expected "synod.kv-history", got "jepsen"/,
    ],
    [
      'a newer version',
      JSON.stringify({ format: 'synod.kv-history', version: 2, operations: [] }),
      /^version: expected 1, got 2/,
    ],
    [
      'an unknown call kind',
      document([{ ...okGet, call: { kind: 'delete', key: 'k0' } }]),
      /^operations\[0\]\.call\.kind: expected "put", "get" or "cas", got "delete"/,
    ],
    [
      'a cas without a string value',
      document([{ ...okGet, call: { kind: 'cas', key: 'k0', expected: null, value: 5 } }]),
      /^operations\[0\]\.call\.value: expected a string, got 5/,
    ],
    [
      'a result on a failed operation',
      document([{ ...okGet, outcome: 'fail' }]),
      /^operations\[0\]\.result: only "ok" operations carry a result/,
    ],
    [
      'an ok operation without result',
      document([{ ...okGet, result: undefined }]),
      /^operations\[0\]\.result: expected an object, got nothing/,
    ],
    [
      'a negative process',
      document([{ ...okGet, process: -1 }]),
      /^operations\[0\]\.process: expected a non-negative integer, got -1/,
    ],
    [
      'a time that is not a number',
      document([{ ...okGet, invokedAt: '1' }]),
      /^operations\[0\]\.invokedAt: expected a finite number, got "1"/,
    ],
    ['duplicate ids', document([okGet, okGet]), /^operation 0: duplicate id/],
    [
      'completion before invocation',
      document([{ ...okGet, completedAt: 0 }]),
      /^operation 0: completedAt 0 is before invokedAt 1/,
    ],
    [
      'overlapping operations of one process',
      document([
        { ...okGet, completedAt: 10 },
        { ...okGet, id: 1, invokedAt: 5, completedAt: 12 },
      ]),
      /process 0 invoked it at 5 while operation 0 was still open/,
    ],
  ];
  for (const [what, text, message] of rejections) {
    test(`rejects ${what} with a message naming the field`, () => {
      assert.throws(
        () => historyFromJson(text),
        (error: unknown) =>
          error instanceof HistoryFormatError &&
          error.code === 'HISTORY_FORMAT_INVALID' &&
          message.test(error.message),
      );
    });
  }
});

describe('text form', () => {
  test('renders one aligned line per operation', () => {
    const [operation] = historyFromText('7  p3  get(k1) → "v7"  [t=1204..1290]');
    assert.equal(formatOperation(operation!), 'p3  get(k1) → "v7"                  [t=1204..1290]');
    assert.equal(formatOperation(operation!, { withId: true }), `   7  ${formatOperation(operation!)}`);
  });

  test('round-trips generated histories exactly', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 0, max: 60 }), (seed, operations) => {
        const history = generateLinearizableHistory({
          random: seededRandom(seed),
          operations,
          indeterminateRatio: 0.2,
        });
        assert.deepEqual(historyFromText(historyToText(history)), history);
      }),
      { seed: propertySeed, numRuns: 50 },
    );
  });

  test('reads hand-written lines: optional ids, comments, "->", quoted keys, open intervals and decimals', () => {
    const operations = historyFromText(`
      // a comment
      p0  put(k0,"a b") -> ok            [t=0..1.5]
      p1  cas("key with space",null,"c") → false  [t=1..2]
      p2  put(k0,"\\"quoted\\"") → ?     [t=3..]
      p3  get(k0) → fail                 [t=3..4]
    `);
    assert.deepEqual(operations, [
      {
        id: 0,
        process: 0,
        call: { kind: 'put', key: 'k0', value: 'a b' },
        invokedAt: 0,
        completedAt: 1.5,
        outcome: 'ok',
        result: {},
      },
      {
        id: 1,
        process: 1,
        call: { kind: 'cas', key: 'key with space', expected: null, value: 'c' },
        invokedAt: 1,
        completedAt: 2,
        outcome: 'ok',
        result: { succeeded: false },
      },
      {
        id: 2,
        process: 2,
        call: { kind: 'put', key: 'k0', value: '"quoted"' },
        invokedAt: 3,
        completedAt: null,
        outcome: 'indeterminate',
      },
      { id: 3, process: 3, call: { kind: 'get', key: 'k0' }, invokedAt: 3, completedAt: 4, outcome: 'fail' },
    ]);
  });

  test('names the line and column of a mistake', () => {
    assert.throws(
      () => historyFromText('p0 put(k0,"a") → ok [t=0..1]\np1 get(k0) → true [t=0..1]'),
      (error: unknown) =>
        error instanceof HistoryFormatError &&
        error.path === 'line 2, column 14' &&
        /result true does not fit get/.test(error.message),
    );
    assert.throws(
      () => historyFromText('p0 put(k0) → ok [t=0..1]'),
      /line 1, column 11: wrong arguments for put/,
    );
  });
});

describe('validateHistory', () => {
  test('accepts what the recorder produces and rejects an ok operation without completion time', () => {
    const history = generateLinearizableHistory({ random: seededRandom(3), operations: 200 });
    validateHistory(history);
    const broken = { ...history.find((operation) => operation.outcome === 'ok')!, completedAt: null };
    assert.throws(() => validateHistory([broken]), /needs a completedAt time/);
  });
});
