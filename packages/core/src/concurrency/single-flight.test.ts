import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SingleFlight } from './single-flight.js';

test('concurrent calls for one key share a single load', async () => {
  const flights = new SingleFlight<string, number>();
  let loads = 0;
  let finish: (value: number) => void = () => undefined;
  const load = () => {
    loads++;
    return new Promise<number>((resolve) => (finish = resolve));
  };
  const callers = Array.from({ length: 100 }, () => flights.run('user:1', load));
  assert.equal(flights.size, 1);
  finish(7);
  assert.deepEqual(new Set(await Promise.all(callers)), new Set([7]));
  assert.equal(loads, 1);
});

test('different keys load independently, and a settled key loads again', async () => {
  const flights = new SingleFlight<string, string>();
  const loaded: string[] = [];
  const load = (key: string) => async () => {
    loaded.push(key);
    return key;
  };
  await Promise.all([flights.run('a', load('a')), flights.run('b', load('b'))]);
  await flights.run('a', load('a'));
  assert.deepEqual(loaded, ['a', 'b', 'a']);
  assert.equal(flights.size, 0);
});

test('a failure is shared by every waiting caller and not remembered', async () => {
  const flights = new SingleFlight<string, number>();
  const failing = () => Promise.reject(new Error('database down'));
  const results = await Promise.allSettled([flights.run('k', failing), flights.run('k', failing)]);
  assert.deepEqual(
    results.map((result) => result.status),
    ['rejected', 'rejected'],
  );
  assert.equal(await flights.run('k', () => 1), 1);
});

test('forget lets the next call start a fresh load while the old one is still running', async () => {
  const flights = new SingleFlight<string, number>();
  let loads = 0;
  const slow = () => new Promise<number>(() => loads++);
  void flights.run('k', slow);
  flights.forget('k');
  void flights.run('k', slow);
  assert.equal(loads, 2);
});
