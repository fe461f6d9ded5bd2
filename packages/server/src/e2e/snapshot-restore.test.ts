// Backup and restore on real processes: `etcdctl snapshot save` from a running 3-member cluster,
// `synod snapshot status` of the file, `synod snapshot restore` into a new 3-member cluster (new
// ports, token and ids) that serves the same keys, revisions, leases and users and takes writes.
// Damaged files and non-empty data directories are refused with a message saying why.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { bareEndpoint, etcdctl, etcdctlMissing, eventually } from './etcdctl.fixture.js';
import { ProcessCluster, type ProcessMember } from './process-cluster.js';

const SYNOD_BIN = fileURLToPath(new URL('../../bin/synod.mjs', import.meta.url));
const runFile = promisify(execFile);
const RESTORED_TOKEN = 'restored-cluster';

async function synod(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await runFile(process.execPath, [SYNOD_BIN, ...args], { timeout: 30_000 });
    return { code: 0, stdout: stdout.trim(), stderr: stderr.trim() };
  } catch (error) {
    const failure = error as { code?: number; stdout?: string; stderr?: string };
    return {
      code: failure.code ?? -1,
      stdout: failure.stdout?.trim() ?? '',
      stderr: failure.stderr?.trim() ?? '',
    };
  }
}

interface JsonKv {
  key: string;
  value: string;
  create_revision: number;
  mod_revision: number;
  version: number;
  lease?: number;
}

async function allKeys(endpoint: string): Promise<{ revision: number; kvs: JsonKv[] }> {
  const reply = JSON.parse(await etcdctl(endpoint, ['get', '', '--prefix', '-w', 'json'])) as {
    header: { revision: number };
    kvs?: JsonKv[];
  };
  // The lease id is a JSON number beyond 2^53 here: compare the rest.
  return { revision: reply.header.revision, kvs: (reply.kvs ?? []).map(({ lease: _lease, ...kv }) => kv) };
}

describe('snapshot save, status and restore into a new cluster', { skip: etcdctlMissing() }, () => {
  let source: ProcessCluster;
  let restored: ProcessCluster | undefined;
  let backup: string;
  let before_: { revision: number; kvs: JsonKv[] };
  let leaseId: string;

  before(async () => {
    source = await ProcessCluster.create(3);
    await source.startAll();
    const endpoint = bareEndpoint(source.members[0]!.clientUrl);
    for (let i = 0; i < 20; i++) await etcdctl(endpoint, ['put', `config/k${i}`, `v${i}`]);
    await etcdctl(endpoint, ['put', 'config/k3', 'changed']);
    await etcdctl(endpoint, ['del', 'config/k4']);
    leaseId = (await etcdctl(endpoint, ['lease', 'grant', '3600'])).split(' ')[1]!;
    await etcdctl(endpoint, ['put', 'service/a', '10.0.0.1', `--lease=${leaseId}`]);
    await etcdctl(endpoint, ['user', 'add', 'app', '--new-user-password=secret']);
    await etcdctl(endpoint, ['role', 'add', 'reader']);
    before_ = await allKeys(endpoint);
    backup = join(source.rootDir, 'backup.db');
    assert.match(await etcdctl(endpoint, ['snapshot', 'save', backup]), /Snapshot saved/);
    // The source cluster is gone (its directory, with the backup, stays until the end).
    for (const member of source.members) await source.kill(member);
  });

  after(async () => {
    await restored?.stopAll();
    await source?.stopAll();
  });

  test('status reports the revision and key revisions of the saved state', async () => {
    const status = await synod(['snapshot', 'status', backup, '-w', 'json']);
    assert.equal(status.code, 0, status.stderr);
    const fields = JSON.parse(status.stdout) as {
      hash: number;
      revision: number;
      totalKey: number;
      totalSize: number;
    };
    assert.equal(fields.revision, before_.revision);
    // 20 puts, one overwrite, one delete, one leased put: 23 key revisions.
    assert.equal(fields.totalKey, 23);
    assert.ok(fields.totalSize > 0 && fields.hash > 0);
    const table = await synod(['snapshot', 'status', backup]);
    assert.match(table.stdout, /REVISION/);
    assert.match(table.stdout, new RegExp(`\\| ${before_.revision} +\\|`));
  });

  test('a restored cluster serves the same keys, leases and users, with new members', async () => {
    restored = await ProcessCluster.create(3, ['--initial-cluster-token', RESTORED_TOKEN]);
    const initialCluster = restored.members.map((member) => `${member.name}=${member.peerUrl}`).join(',');
    const restore = (member: ProcessMember) =>
      synod(
        ['snapshot', 'restore', backup, '--name', member.name, '--data-dir', member.dataDir].concat([
          '--initial-cluster',
          initialCluster,
          '--initial-cluster-token',
          RESTORED_TOKEN,
        ]),
      );
    for (const member of restored.members) {
      const result = await restore(member);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`restored revision ${before_.revision} \\(with 1 leases\\)`));
    }
    // Restoring over a member's data is refused, and leaves it as it was.
    const member = restored.members[0]!;
    const memberFile = readFileSync(join(member.dataDir, 'member.json'), 'utf8');
    const again = await restore(member);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /exists and is not empty; restore into a new directory/);
    assert.equal(readFileSync(join(member.dataDir, 'member.json'), 'utf8'), memberFile);

    await restored.startAll();
    const endpoints = restored.members.map((m) => bareEndpoint(m.clientUrl));
    for (const endpoint of endpoints) {
      await eventually(async () => {
        const now = await allKeys(endpoint);
        return now.revision === before_.revision;
      }, `the restored state on ${endpoint}`);
      assert.deepEqual(await allKeys(endpoint), before_);
    }
    const members = await etcdctl(endpoints[0]!, ['member', 'list']);
    for (const m of restored.members) assert.match(members, new RegExp(m.peerUrl.replaceAll('.', '\\.')));
    for (const m of source.members)
      assert.doesNotMatch(members, new RegExp(m.peerUrl.replaceAll('.', '\\.')));
    assert.match(await etcdctl(endpoints[1]!, ['lease', 'list']), new RegExp(leaseId));
    assert.match(await etcdctl(endpoints[1]!, ['lease', 'timetolive', leaseId, '--keys']), /service\/a/);
    assert.deepEqual((await etcdctl(endpoints[2]!, ['user', 'list'])).split('\n'), ['app']);
    assert.deepEqual((await etcdctl(endpoints[2]!, ['role', 'list'])).split('\n'), ['reader']);
    // History survives: the revision before the overwrite still reads the old value.
    const k3 = before_.kvs.find((kv) => Buffer.from(kv.key, 'base64').toString() === 'config/k3')!;
    assert.equal(
      await etcdctl(endpoints[0]!, ['get', 'config/k3', '--print-value-only', `--rev=${k3.create_revision}`]),
      'v3',
    );
    // And it takes writes, revisions going on from the snapshot's.
    const put = JSON.parse(await etcdctl(endpoints[0]!, ['put', 'after', 'restore', '-w', 'json'])) as {
      header: { revision: number };
    };
    assert.equal(put.header.revision, before_.revision + 1);
    await eventually(async () => {
      const hashes = JSON.parse(await etcdctl(endpoints.join(','), ['endpoint', 'hashkv', '-w', 'json'])) as {
        HashKV: { hash: number };
      }[];
      return hashes.length === 3 && new Set(hashes.map((entry) => entry.HashKV.hash)).size === 1;
    }, 'equal hashes on the restored members');
  });

  test('damaged or foreign files are refused with the reason', async () => {
    const damaged = join(source.rootDir, 'damaged.db');
    const bytes = readFileSync(backup);
    bytes[100]! ^= 0xff;
    writeFileSync(damaged, bytes);
    const dataDir = join(source.rootDir, 'never');
    const restore = await synod([
      'snapshot',
      'restore',
      damaged,
      '--name',
      'm1',
      '--data-dir',
      dataDir,
      '--initial-cluster',
      'm1=http://127.0.0.1:1',
    ]);
    assert.equal(restore.code, 1);
    assert.match(restore.stderr, /SHA-256 at the end does not match/);
    const short = join(source.rootDir, 'short.db');
    writeFileSync(short, bytes.subarray(0, 1000));
    assert.match((await synod(['snapshot', 'status', short])).stderr, /no SHA-256 at the end/);
    mkdirSync(dataDir, { recursive: true });
    const missing = await synod(['snapshot', 'status', join(source.rootDir, 'absent.db')]);
    assert.match(missing.stderr, /cannot read .*absent\.db/);
    assert.equal((await synod(['snapshot', 'status'])).code, 2);
  });
});
