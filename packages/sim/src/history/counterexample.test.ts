import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { concurrentOperationsShownMax } from './counterexample.js';
import { historyFromText } from './history-text.js';
import { checkKvHistory } from './linearizability.js';

describe('counterexample', () => {
  const staleRead = historyFromText(`
    p0  put(k1,"v7") → ok        [t=1100..1150]
    p1  put(k1,"v9") → ok        [t=1180..1195]
    p2  put(k1,"v8") → ?         [t=1190..1200]
    p3  get(k1) → "v7"           [t=1204..1290]
    p4  put(k1,"v10") → ok       [t=1250..1300]
    p0  get(k0) → null           [t=0..1]
  `);

  test('explains a stale read: what was placed, what could not follow it, and what ran alongside', () => {
    const counterexample = checkKvHistory(staleRead).counterexample;
    assert.deepEqual(counterexample?.lines, [
      'not linearizable: key k1: 2 of 5 operations placed in order, then none could follow',
      '  last placed (2 of 2, oldest first):',
      '    p0  put(k1,"v7") → ok               [t=1100..1150]',
      '    p1  put(k1,"v9") → ok               [t=1180..1195]',
      '  state then: "v9"',
      '  could not be placed next:',
      '    p3  get(k1) → "v7"                  [t=1204..1290]   cannot follow put(k1,"v9") at t=1180 ok',
      "  concurrent with p3's operation:",
      '    p2  put(k1,"v8") → ?                [t=1190..1200] indeterminate',
      '    p4  put(k1,"v10") → ok              [t=1250..1300]',
    ]);
  });

  test('carries the same facts as data, for tools that highlight them', () => {
    const counterexample = checkKvHistory(staleRead).counterexample!;
    assert.equal(counterexample.key, 'k1');
    assert.deepEqual(
      counterexample.prefix.map((operation) => operation.id),
      [0, 1],
    );
    assert.equal(counterexample.stateAfterPrefix, '"v9"');
    assert.equal(counterexample.lastWrite?.id, 1);
    assert.equal(counterexample.blocked.id, 3);
    assert.equal(counterexample.reason, 'cannot follow put(k1,"v9") at t=1180 ok');
    assert.deepEqual(
      counterexample.concurrent.map((operation) => operation.id),
      [2, 4],
    );
  });

  test('blames the initial state when nothing was placed', () => {
    const counterexample = checkKvHistory(
      historyFromText(`
        p0  get(k0) → "ghost"   [t=0..5]
        p1  get(k0) → "ghost"   [t=1..4]
      `),
    ).counterexample!;
    assert.equal(counterexample.prefix.length, 0);
    assert.equal(counterexample.lastWrite, undefined);
    assert.equal(counterexample.reason, 'cannot follow the initial state (absent)');
    assert.deepEqual(
      [counterexample.blocked.id, ...counterexample.alsoUnplaceable.map((operation) => operation.id)],
      [1, 0],
    );
    assert.match(counterexample.lines[1] ?? '', /last placed \(0 of 0, oldest first\): none/);
    assert.match(
      counterexample.lines.join('\n'),
      /p0 {2}get\(k0\) → "ghost" +\[t=0\.\.5\] {3}does not fit either/,
    );
  });

  test('shows at most a handful of concurrent operations, the definite ones first', () => {
    const lines = ['p0  put(k0,"a") → ok  [t=0..1]', 'p1  get(k0) → "x"  [t=10..100]'];
    for (let process = 2; process < 2 + 2 * concurrentOperationsShownMax; process += 1) {
      const outcome = process % 2 === 0 ? '?' : 'ok';
      lines.push(`p${process}  put(k0,"w${process}") → ${outcome}  [t=${process * 5}..${process * 5 + 1}]`);
    }
    const counterexample = checkKvHistory(historyFromText(lines.join('\n'))).counterexample!;
    assert.equal(counterexample.concurrent.length, concurrentOperationsShownMax);
    assert.ok(counterexample.concurrent.every((operation) => operation.outcome === 'ok'));
  });
});
