import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type CircuitBreakerEvents, circuitBreaker } from './circuit-breaker.js';
import { BrokenCircuitError, ResilienceErrorCode } from './errors.js';

/** A clock the test moves by hand. */
function manualClock() {
  return {
    nowMs: 0,
    now() {
      return this.nowMs;
    },
  };
}

const succeed = async (): Promise<string> => 'ok';
const fail = async (): Promise<string> => {
  throw new Error('downstream down');
};

/** Runs `count` failing calls through the breaker, swallowing their errors. */
async function failTimes(breaker: ReturnType<typeof circuitBreaker>, count: number): Promise<void> {
  for (let call = 0; call < count; call++) await breaker.execute(fail).catch(() => undefined);
}

describe('circuit breaker, consecutive policy', () => {
  test('opens after the threshold of consecutive failures and refuses calls with a coded error', async () => {
    const clock = manualClock();
    const breaker = circuitBreaker({ tripPolicy: { kind: 'consecutive', failureThreshold: 3 }, clock });
    await failTimes(breaker, 2);
    assert.equal(breaker.state, 'closed');
    await failTimes(breaker, 1);
    assert.equal(breaker.state, 'open');
    let ran = false;
    const refusal = await breaker
      .execute(async () => {
        ran = true;
      })
      .catch((error: unknown) => error);
    assert.ok(refusal instanceof BrokenCircuitError);
    assert.equal(refusal.code, ResilienceErrorCode.circuitOpen);
    assert.equal(ran, false);
  });

  test('a success between failures resets the count', async () => {
    const breaker = circuitBreaker({
      tripPolicy: { kind: 'consecutive', failureThreshold: 2 },
      clock: manualClock(),
    });
    await failTimes(breaker, 1);
    await breaker.execute(succeed);
    await failTimes(breaker, 1);
    assert.equal(breaker.state, 'closed');
  });

  test('after the open duration a successful probe closes the breaker', async () => {
    const clock = manualClock();
    const breaker = circuitBreaker({
      tripPolicy: { kind: 'consecutive', failureThreshold: 1 },
      openDurationMs: 1_000,
      clock,
    });
    await failTimes(breaker, 1);
    clock.nowMs = 999;
    await assert.rejects(breaker.execute(succeed), (error: BrokenCircuitError) => error.retryAfterMs === 1);
    clock.nowMs = 1_000;
    assert.equal(breaker.state, 'half-open');
    assert.equal(await breaker.execute(succeed), 'ok');
    assert.equal(breaker.state, 'closed');
  });

  test('a failed probe reopens the breaker for another open duration', async () => {
    const clock = manualClock();
    const breaker = circuitBreaker({
      tripPolicy: { kind: 'consecutive', failureThreshold: 1 },
      openDurationMs: 1_000,
      clock,
    });
    await failTimes(breaker, 1);
    clock.nowMs = 1_500;
    await failTimes(breaker, 1);
    assert.equal(breaker.state, 'open');
    clock.nowMs = 2_499;
    assert.equal(breaker.state, 'open');
    clock.nowMs = 2_500;
    assert.equal(breaker.state, 'half-open');
  });

  test('half-open lets only halfOpenMaxProbes calls through at once', async () => {
    const clock = manualClock();
    const breaker = circuitBreaker({
      tripPolicy: { kind: 'consecutive', failureThreshold: 1 },
      openDurationMs: 10,
      halfOpenMaxProbes: 2,
      clock,
    });
    await failTimes(breaker, 1);
    clock.nowMs = 10;
    const releases: (() => void)[] = [];
    const slowProbe = () => new Promise<string>((resolve) => releases.push(() => resolve('probed')));
    const probes = [breaker.execute(slowProbe), breaker.execute(slowProbe)];
    await assert.rejects(breaker.execute(succeed), BrokenCircuitError);
    for (const release of releases) release();
    assert.deepEqual(await Promise.all(probes), ['probed', 'probed']);
    assert.equal(breaker.state, 'closed');
  });

  test('errors the isFailure predicate excludes pass through without tripping', async () => {
    const breaker = circuitBreaker({
      tripPolicy: { kind: 'consecutive', failureThreshold: 1 },
      isFailure: (error) => !(error instanceof RangeError),
      clock: manualClock(),
    });
    await assert.rejects(
      breaker.execute(async () => {
        throw new RangeError('not found');
      }),
      RangeError,
    );
    assert.equal(breaker.state, 'closed');
  });

  test('results the isFailureResult predicate flags count as failures but are still returned', async () => {
    const breaker = circuitBreaker<{ status: number }>({
      tripPolicy: { kind: 'consecutive', failureThreshold: 2 },
      isFailureResult: (response) => response.status >= 500,
      clock: manualClock(),
    });
    assert.deepEqual(await breaker.execute(async () => ({ status: 503 })), { status: 503 });
    await breaker.execute(async () => ({ status: 500 }));
    assert.equal(breaker.state, 'open');
  });

  test('a slow call that started while closed does not count once the breaker has opened', async () => {
    const clock = manualClock();
    const breaker = circuitBreaker({
      tripPolicy: { kind: 'consecutive', failureThreshold: 1 },
      openDurationMs: 10,
      clock,
    });
    let releaseSlowCall: () => void = () => undefined;
    const slowCall = breaker.execute(
      () => new Promise<string>((resolve) => (releaseSlowCall = () => resolve('late'))),
    );
    await failTimes(breaker, 1);
    clock.nowMs = 10;
    assert.equal(breaker.state, 'half-open');
    releaseSlowCall();
    assert.equal(await slowCall, 'late');
    assert.equal(breaker.state, 'half-open', 'only a probe may close the breaker');
  });

  test('trip and reset force the state', async () => {
    const breaker = circuitBreaker({ clock: manualClock() });
    breaker.trip();
    await assert.rejects(breaker.execute(succeed), BrokenCircuitError);
    breaker.reset();
    assert.equal(await breaker.execute(succeed), 'ok');
  });
});

describe('circuit breaker, failure-rate policy', () => {
  const tripPolicy = {
    kind: 'failure-rate',
    failureRateThreshold: 0.5,
    windowMs: 1_000,
    minimumThroughput: 4,
    bucketCount: 10,
  } as const;

  test('does not open below the minimum throughput, however high the failure rate', async () => {
    const breaker = circuitBreaker({ tripPolicy, clock: manualClock() });
    await failTimes(breaker, 3);
    assert.equal(breaker.state, 'closed');
    await failTimes(breaker, 1);
    assert.equal(breaker.state, 'open');
  });

  test('opens when failures reach the threshold rate within the window', async () => {
    const breaker = circuitBreaker({ tripPolicy, clock: manualClock() });
    for (let call = 0; call < 3; call++) await breaker.execute(succeed);
    await failTimes(breaker, 2);
    assert.equal(breaker.state, 'closed', '2 of 5 failed: 40 %');
    await failTimes(breaker, 1);
    assert.equal(breaker.state, 'open', '3 of 6 failed: 50 %');
  });

  test('outcomes older than the window are forgotten', async () => {
    const clock = manualClock();
    const breaker = circuitBreaker({ tripPolicy, clock });
    await failTimes(breaker, 3);
    clock.nowMs = 1_000;
    await failTimes(breaker, 1);
    assert.equal(breaker.state, 'closed', 'the first three failures left the window');
    clock.nowMs = 1_050;
    await failTimes(breaker, 3);
    assert.equal(breaker.state, 'open');
  });
});

test('listeners receive typed state changes, successes, failures and rejections', async () => {
  const clock = manualClock();
  const breaker = circuitBreaker({
    tripPolicy: { kind: 'consecutive', failureThreshold: 1 },
    openDurationMs: 5,
    clock,
  });
  const seen: string[] = [];
  const stateChanges: CircuitBreakerEvents['stateChange'][] = [];
  breaker.on('stateChange', (event) => stateChanges.push(event));
  breaker.on('success', ({ state }) => seen.push(`success in ${state}`));
  breaker.on('failure', ({ state }) => seen.push(`failure in ${state}`));
  const unsubscribe = breaker.on('rejection', ({ retryAfterMs }) =>
    seen.push(`rejected, retry after ${retryAfterMs}`),
  );
  await breaker.execute(succeed);
  await failTimes(breaker, 1);
  await breaker.execute(succeed).catch(() => undefined);
  unsubscribe();
  await breaker.execute(succeed).catch(() => undefined);
  clock.nowMs = 5;
  await breaker.execute(succeed);
  assert.deepEqual(seen, [
    'success in closed',
    'failure in closed',
    'rejected, retry after 5',
    'success in half-open',
  ]);
  assert.deepEqual(stateChanges, [
    { from: 'closed', to: 'open', atMs: 0 },
    { from: 'open', to: 'half-open', atMs: 5 },
    { from: 'half-open', to: 'closed', atMs: 5 },
  ]);
});
