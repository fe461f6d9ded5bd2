import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { CountMinSketch } from './count-min.js';
import { SketchMismatchError } from './errors.js';

/** A Zipf-like stream: key i appears about 1000/(i+1) times, so a few keys are heavy. */
function skewedStream(keyCount: number): Map<string, number> {
  const truth = new Map<string, number>();
  for (let index = 0; index < keyCount; index++) truth.set(`key:${index}`, Math.ceil(1000 / (index + 1)));
  return truth;
}

describe('CountMinSketch', () => {
  test('sizes w = ⌈e/ε⌉ and d = ⌈ln 1/δ⌉', () => {
    const sketch = CountMinSketch.create(0.01, 0.01);
    assert.equal(sketch.width, 272);
    assert.equal(sketch.depth, 5);
  });

  for (const conservativeUpdate of [false, true]) {
    test(`${conservativeUpdate ? 'conservative' : 'standard'} update: never underestimates, and overestimates by more than εN for at most a δ fraction of keys`, () => {
      const epsilon = 0.002;
      const delta = 0.01;
      const sketch = CountMinSketch.create(epsilon, delta, { conservativeUpdate });
      const truth = skewedStream(5000);
      for (const [key, count] of truth) sketch.add(key, count);
      let tooHigh = 0;
      for (const [key, count] of truth) {
        const estimate = sketch.estimate(key);
        assert.ok(estimate >= count, `${key}: ${estimate} < ${count}`);
        if (estimate - count > epsilon * sketch.totalCount) tooHigh++;
      }
      assert.ok(tooHigh <= delta * truth.size, `${tooHigh} of ${truth.size} keys above εN`);
    });
  }

  test('conservative update is never looser than the standard one', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string({ maxLength: 4 }), fc.nat(20)), { maxLength: 200, size: 'max' }),
        (stream) => {
          const standard = new CountMinSketch(16, 3);
          const conservative = new CountMinSketch(16, 3, { conservativeUpdate: true });
          const truth = new Map<string, number>();
          for (const [key, count] of stream) {
            standard.add(key, count);
            conservative.add(key, count);
            truth.set(key, (truth.get(key) ?? 0) + count);
          }
          for (const [key, count] of truth) {
            assert.ok(conservative.estimate(key) >= count);
            assert.ok(conservative.estimate(key) <= standard.estimate(key));
          }
        },
      ),
    );
  });

  test('merging two sketches equals sketching the concatenated streams', () => {
    const left = new CountMinSketch(64, 4);
    const right = new CountMinSketch(64, 4);
    const whole = new CountMinSketch(64, 4);
    for (let index = 0; index < 300; index++) {
      (index % 2 === 0 ? left : right).add(`key:${index % 37}`, index);
      whole.add(`key:${index % 37}`, index);
    }
    left.merge(right);
    assert.equal(left.totalCount, whole.totalCount);
    for (let index = 0; index < 37; index++)
      assert.equal(left.estimate(`key:${index}`), whole.estimate(`key:${index}`));
    assert.throws(() => left.merge(new CountMinSketch(32, 4)), SketchMismatchError);
  });

  test('an unseen key in an empty sketch estimates zero, and negative counts are refused', () => {
    const sketch = CountMinSketch.create(0.1, 0.1);
    assert.equal(sketch.estimate('nothing'), 0);
    assert.throws(() => sketch.add('key', -1), RangeError);
  });
});
