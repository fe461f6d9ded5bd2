import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Figure, formatFigure, formatSummary, ratioOf } from './figures.js';

const figure = (better: Figure['better'], synod: number | undefined, etcd: number | undefined): Figure => ({
  part: 'fanout',
  name: 'f',
  unit: 'ms',
  better,
  synod,
  etcd,
});

test('the ratio is above 1 when synod did better, whichever direction is better', () => {
  assert.equal(ratioOf(figure('lower', 1, 2)), 2);
  assert.equal(ratioOf(figure('lower', 4, 2)), 0.5);
  assert.equal(ratioOf(figure('higher', 4, 2)), 2);
  assert.equal(ratioOf(figure('higher', 1, 2)), 0.5);
});

test('a missing or zero side has no ratio', () => {
  assert.equal(ratioOf(figure('lower', undefined, 2)), undefined);
  assert.equal(ratioOf(figure('higher', 0, 2)), undefined);
  assert.equal(ratioOf(figure('higher', Number.NaN, 2)), undefined);
});

test('each line states the better direction, the formula and the verdict; failures show', () => {
  const line = formatFigure({ ...figure('lower', 4, 2), failure: 'lost events' });
  assert.match(line, /synod 4\.00 ms · etcd 2\.00 ms · lower is better · etcd÷synod 0\.50× \(etcd better\)/);
  assert.match(line, /FAILED: lost events/);
  const [header, , row] = formatSummary([figure('higher', 3, 1)]);
  assert.match(header!, /ratio \(>1 = synod better\)/);
  assert.match(row!, /higher\s+3\.00×\s+ok$/);
});
