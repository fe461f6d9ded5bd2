import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { KvCall, KvOperation, KvResult } from './history.js';
import { isCasResult } from './history.js';
import { historyFromText, historyToText } from './history-text.js';
import type { RegisterValue } from './kv-model.js';
import { applyKv, kvRegisterModel, kvStoreModel, sameKvResult } from './kv-model.js';
import type { LinearizabilityReport } from './linearizability.js';
import { checkKvHistory, checkLinearizability, defaultMaxSearchStepsPerKey } from './linearizability.js';
import type { RandomSource } from './workload.js';
import { generateLinearizableHistory, seededRandom } from './workload.js';

const propertySeed = 0x11ea;

/** Fails with the counterexample and the history in the message, so a red test explains itself. */
function assertVerdict(
  report: LinearizabilityReport<KvCall, KvResult>,
  expected: string,
  operations: readonly KvOperation[],
): void {
  const explanation = [...(report.counterexample?.lines ?? []), 'history:', historyToText(operations)].join(
    '\n',
  );
  assert.equal(report.verdict, expected, explanation);
}

function check(text: string): LinearizabilityReport<KvCall, KvResult> {
  return checkKvHistory(historyFromText(text));
}

describe('hand-written histories', () => {
  test('a sequential history is linearizable in its own order', () => {
    const report = check(`
      p0  put(k0,"a") → ok          [t=0..1]
      p0  get(k0) → "a"             [t=2..3]
      p0  cas(k0,"a","b") → true    [t=4..5]
      p0  get(k0) → "b"             [t=6..7]
      p0  cas(k0,"a","c") → false   [t=8..9]
      p0  cas(k1,null,"d") → true   [t=10..11]
    `);
    assert.equal(report.verdict, 'linearizable');
    assert.deepEqual(
      report.perKey.map(({ key, linearization }) => ({ key, linearization })),
      [
        { key: 'k0', linearization: [0, 1, 2, 3, 4] },
        { key: 'k1', linearization: [5] },
      ],
    );
  });

  test('concurrent operations are linearized in the one order their results allow', () => {
    // The read of "b" puts put(b) before it; the later read of "a" puts put(a) last.
    const report = check(`
      0  p0  put(k0,"a") → ok   [t=0..10]
      1  p1  put(k0,"b") → ok   [t=0..10]
      2  p2  get(k0) → "b"      [t=1..9]
      3  p3  get(k0) → "a"      [t=11..12]
    `);
    assert.equal(report.verdict, 'linearizable');
    assert.deepEqual(report.perKey[0]?.linearization, [1, 2, 0, 3]);
  });

  test('a stale read after a completed write is a violation', () => {
    const report = check(`
      p0  put(k0,"a") → ok   [t=0..1]
      p0  put(k0,"b") → ok   [t=2..3]
      p1  get(k0) → "a"      [t=4..5]
    `);
    assert.equal(report.verdict, 'violation');
    assert.equal(report.counterexample?.reason, 'cannot follow put(k0,"b") at t=2 ok');
  });

  test('a lost write (acknowledged, then never seen) is a violation', () => {
    const report = check(`
      p0  put(k0,"a") → ok   [t=0..1]
      p1  get(k0) → null     [t=2..3]
    `);
    assert.equal(report.verdict, 'violation');
    assert.equal(report.counterexample?.blocked.id, 1);
  });

  test('a cas that succeeded against a value that was never current is a violation', () => {
    assert.equal(
      check(`
        p0  put(k0,"a") → ok           [t=0..1]
        p1  cas(k0,"x","b") → true     [t=2..3]
      `).verdict,
      'violation',
    );
    assert.equal(
      check(`
        p0  put(k0,"a") → ok           [t=0..1]
        p1  cas(k0,null,"b") → true    [t=2..3]
      `).verdict,
      'violation',
    );
  });

  test('a cas that failed although its expected value was current is a violation', () => {
    assert.equal(
      check(`
        p0  put(k0,"a") → ok           [t=0..1]
        p1  cas(k0,"a","b") → false    [t=2..3]
      `).verdict,
      'violation',
    );
  });

  test('an indeterminate put may show up later, even after its client gave up', () => {
    assert.equal(
      check(`
        p0  put(k0,"a") → ?    [t=0..1]
        p1  get(k0) → "a"      [t=5..6]
      `).verdict,
      'linearizable',
    );
    assert.equal(
      check(`
        p0  put(k0,"a") → ?    [t=0..1]
        p1  get(k0) → null     [t=2..3]
        p1  get(k0) → "a"      [t=4..5]
      `).verdict,
      'linearizable',
    );
  });

  test('an indeterminate put may never take effect', () => {
    assert.equal(
      check(`
        p0  put(k0,"a") → ?    [t=0..]
        p1  get(k0) → null     [t=2..3]
        p1  get(k0) → null     [t=4..5]
      `).verdict,
      'linearizable',
    );
  });

  test('indeterminate operations may take effect one after another', () => {
    assert.equal(
      check(`
        p0  put(k0,"a") → ?          [t=0..1]
        p1  cas(k0,"a","b") → ?      [t=0..1]
        p2  get(k0) → "b"            [t=2..3]
      `).verdict,
      'linearizable',
    );
  });

  test('an indeterminate put takes effect once: it cannot appear and then vanish', () => {
    assert.equal(
      check(`
        p0  put(k0,"a") → ?    [t=0..1]
        p1  get(k0) → "a"      [t=2..3]
        p1  get(k0) → null     [t=4..5]
      `).verdict,
      'violation',
    );
  });

  test('an indeterminate put cannot take effect before it was invoked', () => {
    assert.equal(
      check(`
        p1  get(k0) → "a"      [t=0..1]
        p0  put(k0,"a") → ?    [t=2..3]
      `).verdict,
      'violation',
    );
  });

  test('a failed put whose value is read is a violation', () => {
    const report = check(`
      p0  put(k0,"a") → fail   [t=0..1]
      p1  get(k0) → "a"        [t=2..3]
    `);
    assert.equal(report.verdict, 'violation');
    assert.equal(report.counterexample?.reason, 'cannot follow the initial state (absent)');
  });

  test('operations that touch at one instant count as concurrent', () => {
    assert.equal(
      check(`
        p0  put(k0,"a") → ok   [t=0..5]
        p1  get(k0) → null     [t=5..6]
      `).verdict,
      'linearizable',
    );
    assert.equal(
      check(`
        p0  put(k0,"a") → ok   [t=0..5]
        p1  get(k0) → null     [t=6..7]
      `).verdict,
      'violation',
    );
  });

  test('indeterminate and failed reads are ignored', () => {
    const report = check(`
      p0  get(k0) → ?        [t=0..1]
      p1  get(k0) → fail     [t=0..1]
      p2  put(k0,"a") → ok   [t=2..3]
    `);
    assert.equal(report.verdict, 'linearizable');
    assert.equal(report.perKey[0]?.operationCount, 1);
  });

  test('each key is judged on its own and the violation names its key', () => {
    const report = check(`
      p0  put(k0,"a") → ok   [t=0..1]
      p1  put(k1,"b") → ok   [t=0..1]
      p0  get(k0) → "a"      [t=2..3]
      p1  get(k1) → null     [t=2..3]
    `);
    assert.equal(report.verdict, 'violation');
    assert.deepEqual(
      report.perKey.map(({ key, verdict }) => ({ key, verdict })),
      [
        { key: 'k0', verdict: 'linearizable' },
        { key: 'k1', verdict: 'violation' },
      ],
    );
    assert.equal(report.counterexample?.key, 'k1');
  });

  test('an empty history is linearizable', () => {
    assert.deepEqual(checkKvHistory([]), { verdict: 'linearizable', perKey: [], searchSteps: 0 });
  });
});

describe('search budget', () => {
  const history = generateLinearizableHistory({ random: seededRandom(11), operations: 400 });

  test('reports unknown, not a verdict, when the step budget runs out', () => {
    const report = checkKvHistory(history, { maxSearchStepsPerKey: 10 });
    assert.equal(report.verdict, 'unknown');
    assert.equal(report.stoppedBy, 'step-budget');
    assert.ok(report.perKey.every((part) => part.stoppedBy === 'step-budget' && part.searchSteps === 10));
  });

  test('reports unknown once the injected deadline expires, and stops consulting it', () => {
    let consulted = 0;
    const report = checkKvHistory(history, {
      deadline: {
        expired: () => {
          consulted += 1;
          return true;
        },
      },
    });
    assert.equal(report.verdict, 'unknown');
    assert.equal(report.stoppedBy, 'deadline');
    assert.ok(report.perKey.every((part) => part.stoppedBy === 'deadline' && part.searchSteps === 0));
    assert.equal(consulted, report.perKey.length);
  });

  test('a violation elsewhere outranks an unknown key', () => {
    const report = checkKvHistory(
      historyFromText(`
        p0  put(k0,"a") → ok   [t=0..1]
        p0  get(k0) → null     [t=2..3]
      `).concat(history.map((operation) => ({ ...operation, id: operation.id + 10 }))),
      { maxSearchStepsPerKey: 50 },
    );
    assert.equal(report.verdict, 'violation');
    assert.ok(report.perKey.some((part) => part.verdict === 'unknown'));
  });
});

// ---------------------------------------------------------------------------------------------------
// Properties

/** Values that no linearization can make current during `read` (writes are unique, nothing deletes). */
function impossibleReadValues(operations: readonly KvOperation[], read: KvOperation): (string | null)[] {
  const sameKey = operations.filter(
    (operation) => operation.call.key === read.call.key && operation !== read,
  );
  const writesDefinitely = (operation: KvOperation): boolean =>
    operation.outcome === 'ok' &&
    (operation.call.kind === 'put' ||
      (operation.result !== undefined && isCasResult(operation.result) && operation.result.succeeded));
  const overwrittenBeforeRead = sameKey.filter(
    (operation) => writesDefinitely(operation) && operation.completedAt! < read.invokedAt,
  );
  const values: (string | null)[] = ['never-written'];
  if (overwrittenBeforeRead.length > 0) values.push(null);
  for (const operation of sameKey) {
    if (operation.call.kind === 'get') continue;
    const failedOrLater = operation.outcome === 'fail' || operation.invokedAt > read.completedAt!;
    // Written, then overwritten by a write that began after it ended and ended before the read began.
    const stale =
      operation.outcome === 'ok' &&
      overwrittenBeforeRead.some((later) => operation.completedAt! < later.invokedAt);
    if (failedOrLater || stale) values.push(operation.call.value);
  }
  return values;
}

/** Replaces the result of one successful read with a value it cannot have seen. */
function mutateOneRead(operations: readonly KvOperation[], random: RandomSource): KvOperation[] | undefined {
  const reads = operations.filter((operation) => operation.call.kind === 'get' && operation.outcome === 'ok');
  if (reads.length === 0) return undefined;
  const read = reads[Math.floor(random.next() * reads.length)]!;
  const candidates = impossibleReadValues(operations, read);
  const value = candidates[Math.floor(random.next() * candidates.length)]!;
  return operations.map((operation) =>
    operation === read ? { ...operation, result: { value } } : operation,
  );
}

const historyShape = fc.record({
  seed: fc.integer(),
  operations: fc.integer({ min: 1, max: 150 }),
  processes: fc.integer({ min: 1, max: 8 }),
  keys: fc.integer({ min: 1, max: 3 }),
  readRatio: fc.double({ min: 0.2, max: 0.7, noNaN: true }),
  casRatio: fc.double({ min: 0, max: 0.3, noNaN: true }),
  failRatio: fc.constantFrom(0, 0.05),
  indeterminateRatio: fc.constantFrom(0, 0.05, 0.2),
  timeStepMax: fc.integer({ min: 1, max: 4 }),
});

describe('properties', () => {
  test('histories generated from a sequential store are linearizable', () => {
    fc.assert(
      fc.property(historyShape, (shape) => {
        const operations = generateLinearizableHistory({ ...shape, random: seededRandom(shape.seed) });
        assertVerdict(checkKvHistory(operations), 'linearizable', operations);
      }),
      { seed: propertySeed, numRuns: 150 },
    );
  });

  test('changing one read to a value that was never current makes a violation', () => {
    fc.assert(
      fc.property(historyShape, (shape) => {
        const random = seededRandom(shape.seed);
        const mutated = mutateOneRead(
          generateLinearizableHistory({ ...shape, readRatio: 0.5, random }),
          random,
        );
        if (mutated === undefined) return;
        assertVerdict(checkKvHistory(mutated), 'violation', mutated);
      }),
      { seed: propertySeed, numRuns: 150 },
    );
  });

  test('checking key by key gives the same verdict as checking the whole store', () => {
    fc.assert(
      fc.property(historyShape, fc.boolean(), (shape, mutate) => {
        const random = seededRandom(shape.seed);
        const generated = generateLinearizableHistory({
          ...shape,
          operations: shape.operations % 14,
          random,
        });
        const operations = (mutate ? mutateOneRead(generated, random) : undefined) ?? generated;
        const perKey = checkLinearizability(kvRegisterModel, operations);
        const whole = checkLinearizability(kvStoreModel, operations);
        assert.notEqual(whole.verdict, 'unknown');
        assert.equal(perKey.verdict, whole.verdict, historyToText(operations));
      }),
      { seed: propertySeed, numRuns: 200 },
    );
  });

  test('agrees with an exhaustive search on small arbitrary histories', () => {
    fc.assert(
      fc.property(fc.array(arbitraryOperation, { maxLength: 9 }), (drafts) => {
        const operations = drafts.map((draft, id) => ({ ...draft, id }));
        const expected = exhaustivelyLinearizable(operations) ? 'linearizable' : 'violation';
        assertVerdict(checkKvHistory(operations), expected, operations);
      }),
      { seed: propertySeed, numRuns: 3000 },
    );
  });

  test('agrees with an exhaustive search on perturbed generated histories of one hot key', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.integer({ min: 4, max: 18 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 3 }),
        (seed, count, processes, perturbations) => {
          const random = seededRandom(seed);
          const generated = generateLinearizableHistory({
            random,
            operations: count,
            processes,
            keys: 1,
            casRatio: 0.3,
            failRatio: 0.05,
            indeterminateRatio: 0.25,
            timeStepMax: 2,
          });
          const operations = perturb(generated, perturbations, random);
          const expected = exhaustivelyLinearizable(operations) ? 'linearizable' : 'violation';
          assertVerdict(checkKvHistory(operations), expected, operations);
        },
      ),
      { seed: propertySeed, numRuns: 2000 },
    );
  });
});

/** Arbitrary operations on one key with few values (repeats allowed): results need not make sense. */
const arbitraryOperation: fc.Arbitrary<Omit<KvOperation, 'id'>> = fc
  .record({
    process: fc.integer({ min: 0, max: 3 }),
    kind: fc.constantFrom('put', 'get', 'cas'),
    value: fc.constantFrom('a', 'b'),
    expected: fc.constantFrom('a', 'b', null),
    readValue: fc.constantFrom('a', 'b', null),
    succeeded: fc.boolean(),
    invokedAt: fc.integer({ min: 0, max: 6 }),
    duration: fc.integer({ min: 0, max: 4 }),
    outcome: fc.constantFrom('ok', 'ok', 'ok', 'fail', 'indeterminate'),
  })
  .map((draft) => {
    const key = 'k0';
    const call: KvCall =
      draft.kind === 'put'
        ? { kind: 'put', key, value: draft.value }
        : draft.kind === 'get'
          ? { kind: 'get', key }
          : { kind: 'cas', key, expected: draft.expected, value: draft.value };
    const result: KvResult =
      call.kind === 'put'
        ? {}
        : call.kind === 'get'
          ? { value: draft.readValue }
          : { succeeded: draft.succeeded };
    const base = {
      process: draft.process,
      call,
      invokedAt: draft.invokedAt,
      completedAt: draft.invokedAt + draft.duration,
    };
    return draft.outcome === 'ok' ? { ...base, outcome: 'ok', result } : { ...base, outcome: draft.outcome };
  });

/** Changes a few results (a read's value, a cas's success) or delays a put, so some histories break. */
function perturb(operations: readonly KvOperation[], count: number, random: RandomSource): KvOperation[] {
  const written = operations.flatMap((operation) =>
    operation.call.kind === 'get' ? [] : [operation.call.value],
  );
  const values = [null, ...written];
  const perturbed = [...operations];
  for (let made = 0; made < count; made += 1) {
    const index = Math.floor(random.next() * perturbed.length);
    const operation = perturbed[index]!;
    if (operation.outcome !== 'ok') continue;
    const pick = random.next();
    if (operation.call.kind === 'get') {
      perturbed[index] = { ...operation, result: { value: values[Math.floor(pick * values.length)]! } };
    } else if (operation.call.kind === 'cas') {
      perturbed[index] = { ...operation, result: { succeeded: pick < 0.5 } };
    } else {
      const delay = 1 + Math.floor(pick * 4);
      perturbed[index] = {
        ...operation,
        invokedAt: operation.invokedAt + delay,
        completedAt: operation.completedAt! + delay,
      };
    }
  }
  return perturbed;
}

/**
 * The definition, searched exhaustively over (placed set, state) with none of the checker's
 * pruning: some order of all ok operations and any subset of the indeterminate ones respects real
 * time (an ok operation that completed strictly before another was invoked comes first) and replays
 * through the register. Failed operations and indeterminate reads are left out.
 */
function exhaustivelyLinearizable(operations: readonly KvOperation[]): boolean {
  const candidates = operations.filter(
    (operation) =>
      operation.outcome === 'ok' || (operation.outcome === 'indeterminate' && operation.call.kind !== 'get'),
  );
  assert.ok(candidates.length <= 30, 'placed sets are 31-bit masks');
  const maskOf = (include: (operation: KvOperation) => boolean): number =>
    candidates.reduce((mask, operation, index) => (include(operation) ? mask | (1 << index) : mask), 0);
  const definiteMask = maskOf((operation) => operation.outcome === 'ok');
  const mustPrecede = candidates.map((operation) =>
    maskOf((other) => other.outcome === 'ok' && other.completedAt! < operation.invokedAt),
  );
  const visited = new Set<string>();
  const pending: [number, RegisterValue][] = [[0, null]];
  while (pending.length > 0) {
    const [placed, state] = pending.pop()!;
    if ((placed & definiteMask) === definiteMask) return true;
    const key = `${placed}|${state}`;
    if (visited.has(key)) continue;
    visited.add(key);
    candidates.forEach((operation, index) => {
      if ((placed & (1 << index)) !== 0 || (mustPrecede[index]! & ~placed) !== 0) return;
      const applied = applyKv(state, operation.call);
      if (operation.outcome === 'ok' && !sameKvResult(applied.result, operation.result!)) return;
      pending.push([placed | (1 << index), applied.state]);
    });
  }
  return false;
}

describe('performance', () => {
  // Not timed assertions: each verdict must come within a step budget well below the default.
  const cases = [
    { seed: 1, keys: 5, indeterminateRatio: 0.03, stepBudget: 100_000, withViolation: true },
    { seed: 2, keys: 5, indeterminateRatio: 0.1, stepBudget: 100_000, withViolation: true },
    { seed: 3, keys: 1, indeterminateRatio: 0.03, stepBudget: 100_000, withViolation: false },
  ];
  for (const { seed, keys, indeterminateRatio, stepBudget, withViolation } of cases) {
    const name = `2,000 operations on ${keys} key(s) from 10 clients, ${indeterminateRatio * 100}% indeterminate (seed ${seed})`;
    test(`${name} check within ${stepBudget} steps per key`, (t) => {
      assert.ok(stepBudget < defaultMaxSearchStepsPerKey);
      const random = seededRandom(seed);
      const operations = generateLinearizableHistory({
        random,
        operations: 2000,
        processes: 10,
        keys,
        indeterminateRatio,
      });
      const report = checkKvHistory(operations, { maxSearchStepsPerKey: stepBudget });
      assertVerdict(report, 'linearizable', []);
      t.diagnostic(`linearizable: ${report.searchSteps} steps`);
      if (!withViolation) return;
      const mutated = mutateOneRead(operations, random)!;
      const violation = checkKvHistory(mutated, { maxSearchStepsPerKey: stepBudget });
      assertVerdict(violation, 'violation', []);
      t.diagnostic(`with one impossible read: ${violation.searchSteps} steps`);
    });
  }
});
