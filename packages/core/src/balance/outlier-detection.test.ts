import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OutlierDetection } from './outlier-detection.js';
import { RoundRobin } from './round-robin.js';

function manualClock() {
  let nowMs = 0;
  return {
    now: () => nowMs,
    advance: (ms: number) => {
      nowMs += ms;
    },
  };
}

const endpoints = ['a', 'b', 'c', 'd'];

describe('OutlierDetection', () => {
  test('ejects an endpoint after consecutive errors and routes around it until the ejection ends', () => {
    const clock = manualClock();
    const ejections: string[] = [];
    const balancer = new OutlierDetection(new RoundRobin(endpoints), {
      clock,
      consecutiveErrors: 3,
      baseEjectionMs: 30_000,
      maxEjectionPercent: 50,
      onEject: (endpoint) => ejections.push(endpoint),
    });
    for (let failure = 0; failure < 3; failure++) balancer.report('b', 5, false);
    assert.deepEqual(ejections, ['b']);
    const picks = Array.from({ length: 6 }, () => balancer.pick());
    assert.ok(!picks.includes('b'), `picked ${picks.join(',')}`);
    clock.advance(29_999);
    assert.equal(balancer.isEjected('b'), true);
    clock.advance(1);
    assert.equal(balancer.isEjected('b'), false);
    assert.ok(Array.from({ length: 4 }, () => balancer.pick()).includes('b'));
  });

  test('a success resets the run of errors', () => {
    const balancer = new OutlierDetection(new RoundRobin(endpoints), {
      clock: manualClock(),
      consecutiveErrors: 3,
    });
    balancer.report('a', 1, false);
    balancer.report('a', 1, false);
    balancer.report('a', 1, true);
    balancer.report('a', 1, false);
    balancer.report('a', 1, false);
    assert.equal(balancer.isEjected('a'), false);
  });

  test('each repeat ejection lasts longer: base × number of ejections', () => {
    const clock = manualClock();
    const untils: number[] = [];
    const balancer = new OutlierDetection(new RoundRobin(endpoints), {
      clock,
      consecutiveErrors: 2,
      baseEjectionMs: 1000,
      intervalMs: 60_000,
      onEject: (_, untilMs) => untils.push(untilMs),
    });
    for (let round = 0; round < 3; round++) {
      const startMs = clock.now();
      balancer.report('c', 1, false);
      balancer.report('c', 1, false);
      assert.equal(untils.at(-1)! - startMs, 1000 * (round + 1));
      clock.advance(1000 * (round + 1));
    }
  });

  test('healthy intervals forgive past ejections', () => {
    const clock = manualClock();
    const untils: number[] = [];
    const balancer = new OutlierDetection(new RoundRobin(endpoints), {
      clock,
      consecutiveErrors: 1,
      baseEjectionMs: 1000,
      intervalMs: 5000,
      onEject: (_, untilMs) => untils.push(untilMs),
    });
    balancer.report('a', 1, false);
    clock.advance(1000);
    balancer.report('a', 1, false);
    assert.equal(untils[1]! - clock.now(), 2000);
    clock.advance(2000 + 3 * 5000);
    balancer.pick();
    balancer.report('a', 1, false);
    assert.equal(untils[2]! - clock.now(), 1000);
  });

  test('ejects on error rate once an endpoint has served the minimum requests', () => {
    const clock = manualClock();
    const balancer = new OutlierDetection(new RoundRobin(endpoints), {
      clock,
      consecutiveErrors: 100,
      errorRateThreshold: 0.5,
      minimumRequests: 10,
    });
    for (let request = 0; request < 9; request++) balancer.report('d', 1, request % 2 === 0);
    assert.equal(balancer.isEjected('d'), false, 'below the minimum request count');
    balancer.report('d', 1, false);
    assert.equal(balancer.isEjected('d'), true);
  });

  test('never ejects more than the maximum percentage, and never every endpoint', () => {
    const clock = manualClock();
    const balancer = new OutlierDetection(new RoundRobin(endpoints), {
      clock,
      consecutiveErrors: 1,
      maxEjectionPercent: 50,
    });
    for (const endpoint of endpoints) balancer.report(endpoint, 1, false);
    assert.deepEqual(balancer.ejectedEndpoints(), ['a', 'b']);
    const total = new OutlierDetection(new RoundRobin(['x', 'y']), {
      clock,
      consecutiveErrors: 1,
      maxEjectionPercent: 100,
    });
    total.report('x', 1, false);
    total.report('y', 1, false);
    assert.deepEqual(total.ejectedEndpoints(), ['x']);
    assert.equal(total.pick(), 'y');
  });

  test('combines its own filter with the caller’s', () => {
    const clock = manualClock();
    const balancer = new OutlierDetection(new RoundRobin(['a', 'b', 'c']), {
      clock,
      consecutiveErrors: 1,
      maxEjectionPercent: 50,
    });
    balancer.report('a', 1, false);
    assert.equal(
      balancer.pick((endpoint) => endpoint !== 'b'),
      'c',
    );
    assert.equal(
      balancer.pick((endpoint) => endpoint === 'a'),
      undefined,
    );
  });
});
