import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseH2loadOutput } from './h2load-put.js';

const SUMMARY = `
finished in 220.09ms, 22718.29 req/s, 1.50MB/s
requests: 5000 total, 5000 started, 5000 done, 5000 succeeded, 0 failed, 0 errored, 0 timeout
status codes: 5000 2xx, 0 3xx, 0 4xx, 0 5xx
traffic: 338.75KB (346878) total, 9.95KB (10192) headers (space savings 94.64%), 161.01KB (164874) data
                     min         max         mean         sd        +/- sd
time for request:      259us     1.02s      5.33ms      2.63ms    81.04%
time for connect:      117us       678us       357us       160us    62.50%
`;

test("h2load's summary gives rate, counts and request times in ms", () => {
  assert.deepEqual(parseH2loadOutput(SUMMARY), {
    requestsPerSecond: 22718,
    succeeded: 5000,
    failed: 0,
    meanLatencyMs: 5.33,
    maxLatencyMs: 1020,
  });
});

test('errored and timed-out requests count as failed', () => {
  const output = SUMMARY.replace(
    '5000 succeeded, 0 failed, 0 errored, 0 timeout',
    '4990 succeeded, 1 failed, 6 errored, 3 timeout',
  );
  assert.equal(parseH2loadOutput(output)?.failed, 10);
  assert.equal(parseH2loadOutput(output)?.succeeded, 4990);
});

test('output without a summary (h2load could not connect) is unreadable, not a zero', () => {
  assert.equal(parseH2loadOutput('client could not connect to host\n'), undefined);
});
