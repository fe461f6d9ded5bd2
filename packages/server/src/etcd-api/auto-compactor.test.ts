import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type AutoCompactionPolicy,
  AutoCompactor,
  parseAutoCompaction,
  REVISION_MODE_CHECK_MS,
} from './auto-compactor.js';

function harness(policy: AutoCompactionPolicy) {
  const world = {
    now: 0,
    revision: 1,
    compacted: -1,
    leader: true,
    fail: false,
    compactions: [] as number[],
  };
  const compactor = new AutoCompactor({
    policy,
    currentRevision: () => world.revision,
    compactedRevision: () => world.compacted,
    isLeader: () => world.leader,
    compact: async (revision) => {
      if (world.fail) throw new Error('etcdserver: request timed out');
      world.compactions.push(revision);
      world.compacted = revision;
    },
    nowMs: () => world.now,
    logger: { info: () => {}, warn: () => {} },
  });
  return { world, compactor };
}

describe('AutoCompactor', () => {
  test('periodic: keeps a retention of history, checking every tenth of it', async () => {
    const { world, compactor } = harness({ mode: 'periodic', retentionMs: 10_000 });
    assert.equal(compactor.checkIntervalMs, 1_000);
    // 10 revisions a second for 25 seconds; the revision noted 10 s ago is compacted to.
    for (let second = 0; second <= 25; second++) {
      world.now = second * 1_000;
      world.revision = 1 + second * 10;
      await compactor.check();
    }
    assert.deepEqual(world.compactions.slice(0, 3), [11, 21, 31]);
    assert.equal(world.compactions.at(-1), 1 + 15 * 10);
    // Nothing is compacted that is younger than the retention.
    assert.ok(world.compacted <= world.revision - 100);
  });

  test('periodic: only the leader compacts; a new leader compacts at once from what it noted', async () => {
    const { world, compactor } = harness({ mode: 'periodic', retentionMs: 1_000 });
    world.leader = false;
    for (let tick = 0; tick <= 20; tick++) {
      world.now = tick * 100;
      world.revision = 100 + tick;
      await compactor.check();
    }
    assert.deepEqual(world.compactions, []);
    world.leader = true;
    world.now += 100;
    world.revision++;
    await compactor.check();
    assert.deepEqual(world.compactions, [111]);
  });

  test('a failed compaction is tried again at the next check; nothing at or below the compacted revision', async () => {
    const { world, compactor } = harness({ mode: 'revision', retentionRevisions: 100 });
    assert.equal(compactor.checkIntervalMs, REVISION_MODE_CHECK_MS);
    world.revision = 50;
    await compactor.check();
    assert.deepEqual(world.compactions, []);
    world.revision = 1_000;
    world.fail = true;
    await compactor.check();
    assert.deepEqual(world.compactions, []);
    world.fail = false;
    await compactor.check();
    assert.deepEqual(world.compactions, [900]);
    await compactor.check();
    assert.deepEqual(world.compactions, [900], 'already compacted there');
    world.compacted = 950; // a client compacted further
    world.revision = 1_040;
    await compactor.check();
    assert.deepEqual(world.compactions, [900]);
  });
});

describe('parseAutoCompaction (etcd flag values)', () => {
  test('durations, hours, revisions and off', () => {
    assert.deepEqual(parseAutoCompaction('periodic', '1h'), { mode: 'periodic', retentionMs: 3_600_000 });
    assert.deepEqual(parseAutoCompaction('periodic', '1h30m'), { mode: 'periodic', retentionMs: 5_400_000 });
    assert.deepEqual(parseAutoCompaction('periodic', '90s'), { mode: 'periodic', retentionMs: 90_000 });
    assert.deepEqual(parseAutoCompaction('periodic', '500ms'), { mode: 'periodic', retentionMs: 500 });
    assert.deepEqual(parseAutoCompaction('periodic', '2'), { mode: 'periodic', retentionMs: 7_200_000 });
    assert.deepEqual(parseAutoCompaction('revision', '1000'), { mode: 'revision', retentionRevisions: 1000 });
    assert.equal(parseAutoCompaction('periodic', '0'), undefined);
    assert.equal(parseAutoCompaction('revision', '0'), undefined);
  });

  test('bad values name the flag', () => {
    assert.match(String(parseAutoCompaction('periodic', '1 hour')), /--auto-compaction-retention 1 hour/);
    assert.match(String(parseAutoCompaction('periodic', '5x')), /expected a duration/);
    assert.match(String(parseAutoCompaction('revision', '1h')), /whole number of revisions/);
    assert.match(String(parseAutoCompaction('daily', '1')), /--auto-compaction-mode daily/);
  });
});
