// The README's example, run: if this fails, the README is wrong.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MvccStore, rangeRequest } from '../index.js';

test('the README example works as it says', () => {
  const bytes = (text: string) => new TextEncoder().encode(text);
  const store = new MvccStore();

  const put = store.apply({
    kind: 'put',
    request: {
      key: bytes('greeting'),
      value: bytes('hello'),
      lease: 0n,
      prevKv: false,
      ignoreValue: false,
      ignoreLease: false,
    },
  });
  assert.ok(!('error' in put));
  assert.equal(put.revision, 2);
  assert.equal(put.events[0]?.type, 'PUT');

  const swap = store.apply({
    kind: 'txn',
    request: {
      compare: [
        {
          key: bytes('greeting'),
          rangeEnd: new Uint8Array(0),
          target: 'MOD',
          result: 'EQUAL',
          modRevision: 2,
          version: 0,
          createRevision: 0,
          value: new Uint8Array(0),
          lease: 0n,
        },
      ],
      success: [
        {
          kind: 'put',
          request: {
            key: bytes('greeting'),
            value: bytes('hi'),
            lease: 0n,
            prevKv: true,
            ignoreValue: false,
            ignoreLease: false,
          },
        },
      ],
      failure: [],
    },
  });
  assert.ok(!('error' in swap) && swap.response.kind === 'txn' && swap.response.response.succeeded);

  const old = store.range(rangeRequest(bytes('greeting'), { revision: 2 })); // etcd's defaults otherwise
  assert.ok(!('error' in old));
  assert.equal(new TextDecoder().decode(old.kvs[0]?.value), 'hello');

  const bytesOnDisk = store.snapshot();
  const again = MvccStore.restore(bytesOnDisk);
  assert.equal(again.currentRevision, 3);
  assert.deepEqual(again.hashKv(0), store.hashKv(0));
});
