import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { KvCall, KvOperation } from './history.js';
import type { RegisterValue } from './kv-model.js';
import { applyKv, applyKvToStore, kvRegisterModel, kvStoreModel } from './kv-model.js';

const propertySeed = 0x6b76;

const put = (key: string, value: string): KvCall => ({ kind: 'put', key, value });
const get = (key: string): KvCall => ({ kind: 'get', key });
const cas = (key: string, expected: string | null, value: string): KvCall => ({
  kind: 'cas',
  key,
  expected,
  value,
});

describe('applyKv', () => {
  test('put overwrites, get reads, and neither depends on anything but the register', () => {
    assert.deepEqual(applyKv(null, put('k0', 'a')), { state: 'a', result: {} });
    assert.deepEqual(applyKv('a', put('k0', 'b')), { state: 'b', result: {} });
    assert.deepEqual(applyKv('a', get('k0')), { state: 'a', result: { value: 'a' } });
    assert.deepEqual(applyKv(null, get('k0')), { state: null, result: { value: null } });
  });

  test('cas writes only when the register holds the expected value, null meaning absent', () => {
    assert.deepEqual(applyKv(null, cas('k0', null, 'a')), { state: 'a', result: { succeeded: true } });
    assert.deepEqual(applyKv('a', cas('k0', null, 'b')), { state: 'a', result: { succeeded: false } });
    assert.deepEqual(applyKv('a', cas('k0', 'a', 'b')), { state: 'b', result: { succeeded: true } });
    assert.deepEqual(applyKv('b', cas('k0', 'a', 'c')), { state: 'b', result: { succeeded: false } });
  });
});

const arbitraryCall: fc.Arbitrary<KvCall> = fc.oneof(
  fc.record({
    kind: fc.constant('put' as const),
    key: fc.constantFrom('k0', 'k1', 'k2'),
    value: fc.constantFrom('a', 'b'),
  }),
  fc.record({ kind: fc.constant('get' as const), key: fc.constantFrom('k0', 'k1', 'k2') }),
  fc.record({
    kind: fc.constant('cas' as const),
    key: fc.constantFrom('k0', 'k1', 'k2'),
    expected: fc.constantFrom('a', 'b', null),
    value: fc.constantFrom('a', 'b'),
  }),
);

describe('applyKvToStore', () => {
  test('a store behaves as one independent register per key', () => {
    fc.assert(
      fc.property(fc.array(arbitraryCall, { maxLength: 40 }), (calls) => {
        const store = new Map<string, string>();
        const registers = new Map<string, RegisterValue>();
        for (const call of calls) {
          const expected = applyKv(registers.get(call.key) ?? null, call);
          registers.set(call.key, expected.state);
          assert.deepEqual(applyKvToStore(store, call), expected.result);
          assert.equal(store.get(call.key) ?? null, expected.state);
        }
      }),
      { seed: propertySeed, numRuns: 200 },
    );
  });
});

describe('kvRegisterModel', () => {
  test('accepts an observed result only when it is what the register would return', () => {
    assert.deepEqual(kvRegisterModel.step('a', get('k0'), { value: 'a' }), { ok: true, next: 'a' });
    assert.equal(kvRegisterModel.step('a', get('k0'), { value: 'b' }).ok, false);
    assert.deepEqual(kvRegisterModel.step('a', cas('k0', 'a', 'b'), { succeeded: true }), {
      ok: true,
      next: 'b',
    });
    assert.equal(kvRegisterModel.step('a', cas('k0', 'a', 'b'), { succeeded: false }).ok, false);
    assert.equal(kvRegisterModel.step(null, cas('k0', 'a', 'b'), { succeeded: true }).ok, false);
  });

  test('accepts any outcome of an indeterminate operation and applies it', () => {
    assert.deepEqual(kvRegisterModel.step('a', put('k0', 'b'), undefined), { ok: true, next: 'b' });
    assert.deepEqual(kvRegisterModel.step('a', cas('k0', 'a', 'c'), undefined), { ok: true, next: 'c' });
    assert.deepEqual(kvRegisterModel.step('b', cas('k0', 'a', 'c'), undefined), { ok: true, next: 'b' });
  });

  test('rejects a result of the wrong shape as a bug', () => {
    assert.throws(() => kvRegisterModel.step('a', get('k0'), { succeeded: true }), /does not fit get/);
  });

  test('splits a history by key, in key order, keeping each key’s operations in order', () => {
    const operation = (id: number, call: KvCall): KvOperation => ({
      id,
      process: 0,
      call,
      invokedAt: id,
      completedAt: id,
      outcome: 'indeterminate',
    });
    const parts = kvRegisterModel.partition([
      operation(0, put('k1', 'a')),
      operation(1, get('k0')),
      operation(2, get('k1')),
    ]);
    assert.deepEqual(
      parts.map((part) => part.map((op) => op.id)),
      [[1], [0, 2]],
    );
    assert.deepEqual(
      parts.map((part) => kvRegisterModel.partitionLabel(part)),
      ['k0', 'k1'],
    );
  });

  test('tells absent apart from every string, and names states and calls readably', () => {
    assert.notEqual(kvRegisterModel.stateKey(null), kvRegisterModel.stateKey('-1'));
    assert.notEqual(kvRegisterModel.stateKey(null), kvRegisterModel.stateKey(''));
    assert.equal(kvRegisterModel.describeState(null), 'absent');
    assert.equal(kvRegisterModel.describeState('a'), '"a"');
    assert.equal(kvRegisterModel.describe(get('k1'), { value: 'v7' }), 'get(k1) → "v7"');
    assert.equal(kvRegisterModel.describe(cas('k1', null, 'v'), undefined), 'cas(k1,null,"v")');
  });

  test('knows which operations only observe and which overwrite blindly', () => {
    assert.equal(kvRegisterModel.isReadOnly(get('k0'), undefined), true);
    assert.equal(kvRegisterModel.isReadOnly(cas('k0', 'a', 'b'), { succeeded: false }), true);
    assert.equal(kvRegisterModel.isReadOnly(cas('k0', 'a', 'b'), { succeeded: true }), false);
    assert.equal(kvRegisterModel.isReadOnly(cas('k0', 'a', 'b'), undefined), false);
    assert.equal(kvRegisterModel.isReadOnly(put('k0', 'a'), {}), false);
    assert.equal(kvRegisterModel.isBlindWrite(put('k0', 'a')), true);
    assert.equal(kvRegisterModel.isBlindWrite(cas('k0', null, 'a')), false);
  });
});

describe('kvStoreModel', () => {
  test('steps through a whole store exactly as per-key registers do', () => {
    fc.assert(
      fc.property(fc.array(arbitraryCall, { maxLength: 30 }), (calls) => {
        let store = kvStoreModel.init();
        const registers = new Map<string, RegisterValue>();
        for (const call of calls) {
          const applied = applyKv(registers.get(call.key) ?? null, call);
          registers.set(call.key, applied.state);
          const outcome = kvStoreModel.step(store, call, applied.result);
          assert.equal(outcome.ok, true);
          store = outcome.next;
          const expected = [...registers]
            .filter(([, value]) => value !== null)
            .sort(([a], [b]) => (a < b ? -1 : 1));
          assert.deepEqual(store, expected);
        }
      }),
      { seed: propertySeed, numRuns: 200 },
    );
  });
});
