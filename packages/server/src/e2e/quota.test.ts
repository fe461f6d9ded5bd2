// The backend quota on a real member through etcdctl: writes past --quota-backend-bytes raise
// NOSPACE, which refuses puts with etcd's error until space is freed and the alarm disarmed.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bareEndpoint, etcdctl, etcdctlMissing } from './etcdctl.fixture.js';
import { ProcessCluster } from './process-cluster.js';

/** Small enough that a few dozen 1 KiB puts fill it. */
const QUOTA_BYTES = 32 * 1024;

describe('NOSPACE through etcdctl', { skip: etcdctlMissing() }, () => {
  let cluster: ProcessCluster;
  let endpoint: string;
  before(async () => {
    cluster = await ProcessCluster.create(1, ['--quota-backend-bytes', String(QUOTA_BYTES)]);
    await cluster.startAll();
    endpoint = bareEndpoint(cluster.members[0]!.clientUrl);
  });
  after(async () => {
    await cluster?.stopAll();
  });

  test('filling the quota raises NOSPACE; compact, defrag and disarm bring writes back', async () => {
    const value = 'x'.repeat(1024);
    let refused = '';
    for (let i = 0; i < 100 && refused === ''; i++) {
      try {
        await etcdctl(endpoint, ['put', 'big', value]);
      } catch (error) {
        refused = (error as Error).message;
      }
    }
    assert.match(refused, /database space exceeded/);
    assert.match(await etcdctl(endpoint, ['alarm', 'list']), /alarm:NOSPACE/);
    await assert.rejects(etcdctl(endpoint, ['put', 'small', 'v']), /database space exceeded/);
    assert.equal(await etcdctl(endpoint, ['get', 'big', '--print-value-only']), value, 'reads still work');

    const revision = /"revision":(\d+)/.exec(await etcdctl(endpoint, ['get', 'big', '-w', 'json']))?.[1];
    await etcdctl(endpoint, ['compact', revision!]);
    await etcdctl(endpoint, ['defrag']);
    assert.match(await etcdctl(endpoint, ['alarm', 'disarm']), /alarm:NOSPACE/);
    assert.equal(await etcdctl(endpoint, ['alarm', 'list']), '');
    assert.match(await etcdctl(endpoint, ['put', 'small', 'v']), /OK/);
  });
});
