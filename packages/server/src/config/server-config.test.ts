import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, clusterIdOf, loadServerConfig, memberIdOf, raftIdOf } from './server-config.js';

describe('server configuration', () => {
  test('defaults follow etcd: one member on 2379/2380, 100 ms heartbeat, 1 s election timeout', () => {
    const config = loadServerConfig([], {});
    assert.equal(config.name, 'default');
    assert.equal(config.dataDir, 'default.synod');
    assert.deepEqual(config.listenClientUrls, [{ scheme: 'http', host: '127.0.0.1', port: 2379 }]);
    assert.deepEqual(config.initialCluster, [{ name: 'default', peerUrls: ['http://127.0.0.1:2380'] }]);
    assert.equal(config.heartbeatIntervalMs, 100);
    assert.equal(config.electionTimeoutMs, 1000);
    assert.equal(config.maxRequestBytes, 1_572_864);
    assert.equal(config.maxTxnOps, 128);
  });

  test('an etcd command line runs as it is: flags without effect here are reported, unsafe ones refused', () => {
    const config = loadServerConfig(
      [
        '--logger',
        'zap',
        '--log-outputs=stderr',
        '--enable-v2',
        '--enable-pprof',
        'true',
        '--max-wals',
        '5',
        '--metrics',
        'extensive',
        '--auto-compaction-retention',
        '1',
        '--name',
        'n1',
        '--initial-cluster',
        'n1=http://127.0.0.1:2380',
      ],
      {},
    );
    assert.equal(config.name, 'n1');
    assert.equal(config.metrics, 'basic');
    assert.deepEqual(config.autoCompaction, { mode: 'periodic', retentionMs: 3_600_000 });
    assert.deepEqual(
      config.ignoredEtcdFlags.map((notice) => notice.split(' ')[0]),
      ['--logger', '--log-outputs', '--enable-v2', '--enable-pprof', '--max-wals'],
    );
    assert.match(config.ignoredEtcdFlags[2]!, /has no effect in Synod: the v2 API is not served/);
    const kubeadm = loadServerConfig(
      ['--listen-metrics-urls', 'https://10.0.0.1:2382,http://127.0.0.1:2381'],
      {},
    );
    assert.deepEqual(kubeadm.listenAdminUrl, { scheme: 'http', host: '127.0.0.1', port: 2381 });
    assert.throws(
      () => loadServerConfig(['--listen-metrics-urls', 'https://10.0.0.1:2382'], {}),
      /http:\/\/ only/,
    );
    for (const unsafe of [
      '--force-new-cluster',
      '--auto-tls',
      '--peer-auto-tls',
      '--discovery-srv=example.com',
    ])
      assert.throws(() => loadServerConfig([unsafe], {}), ConfigError, unsafe);
    assert.throws(() => loadServerConfig(['--auto-compaction-retention', 'soon'], {}), /expected a duration/);
  });

  test('flags win over SYNOD_* environment variables, which win over the config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'synod-config-'));
    const file = join(dir, 'synod.json');
    writeFileSync(file, JSON.stringify({ name: 'from-file', 'snapshot-count': 7, 'log-level': 'warn' }));
    const config = loadServerConfig(
      ['--config-file', file, '--name', 'n1', '--initial-cluster', 'n1=http://127.0.0.1:2380'],
      {
        SYNOD_NAME: 'from-env',
        SYNOD_SNAPSHOT_COUNT: '9',
      },
    );
    assert.equal(config.name, 'n1');
    assert.equal(config.snapshotCount, 9);
    assert.equal(config.logLevel, 'warn');
  });

  test('the HOST:PORT shorthands and https URLs are understood', () => {
    const config = loadServerConfig(
      [
        '--name',
        'a',
        '--listen-client',
        '127.0.0.1:12379',
        '--listen-peer-urls',
        'https://127.0.0.1:12380',
        '--initial-cluster',
        'a=https://127.0.0.1:12380',
        '--peer-cert-file',
        'peer.crt',
        '--peer-key-file',
        'peer.key',
      ],
      {},
    );
    assert.deepEqual(config.listenClientUrls, [{ scheme: 'http', host: '127.0.0.1', port: 12379 }]);
    assert.equal(config.listenPeerUrls[0]!.scheme, 'https');
  });

  test('mistakes are refused with a message that says what to do', () => {
    assert.throws(() => loadServerConfig(['--nmae', 'x'], {}), /unknown flag --nmae; run 'synod --help'/);
    assert.throws(
      () => loadServerConfig(['--name', 'x', '--initial-cluster', 'y=http://127.0.0.1:2380'], {}),
      /does not list this member "x"/,
    );
    assert.throws(() => loadServerConfig(['--listen-client-urls', 'localhost'], {}), ConfigError);
    assert.throws(
      () => loadServerConfig(['--client-cert-auth', '--cert-file', 'c', '--key-file', 'k'], {}),
      /needs --trusted-ca-file/,
    );
  });

  test('the admin server listens on the client port + 2 unless told otherwise; dev controls come from SYNOD_DEV_CONTROL_URL', () => {
    const defaults = loadServerConfig(['--listen-client-urls', 'http://0.0.0.0:12379'], {});
    assert.deepEqual(defaults.listenAdminUrl, { scheme: 'http', host: '0.0.0.0', port: 12381 });
    assert.equal(defaults.devControlUrl, undefined);
    const given = loadServerConfig(['--listen-admin-urls', 'http://127.0.0.1:0'], {
      SYNOD_DEV_CONTROL_URL: 'http://127.0.0.1:2387',
    });
    assert.deepEqual(given.listenAdminUrl, { scheme: 'http', host: '127.0.0.1', port: 0 });
    assert.equal(given.devControlUrl, 'http://127.0.0.1:2387');
    assert.throws(
      () => loadServerConfig(['--listen-admin-urls', 'https://127.0.0.1:2381'], {}),
      /one http:\/\/ URL/,
    );
    assert.throws(() => loadServerConfig(['--listen-admin-urls', 'http://127.0.0.1'], {}), /needs a port/);
    assert.throws(() => loadServerConfig(['--listen-client-urls', 'http://127.0.0.1:0'], {}), /needs a port/);
  });

  test('member and cluster ids are stable hashes, and Raft ids are their hex form', () => {
    const a = memberIdOf(['http://127.0.0.1:2380'], 'token');
    assert.equal(a, memberIdOf(['http://127.0.0.1:2380'], 'token'));
    assert.notEqual(a, memberIdOf(['http://127.0.0.1:2380'], 'other-token'));
    assert.equal(raftIdOf(a).length, 16);
    assert.equal(clusterIdOf([a, 2n]), clusterIdOf([2n, a]));
  });
});

describe('synod dev layout', () => {
  test("members follow etcd's local-cluster ports: 2379, 22379, 32379 and peers one above", async () => {
    const { devMembers } = await import('../dev.js');
    const members = devMembers(3, 2379, '/data');
    assert.deepEqual(
      members.map((member) => [member.name, member.clientUrl, member.peerUrl]),
      [
        ['n1', 'http://127.0.0.1:2379', 'http://127.0.0.1:2380'],
        ['n2', 'http://127.0.0.1:22379', 'http://127.0.0.1:22380'],
        ['n3', 'http://127.0.0.1:32379', 'http://127.0.0.1:32380'],
      ],
    );
    assert.equal(devMembers(1, 12379, '/data')[0]!.clientUrl, 'http://127.0.0.1:12379');
  });
});
