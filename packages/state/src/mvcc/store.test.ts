import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ETCD_ERRORS,
  type EtcdError,
  type KeyValue,
  type KvWriteRequest,
  type RangeRequest,
  type RangeResponse,
  type RequestOp,
  type TxnResponse,
} from './etcd-types.js';
import { bytes, compare, op, prefixEnd, rangeRequest, text, write } from './mvcc.fixture.js';
import { type AppliedWrite, MvccStore } from './store.js';

function applied(result: AppliedWrite | { error: EtcdError }): AppliedWrite {
  if ('error' in result) assert.fail(`expected success, got ${result.error.message}`);
  return result;
}

function ranged(result: RangeResponse | { error: EtcdError }): RangeResponse {
  if ('error' in result) assert.fail(`expected a range response, got ${result.error.message}`);
  return result;
}

function txnResponse(result: AppliedWrite | { error: EtcdError }): TxnResponse {
  const response = applied(result).response;
  assert.equal(response.kind, 'txn');
  return response.response;
}

/** Keys and values of a range, as "key=value". */
function pairs(result: RangeResponse | { error: EtcdError }): string[] {
  return ranged(result).kvs.map((kv) => `${text(kv.key)}=${text(kv.value)}`);
}

function get(store: MvccStore, key: string, options: Partial<RangeRequest> = {}): KeyValue | undefined {
  return ranged(store.range(rangeRequest(key, '', options))).kvs[0];
}

function storeWith(...writes: KvWriteRequest[]): MvccStore {
  const store = new MvccStore();
  for (const request of writes) applied(store.apply(request));
  return store;
}

/** Applies a request expected to fail and checks it left no trace. */
function assertRejected(store: MvccStore, request: KvWriteRequest, error: EtcdError): void {
  const before = store.snapshot();
  assert.deepEqual(store.apply(request), { error });
  assert.deepEqual(store.snapshot(), before, 'a failed request changed the store');
}

describe('revisions (etcd data model: revision, create_revision, mod_revision, version)', () => {
  test('a new store is at revision 1 and was never compacted (etcd reports compact revision -1)', () => {
    const store = new MvccStore();
    assert.equal(store.currentRevision, 1);
    assert.equal(store.compactedRevision, -1);
    assert.deepEqual(ranged(store.range(rangeRequest('\0', '\0'))), { kvs: [], more: false, count: 0 });
  });

  test('each put advances the revision by one; version counts puts since creation', () => {
    const store = new MvccStore();
    assert.equal(applied(store.apply(write.put('a', '1'))).revision, 2);
    assert.equal(applied(store.apply(write.put('b', '1'))).revision, 3);
    assert.equal(applied(store.apply(write.put('a', '2'))).revision, 4);
    const a = get(store, 'a');
    assert.deepEqual(a, {
      key: bytes('a'),
      createRevision: 2,
      modRevision: 4,
      version: 2,
      value: bytes('2'),
      lease: 0n,
    });
  });

  test('putting the same value again is still a modification (etcd records every put)', () => {
    const store = storeWith(write.put('a', 'same'));
    assert.equal(applied(store.apply(write.put('a', 'same'))).revision, 3);
    assert.equal(get(store, 'a')?.version, 2);
  });

  test('a delete resets the version; re-creation starts at version 1 with a new createRevision', () => {
    const store = storeWith(write.put('a', '1'), write.put('a', '2'), write.delete('a'), write.put('a', '3'));
    assert.deepEqual(get(store, 'a'), {
      key: bytes('a'),
      createRevision: 5,
      modRevision: 5,
      version: 1,
      value: bytes('3'),
      lease: 0n,
    });
    assert.equal(get(store, 'a', { revision: 4 }), undefined);
    assert.equal(get(store, 'a', { revision: 3 })?.version, 2);
  });

  test('a delete that matches no key does not advance the revision (etcd: deleted 0, same header revision)', () => {
    const store = storeWith(write.put('a', '1'));
    const result = applied(store.apply(write.delete('zz')));
    assert.equal(result.revision, 2);
    assert.deepEqual(result.events, []);
    assert.deepEqual(result.response, { kind: 'deleteRange', response: { deleted: 0, prevKvs: [] } });
  });

  test('a txn that only reads, or whose chosen branch is empty, does not advance the revision', () => {
    const store = storeWith(write.put('a', '1'));
    assert.equal(applied(store.apply(write.txn([], [op.range('a')]))).revision, 2);
    assert.equal(
      applied(store.apply(write.txn([compare('a', 'VERSION', 'EQUAL', 9)], [op.put('a', 'x')]))).revision,
      2,
    );
    assert.equal(applied(store.apply(write.txn([], [op.delete('nothing')]))).revision, 2);
  });

  test('a txn with several writes advances the revision once; its events share it in sub-revision order', () => {
    const store = storeWith(write.put('a', '1'));
    const result = applied(store.apply(write.txn([], [op.put('b', '1'), op.delete('a'), op.put('c', '1')])));
    assert.equal(result.revision, 3);
    assert.deepEqual(
      result.events.map((event) => `${event.type} ${text(event.kv.key)}@${event.kv.modRevision}`),
      ['PUT b@3', 'DELETE a@3', 'PUT c@3'],
    );
  });

  test('a DELETE event carries the key with the deletion revision; prevKv is the key before the revision', () => {
    const store = storeWith(write.put('a', '1'));
    const [event] = applied(store.apply(write.delete('a'))).events;
    assert.deepEqual(event, {
      type: 'DELETE',
      kv: {
        key: bytes('a'),
        createRevision: 0,
        modRevision: 3,
        version: 0,
        value: new Uint8Array(0),
        lease: 0n,
      },
      prevKv: {
        key: bytes('a'),
        createRevision: 2,
        modRevision: 2,
        version: 1,
        value: bytes('1'),
        lease: 0n,
      },
    });
  });

  test('a PUT event of a new key has version 1 and no prevKv (creation)', () => {
    const [event] = applied(new MvccStore().apply(write.put('k', 'v'))).events;
    assert.equal(event?.type, 'PUT');
    assert.equal(event?.kv.version, 1);
    assert.equal(event?.prevKv, undefined);
  });

  test('a PUT event that re-creates a key deleted earlier in the same txn has no prevKv (etcd watch: creations have none)', () => {
    const store = storeWith(write.put('b', 'old'));
    const result = applied(store.apply(write.txn([], [op.delete('a', '\0'), op.put('b', 'new')])));
    assert.deepEqual(
      result.events.map(
        (e) => `${e.type} ${text(e.kv.key)} v${e.kv.version} prev=${e.prevKv && text(e.prevKv.value)}`,
      ),
      ['DELETE b v0 prev=old', 'PUT b v1 prev=undefined'],
    );
  });

  test('the store keeps its own copy of keys and values (a reused request buffer changes nothing)', () => {
    const store = new MvccStore();
    const request = write.put('key', 'value');
    applied(store.apply(request));
    if (request.kind === 'put') {
      request.request.key.fill(0x7a);
      request.request.value.fill(0x7a);
    }
    assert.deepEqual(pairs(store.range(rangeRequest('key'))), ['key=value']);
  });
});

describe('put (etcd PutRequest: prev_kv, ignore_value, ignore_lease, lease)', () => {
  test('prevKv returns the previous key-value only when asked and when the key existed', () => {
    const store = new MvccStore();
    assert.deepEqual(applied(store.apply(write.put('a', '1', { prevKv: true }))).response, {
      kind: 'put',
      response: { prevKv: undefined },
    });
    const second = applied(store.apply(write.put('a', '2', { prevKv: true }))).response;
    assert.equal(second.kind === 'put' && text(second.response.prevKv!.value), '1');
    const third = applied(store.apply(write.put('a', '3'))).response;
    assert.deepEqual(third, { kind: 'put', response: { prevKv: undefined } });
  });

  test('the lease is stored as given', () => {
    const store = storeWith(write.put('a', '1', { lease: 0x1234n }));
    assert.equal(get(store, 'a')?.lease, 0x1234n);
  });

  test('ignoreValue keeps the value and ignoreLease keeps the lease, while version and revision move on', () => {
    const store = storeWith(write.put('a', 'kept', { lease: 7n }));
    applied(store.apply(write.put('a', '', { ignoreValue: true, lease: 9n })));
    assert.deepEqual(get(store, 'a'), {
      key: bytes('a'),
      createRevision: 2,
      modRevision: 3,
      version: 2,
      value: bytes('kept'),
      lease: 9n,
    });
    applied(store.apply(write.put('a', 'new', { ignoreLease: true })));
    assert.deepEqual(get(store, 'a'), {
      key: bytes('a'),
      createRevision: 2,
      modRevision: 4,
      version: 3,
      value: bytes('new'),
      lease: 9n,
    });
  });

  test('ignoreValue or ignoreLease on a missing key fails with "key not found"', () => {
    const store = storeWith(write.put('a', '1'), write.delete('a'));
    assertRejected(store, write.put('a', '', { ignoreValue: true }), ETCD_ERRORS.keyNotFound);
    assertRejected(store, write.put('b', 'x', { ignoreLease: true }), ETCD_ERRORS.keyNotFound);
  });

  test('ignoreValue with a value, or ignoreLease with a lease, is refused as etcd does', () => {
    const store = storeWith(write.put('a', '1'));
    assertRejected(store, write.put('a', 'x', { ignoreValue: true }), ETCD_ERRORS.valueProvided);
    assertRejected(store, write.put('a', '', { ignoreLease: true, lease: 5n }), ETCD_ERRORS.leaseProvided);
  });

  test('an empty key is refused with "key is not provided"', () => {
    const store = new MvccStore();
    assertRejected(store, write.put('', 'x'), ETCD_ERRORS.emptyKey);
    assertRejected(store, write.delete(''), ETCD_ERRORS.emptyKey);
    assert.deepEqual(store.range(rangeRequest('')), { error: ETCD_ERRORS.emptyKey });
  });
});

describe('key ranges (etcd: range_end empty, key+1 for a prefix, "\\0" for every key from key on)', () => {
  const keys = ['a', 'a/1', 'a/2', 'a\xff', 'b', 'c'];
  const store = storeWith(...keys.map((key) => write.put(key, 'v')));
  const keysOf = (result: RangeResponse | { error: EtcdError }) =>
    ranged(result).kvs.map((kv) => text(kv.key));

  test('an empty range end reads one key', () => {
    assert.deepEqual(keysOf(store.range(rangeRequest('a/1'))), ['a/1']);
    assert.deepEqual(keysOf(store.range(rangeRequest('a/3'))), []);
  });

  test('a prefix reads the keys that start with it, in byte order', () => {
    assert.deepEqual(keysOf(store.range(rangeRequest('a/', prefixEnd('a/')))), ['a/1', 'a/2']);
    assert.deepEqual(keysOf(store.range(rangeRequest('a', prefixEnd('a')))), ['a', 'a/1', 'a/2', 'a\xff']);
  });

  test('range end "\\0" reads every key from key on; key and range end "\\0" read every key', () => {
    assert.deepEqual(keysOf(store.range(rangeRequest('b', '\0'))), ['b', 'c']);
    assert.deepEqual(keysOf(store.range(rangeRequest('\0', '\0'))), keys);
  });

  test('a range end at or before the key reads nothing', () => {
    assert.deepEqual(ranged(store.range(rangeRequest('b', 'a'))), { kvs: [], more: false, count: 0 });
    assert.deepEqual(ranged(store.range(rangeRequest('b', 'b'))), { kvs: [], more: false, count: 0 });
  });

  test('delete ranges use the same forms and report the keys they deleted', () => {
    const local = storeWith(...keys.map((key) => write.put(key, 'v')));
    const prefix = applied(local.apply(write.delete('a/', prefixEnd('a/'), true)));
    assert.deepEqual(prefix.response.kind === 'deleteRange' && prefix.response.response.deleted, 2);
    const fromB = applied(local.apply(write.delete('b', '\0', true))).response;
    assert.deepEqual(fromB.kind === 'deleteRange' && fromB.response.prevKvs.map((kv) => text(kv.key)), [
      'b',
      'c',
    ]);
    assert.deepEqual(keysOf(local.range(rangeRequest('\0', '\0'))), ['a', 'a\xff']);
  });
});

describe('range options (etcd RangeRequest: limit, count, sort, keys_only, count_only, revision filters)', () => {
  // a@2 b@3 c@4, then b is put again at 5 (version 2) and d created at 6
  const store = storeWith(
    write.put('a', 'z'),
    write.put('b', 'y'),
    write.put('c', 'x'),
    write.put('b', 'w'),
    write.put('d', 'a'),
  );
  const all = (options: Partial<RangeRequest>) => store.range(rangeRequest('\0', '\0', options));

  test('limit returns the first keys, sets more, and count still counts every key in the range', () => {
    const result = ranged(all({ limit: 2 }));
    assert.deepEqual(
      result.kvs.map((kv) => text(kv.key)),
      ['a', 'b'],
    );
    assert.equal(result.more, true);
    assert.equal(result.count, 4);
    assert.equal(ranged(all({ limit: 4 })).more, false);
    assert.equal(ranged(all({ limit: -3 })).kvs.length, 4, 'a negative limit is no limit');
  });

  test('countOnly returns the count and no key-values; keysOnly drops values', () => {
    assert.deepEqual(ranged(all({ countOnly: true, limit: 1 })), { kvs: [], more: false, count: 4 });
    assert.deepEqual(
      ranged(all({ keysOnly: true })).kvs.map((kv) => kv.value.length),
      [0, 0, 0, 0],
    );
  });

  test('sort order DESCEND without a target sorts by key, descending', () => {
    assert.deepEqual(pairs(all({ sortOrder: 'DESCEND' })), ['d=a', 'c=x', 'b=w', 'a=z']);
  });

  test('a sort target without an order sorts ascending by that target (etcd defaults the order)', () => {
    assert.deepEqual(pairs(all({ sortTarget: 'VALUE' })), ['d=a', 'b=w', 'c=x', 'a=z']);
    assert.deepEqual(pairs(all({ sortTarget: 'MOD', sortOrder: 'DESCEND' })), ['d=a', 'b=w', 'c=x', 'a=z']);
    assert.deepEqual(pairs(all({ sortTarget: 'CREATE', sortOrder: 'DESCEND' })), [
      'd=a',
      'c=x',
      'b=w',
      'a=z',
    ]);
  });

  test('ties in the sort target keep key order', () => {
    assert.deepEqual(pairs(all({ sortTarget: 'VERSION', sortOrder: 'DESCEND' })), [
      'b=w',
      'a=z',
      'c=x',
      'd=a',
    ]);
  });

  test('with a limit and a target but no order, etcd sorts only the first limit + 1 keys it fetched', () => {
    // Keys a,b,c are fetched (limit 2 + 1); d, whose value sorts first, is never seen.
    const result = ranged(all({ sortTarget: 'VALUE', limit: 2 }));
    assert.deepEqual(
      result.kvs.map((kv) => `${text(kv.key)}=${text(kv.value)}`),
      ['b=w', 'c=x'],
    );
    assert.equal(result.more, true);
    // With an explicit order etcd fetches everything before sorting.
    assert.deepEqual(pairs(all({ sortTarget: 'VALUE', sortOrder: 'ASCEND', limit: 2 })), ['d=a', 'b=w']);
  });

  test('min/max mod and create revision filters apply before the limit and do not change count', () => {
    assert.deepEqual(pairs(all({ minModRevision: 4 })), ['b=w', 'c=x', 'd=a']);
    assert.deepEqual(pairs(all({ maxModRevision: 4 })), ['a=z', 'c=x']);
    assert.deepEqual(pairs(all({ minCreateRevision: 3, maxCreateRevision: 4 })), ['b=w', 'c=x']);
    const limited = ranged(all({ minModRevision: 4, limit: 1 }));
    assert.deepEqual([limited.kvs.length, limited.more, limited.count], [1, true, 4]);
  });

  test('an unknown sort order or target is refused with "invalid sort option"', () => {
    const badOrder = { sortOrder: 'SIDEWAYS' } as unknown as Partial<RangeRequest>;
    assert.deepEqual(all(badOrder), { error: ETCD_ERRORS.invalidSortOption });
    const badTarget = { sortTarget: 'LEASE' } as unknown as Partial<RangeRequest>;
    assert.deepEqual(all(badTarget), { error: ETCD_ERRORS.invalidSortOption });
  });

  test('a past revision reads the store as it was; a future one is refused', () => {
    assert.deepEqual(pairs(all({ revision: 3 })), ['a=z', 'b=y']);
    assert.deepEqual(pairs(all({ revision: 1 })), []);
    assert.deepEqual(all({ revision: 7 }), { error: ETCD_ERRORS.futureRevision });
    assert.equal(ranged(all({ revision: -4 })).count, 4, 'a revision ≤ 0 reads the latest');
  });
});

describe('txn compares (etcd Compare: VERSION, CREATE, MOD, VALUE, LEASE × EQUAL, GREATER, LESS, NOT_EQUAL)', () => {
  // k: created at 2, modified at 3, version 2, value "m", lease 5
  const store = storeWith(write.put('k', 'a', { lease: 5n }), write.put('k', 'm', { lease: 5n }));
  const holds = (...compares: Parameters<typeof compare>[]) =>
    txnResponse(
      store.apply(
        write.txn(
          compares.map((args) => compare(...args)),
          [],
        ),
      ),
    ).succeeded;

  test('each target compares its own field', () => {
    assert.equal(holds(['k', 'VERSION', 'EQUAL', 2]), true);
    assert.equal(holds(['k', 'CREATE', 'EQUAL', 2]), true);
    assert.equal(holds(['k', 'MOD', 'EQUAL', 3]), true);
    assert.equal(holds(['k', 'VALUE', 'EQUAL', 'm']), true);
    assert.equal(holds(['k', 'LEASE', 'EQUAL', 5n]), true);
    assert.equal(holds(['k', 'MOD', 'EQUAL', 2]), false);
  });

  test('each result is the comparison of the stored field with the operand', () => {
    assert.equal(holds(['k', 'VALUE', 'GREATER', 'a']), true);
    assert.equal(holds(['k', 'VALUE', 'LESS', 'n']), true);
    assert.equal(holds(['k', 'VALUE', 'LESS', 'm']), false);
    assert.equal(holds(['k', 'VERSION', 'NOT_EQUAL', 1]), true);
    assert.equal(holds(['k', 'LEASE', 'LESS', 6n]), true);
    assert.equal(holds(['k', 'CREATE', 'GREATER', 2]), false);
  });

  test('compares are a conjunction', () => {
    assert.equal(holds(['k', 'VERSION', 'EQUAL', 2], ['k', 'VALUE', 'EQUAL', 'm']), true);
    assert.equal(holds(['k', 'VERSION', 'EQUAL', 2], ['k', 'VALUE', 'EQUAL', 'x']), false);
  });

  test('a missing key compares as version, revisions and lease 0 (the lock recipe tests CreateRevision == 0)', () => {
    assert.equal(holds(['missing', 'CREATE', 'EQUAL', 0]), true);
    assert.equal(holds(['missing', 'VERSION', 'EQUAL', 0]), true);
    assert.equal(holds(['missing', 'MOD', 'LESS', 1]), true);
    assert.equal(holds(['missing', 'LEASE', 'EQUAL', 0n]), true);
  });

  test('a VALUE compare on a missing key always fails, even NOT_EQUAL', () => {
    assert.equal(holds(['missing', 'VALUE', 'EQUAL', '']), false);
    assert.equal(holds(['missing', 'VALUE', 'NOT_EQUAL', 'x']), false);
  });

  test('with a range end every key in the range must satisfy the compare; an empty range compares as missing', () => {
    const ranged3 = storeWith(write.put('p/1', 'x'), write.put('p/2', 'x'), write.put('q', 'y'));
    const holdsIn = (...args: Parameters<typeof compare>) =>
      txnResponse(ranged3.apply(write.txn([compare(...args)], []))).succeeded;
    assert.equal(holdsIn('p/', 'VALUE', 'EQUAL', 'x', 'p0'), true);
    assert.equal(holdsIn('p/', 'VALUE', 'EQUAL', 'x', '\0'), false, 'q is in ["p/", ∞)');
    assert.equal(holdsIn('p/', 'MOD', 'LESS', 4, 'p0'), true);
    assert.equal(holdsIn('p/', 'MOD', 'LESS', 3, 'p0'), false);
    assert.equal(holdsIn('x/', 'VERSION', 'EQUAL', 0, 'x0'), true);
    assert.equal(holdsIn('x/', 'VALUE', 'NOT_EQUAL', 'z', 'x0'), false);
  });
});

describe('txn execution', () => {
  test('the success branch runs when every compare holds, the failure branch otherwise', () => {
    const store = storeWith(write.put('a', '1'));
    const then = txnResponse(
      store.apply(
        write.txn([compare('a', 'VALUE', 'EQUAL', '1')], [op.put('b', 'then')], [op.put('b', 'else')]),
      ),
    );
    assert.equal(then.succeeded, true);
    const otherwise = txnResponse(
      store.apply(
        write.txn([compare('a', 'VALUE', 'EQUAL', '9')], [op.put('c', 'then')], [op.put('c', 'else')]),
      ),
    );
    assert.equal(otherwise.succeeded, false);
    assert.deepEqual(pairs(store.range(rangeRequest('b', 'd'))), ['b=then', 'c=else']);
  });

  test('reads inside a txn see the txn’s earlier writes, with the txn’s revision', () => {
    const store = storeWith(write.put('a', '1'));
    const response = txnResponse(
      store.apply(
        write.txn([], [op.range('a'), op.put('a', '2'), op.range('a'), op.delete('b'), op.range('\0', '\0')]),
      ),
    );
    const reads = response.responses
      .filter((r) => r.kind === 'range')
      .map((r) =>
        r.kind === 'range' ? r.response.kvs.map((kv) => `${text(kv.value)}@${kv.modRevision}`) : [],
      );
    assert.deepEqual(reads, [['1@2'], ['2@3'], ['2@3']]);
  });

  test('a later nested txn may delete what an earlier one put: both land at one revision, prevKv is the key before it', () => {
    const store = storeWith(write.put('a', '1'), write.put('a', '2'));
    const result = applied(
      store.apply(write.txn([], [op.txn([], [op.put('a', '3')]), op.txn([], [op.delete('a')])])),
    );
    assert.deepEqual(
      result.events.map((e) => `${e.type} v${e.kv.version} prev=${e.prevKv && text(e.prevKv.value)}`),
      ['PUT v3 prev=2', 'DELETE v0 prev=2'],
    );
    assert.equal(get(store, 'a'), undefined);
    assert.equal(store.currentRevision, 4);
  });

  test('nested txns decide their compares before the outer txn writes (etcd compareToPath)', () => {
    const store = new MvccStore();
    const response = txnResponse(
      store.apply(
        write.txn(
          [],
          [
            op.put('flag', 'set'),
            op.txn(
              [compare('flag', 'VERSION', 'EQUAL', 0)],
              [op.put('seen', 'absent')],
              [op.put('seen', 'present')],
            ),
          ],
        ),
      ),
    );
    const nested = response.responses[1];
    assert.equal(nested?.kind === 'txn' && nested.response.succeeded, true);
    assert.equal(text(get(store, 'seen')!.value), 'absent');
  });

  test('responses mirror the ops of the branch taken, nested txns included', () => {
    const store = storeWith(write.put('a', '1'));
    const response = txnResponse(
      store.apply(
        write.txn(
          [],
          [op.put('b', '1', { prevKv: true }), op.delete('a', '', true), op.txn([], [op.range('b')])],
        ),
      ),
    );
    assert.deepEqual(
      response.responses.map((r) => r.kind),
      ['put', 'deleteRange', 'txn'],
    );
    const nested = response.responses[2];
    assert.equal(nested?.kind === 'txn' && nested.response.responses[0]?.kind, 'range');
  });
});

describe('txn validation (etcd v3rpc checkTxnRequest and checkIntervals, before any change)', () => {
  const puts = (count: number, prefix = 'k'): RequestOp[] =>
    Array.from({ length: count }, (_, i) => op.put(`${prefix}${i}`, 'v'));

  test('128 ops in one branch are accepted; 129 are "too many operations" (etcd counts the longest list per level)', () => {
    const store = new MvccStore();
    assert.equal(applied(store.apply(write.txn([], puts(128)))).events.length, 128);
    assertRejected(store, write.txn([], puts(129)), ETCD_ERRORS.tooManyOps);
    const compares = Array.from({ length: 129 }, () => compare('k0', 'VERSION', 'GREATER', 0));
    assertRejected(store, write.txn(compares, []), ETCD_ERRORS.tooManyOps);
    // Per level: 100 success + 100 failure + a nested 100 is within the limit.
    assert.equal(
      applied(store.apply(write.txn([], [...puts(99, 'x'), op.txn([], puts(100, 'y'))], puts(100, 'z'))))
        .events.length,
      199,
    );
    assertRejected(store, write.txn([], [op.txn([], puts(129, 'n'))]), ETCD_ERRORS.tooManyOps);
  });

  test('the limit on ops per level follows the store option (etcd --max-txn-ops)', () => {
    const store = new MvccStore({ maxTxnOps: 2 });
    assertRejected(store, write.txn([], puts(3)), ETCD_ERRORS.tooManyOps);
  });

  test('an empty key in a compare or an op is refused', () => {
    const store = new MvccStore();
    assertRejected(store, write.txn([compare('', 'VERSION', 'EQUAL', 0)], []), ETCD_ERRORS.emptyKey);
    assertRejected(store, write.txn([], [op.put('a', '1'), op.range('')]), ETCD_ERRORS.emptyKey);
    assertRejected(store, write.txn([], [], [op.txn([], [op.delete('')])]), ETCD_ERRORS.emptyKey);
  });

  test('an op with no request is refused with "key not found", as etcd answers an empty RequestOp', () => {
    const empty = { kind: 'nothing' } as unknown as RequestOp;
    assertRejected(new MvccStore(), write.txn([], [empty]), ETCD_ERRORS.keyNotFound);
  });

  test('two puts of one key in a branch are a duplicate key', () => {
    assertRejected(
      new MvccStore(),
      write.txn([], [op.put('a', '1'), op.put('a', '2')]),
      ETCD_ERRORS.duplicateKey,
    );
  });

  test('a put inside a delete range of the same branch is a duplicate key, whatever their order', () => {
    const store = new MvccStore();
    assertRejected(store, write.txn([], [op.delete('a', 'c'), op.put('b', '1')]), ETCD_ERRORS.duplicateKey);
    assertRejected(store, write.txn([], [op.put('b', '1'), op.delete('b')]), ETCD_ERRORS.duplicateKey);
    assertRejected(
      store,
      write.txn([], [], [op.put('b', '1'), op.delete('a', 'c')]),
      ETCD_ERRORS.duplicateKey,
    );
  });

  test('puts and deletes of one key in different branches are allowed (only one branch runs)', () => {
    const store = storeWith(write.put('a', '0'));
    applied(store.apply(write.txn([], [op.put('a', '1')], [op.put('a', '2')])));
    applied(store.apply(write.txn([], [op.delete('a')], [op.put('a', '2')])));
    applied(store.apply(write.txn([], [op.txn([], [op.put('a', 'then')], [op.put('a', 'else')])])));
  });

  test('a nested put clashing with an outer put or delete, or an earlier nested delete, is a duplicate key', () => {
    const store = new MvccStore();
    assertRejected(
      store,
      write.txn([], [op.put('a', '1'), op.txn([], [op.put('a', '2')])]),
      ETCD_ERRORS.duplicateKey,
    );
    assertRejected(
      store,
      write.txn([], [op.delete('a', 'z'), op.txn([], [], [op.put('m', '2')])]),
      ETCD_ERRORS.duplicateKey,
    );
    assertRejected(
      store,
      write.txn([], [op.txn([], [op.delete('a')]), op.txn([], [op.put('a', '1')])]),
      ETCD_ERRORS.duplicateKey,
    );
    assertRejected(
      store,
      write.txn([], [op.txn([], [op.put('a', '1')]), op.txn([], [], [op.put('a', '2')])]),
      ETCD_ERRORS.duplicateKey,
    );
  });

  test('etcd’s gaps are kept: a later nested delete of an earlier nested put, and a "\\0" delete range, pass', () => {
    const store = new MvccStore();
    applied(store.apply(write.txn([], [op.txn([], [op.put('a', '1')]), op.txn([], [op.delete('a')])])));
    const fromKey = applied(store.apply(write.txn([], [op.put('b', '1'), op.delete('a', '\0')])));
    assert.deepEqual(
      fromKey.events.map((e) => `${e.type} ${text(e.kv.key)}`),
      ['PUT b', 'DELETE b'],
    );
  });

  test('a put with ignoreValue on a key missing before the txn fails the whole txn', () => {
    const store = storeWith(write.put('a', '1'));
    assertRejected(
      store,
      write.txn([], [op.put('b', '2'), op.put('c', '', { ignoreValue: true })]),
      ETCD_ERRORS.keyNotFound,
    );
    // Only the branch taken is checked.
    applied(store.apply(write.txn([], [op.put('b', '2')], [op.put('c', '', { ignoreValue: true })])));
  });

  test('a put with ignoreValue of a key an earlier op of the txn deleted is refused whole (etcd 3.4 panics here)', () => {
    // etcd's duplicate-key check misses this pair ("\0" range end); etcd then hits "key not found"
    // mid-apply and panics. We undo the txn's earlier changes, new keys included, and refuse it.
    const store = storeWith(write.put('a\0', 'v'));
    const statsBefore = store.stats;
    assertRejected(
      store,
      write.txn([], [op.put('new', '1'), op.delete('a', '\0'), op.put('a\0', '', { ignoreValue: true })]),
      ETCD_ERRORS.keyNotFound,
    );
    assert.deepEqual(store.stats, statsBefore);
    assert.equal(get(store, 'new'), undefined);
    assert.equal(applied(store.apply(write.put('b', '1'))).revision, 3);
  });

  test('a read inside a txn at a future or compacted revision fails the whole txn before it writes', () => {
    const store = storeWith(write.put('a', '1'), write.put('a', '2'), write.compact(2));
    assertRejected(
      store,
      write.txn([], [op.put('b', '1'), op.range('a', '', { revision: 4 })]),
      ETCD_ERRORS.futureRevision,
    );
    assertRejected(
      store,
      write.txn([], [op.put('b', '1'), op.range('a', '', { revision: 1 })]),
      ETCD_ERRORS.compacted,
    );
    // Unlike a plain Range, a negative revision below the compaction point is refused inside a txn.
    assertRejected(store, write.txn([], [op.range('a', '', { revision: -1 })]), ETCD_ERRORS.compacted);
    const atCompaction = txnResponse(store.apply(write.txn([], [op.range('a', '', { revision: 2 })])));
    const read = atCompaction.responses[0];
    assert.equal(read?.kind === 'range' && text(read.response.kvs[0]!.value), '1');
  });

  test('puts on the branch taken are checked before ranges, whatever their order (etcd checks in two passes)', () => {
    const store = storeWith(write.put('a', '1'));
    assertRejected(
      store,
      write.txn([], [op.range('a', '', { revision: 9 }), op.put('missing', '', { ignoreLease: true })]),
      ETCD_ERRORS.keyNotFound,
    );
  });

  test('txns nested deeper than the nesting bound are refused as too many operations', () => {
    let nested: RequestOp = op.put('deep', 'v');
    for (let depth = 0; depth < 64; depth++) nested = op.txn([], [nested]);
    assertRejected(new MvccStore(), write.txn([], [nested]), ETCD_ERRORS.tooManyOps);
  });
});

describe('compaction (etcd Compact: reads below the compacted revision fail)', () => {
  test('reads at or after the compacted revision are unchanged; reads before it fail with "compacted"', () => {
    const store = storeWith(
      write.put('a', '1'),
      write.put('b', '1'),
      write.put('a', '2'),
      write.delete('b'),
      write.put('c', '1'),
    );
    const before = [2, 3, 4, 5, 6].map((revision) =>
      pairs(store.range(rangeRequest('\0', '\0', { revision }))),
    );
    applied(store.apply(write.compact(4)));
    assert.equal(store.compactedRevision, 4);
    assert.deepEqual(store.range(rangeRequest('a', '', { revision: 3 })), { error: ETCD_ERRORS.compacted });
    for (const revision of [4, 5, 6]) {
      assert.deepEqual(pairs(store.range(rangeRequest('\0', '\0', { revision }))), before[revision - 2]);
    }
  });

  test('compaction keeps the revision and drops what no later read can see', () => {
    const store = storeWith(
      write.put('a', '1'),
      write.put('a', '2'),
      write.put('b', '1'),
      write.delete('b'),
      write.put('a', '3'),
    );
    // bytes: key + value + 64 per revision (the delete holds no value)
    assert.deepEqual(store.stats, { keys: 2, keyRevisions: 5, bytes: 4 * 66 + 65 });
    const result = applied(store.apply(write.compact(5)));
    assert.deepEqual(result, { response: { kind: 'compact' }, events: [], revision: 6 });
    assert.deepEqual(
      store.stats,
      { keys: 1, keyRevisions: 2, bytes: 2 * 66 },
      'a@4 (visible at 5) and a@6 stay; b is gone',
    );
    applied(store.apply(write.compact(6)));
    assert.deepEqual(store.stats, { keys: 1, keyRevisions: 1, bytes: 66 });
    assert.equal(MvccStore.restore(store.snapshot()).stats.bytes, 66, 'restored stores count the same');
  });

  test('compacting to a future revision fails with "future revision"; to the same or a lower one with "compacted"', () => {
    const store = storeWith(write.put('a', '1'), write.put('a', '2'));
    assertRejected(store, write.compact(4), ETCD_ERRORS.futureRevision);
    applied(store.apply(write.compact(3)));
    assertRejected(store, write.compact(3), ETCD_ERRORS.compacted);
    assertRejected(store, write.compact(2), ETCD_ERRORS.compacted);
  });

  test('a new store accepts Compact(0) once, as etcd does (its compaction starts at -1)', () => {
    const store = new MvccStore();
    applied(store.apply(write.compact(0)));
    assert.equal(store.compactedRevision, 0);
    assertRejected(store, write.compact(0), ETCD_ERRORS.compacted);
    applied(store.apply(write.compact(1)));
  });

  test('a key re-created after compaction starts a new generation', () => {
    const store = storeWith(write.put('a', '1'), write.delete('a'), write.compact(3), write.put('a', '2'));
    assert.deepEqual(get(store, 'a'), {
      key: bytes('a'),
      createRevision: 4,
      modRevision: 4,
      version: 1,
      value: bytes('2'),
      lease: 0n,
    });
    assert.equal(get(store, 'a', { revision: 3 }), undefined);
  });
});

describe('hashKv (etcd HashKV)', () => {
  test('replicas that applied the same writes agree; a different history disagrees', () => {
    const writes = [write.put('a', '1'), write.put('b', '2'), write.delete('a'), write.compact(3)];
    const one = storeWith(...writes);
    const two = storeWith(...writes);
    assert.deepEqual(one.hashKv(0), two.hashKv(0));
    const other = storeWith(write.put('a', '1'), write.put('b', '3'), write.delete('a'), write.compact(3));
    assert.notDeepEqual(one.hashKv(0), other.hashKv(0));
  });

  test('the hash at a past revision ignores later writes', () => {
    const store = storeWith(write.put('a', '1'), write.put('b', '2'));
    const atThree = store.hashKv(0);
    applied(store.apply(write.put('c', '3')));
    assert.deepEqual(store.hashKv(3), atThree);
    assert.notDeepEqual(store.hashKv(0), atThree);
    assert.deepEqual(atThree, {
      hash: (atThree as { hash: number }).hash,
      compactRevision: -1,
      hashRevision: 3,
    });
  });

  test('a revision at or below the compaction is "compacted"; above the current one "future revision"', () => {
    const store = storeWith(write.put('a', '1'), write.put('a', '2'), write.compact(2));
    assert.deepEqual(store.hashKv(2), { error: ETCD_ERRORS.compacted });
    assert.deepEqual(store.hashKv(4), { error: ETCD_ERRORS.futureRevision });
    assert.equal('hash' in store.hashKv(3), true);
  });
});

describe('MvccStore options', () => {
  test('maxTxnOps must be a positive integer (a misconfiguration crashes at startup)', () => {
    assert.throws(() => new MvccStore({ maxTxnOps: 0 }), /maxTxnOps/);
  });
});
