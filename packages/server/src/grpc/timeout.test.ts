import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseGrpcTimeout } from './timeout.js';

describe('grpc-timeout', () => {
  test('every unit converts to milliseconds', () => {
    assert.equal(parseGrpcTimeout('2H'), 7_200_000);
    assert.equal(parseGrpcTimeout('3M'), 180_000);
    assert.equal(parseGrpcTimeout('1S'), 1_000);
    assert.equal(parseGrpcTimeout('250m'), 250);
    assert.equal(parseGrpcTimeout('1500u'), 1.5);
    assert.equal(parseGrpcTimeout('2000000n'), 2);
    assert.equal(parseGrpcTimeout('0m'), 0);
    assert.equal(parseGrpcTimeout('99999999S'), 99_999_999_000);
  });

  test('malformed values are refused: more than 8 digits, no unit, unknown unit, signs, spaces', () => {
    for (const value of ['123456789m', '100', 'S', '10s', '10x', '-1S', '+1S', ' 1S', '1S ', '1.5S', '']) {
      assert.equal(parseGrpcTimeout(value), undefined, value);
    }
  });
});
