import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Figure, ratioOf } from './report.js';

const figure = (unit: Figure['unit'], synod: number, etcd: number): Figure => ({
  part: 'put',
  name: 'x',
  unit,
  synod,
  etcd,
});

test('a ratio above 1 means synod did better, for rates and for times', () => {
  assert.equal(ratioOf(figure('puts/s', 20_000, 10_000)), 2);
  assert.equal(ratioOf(figure('ms', 5, 10)), 2);
  assert.equal(ratioOf(figure('ms', 20, 10)), 0.5);
});

test('a missing or zero measurement has no ratio', () => {
  assert.equal(ratioOf({ ...figure('ops/s', 1, 1), etcd: undefined }), undefined);
  assert.equal(ratioOf(figure('ops/s', 0, 1)), undefined);
});
