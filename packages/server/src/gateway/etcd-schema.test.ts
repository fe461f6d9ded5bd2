// etcd-schema.generated.ts must be what the parser makes of the .proto files today: a changed
// .proto file fails here until `node --import tsx scripts/generate-gateway-schema.ts` is run.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ETCD_PROTO_FILES, ETCD_SCHEMA } from './etcd-schema.generated.js';
import { parseProtoFiles } from './proto-parser.js';

const REPOSITORY_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const REGENERATE = 'run `node --import tsx scripts/generate-gateway-schema.ts`';

describe('generated etcd schema', () => {
  test('equals what parsing the .proto files gives now, in the same order', () => {
    const parsed = parseProtoFiles(
      ETCD_PROTO_FILES.map((name) => ({ name, text: readFileSync(join(REPOSITORY_ROOT, name), 'utf8') })),
    );
    assert.deepStrictEqual(ETCD_SCHEMA, parsed, `the generated schema is stale: ${REGENERATE}`);
    // deepStrictEqual ignores key order, which decides the order of JSON output fields.
    assert.equal(JSON.stringify(ETCD_SCHEMA), JSON.stringify(parsed), `key order differs: ${REGENERATE}`);
  });

  test('covers every .proto file of the etcd API', () => {
    const etcdApi = join(REPOSITORY_ROOT, 'packages', 'server', 'src', 'etcd-api');
    const onDisk = readdirSync(etcdApi, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.proto'))
      .map((file) => relative(REPOSITORY_ROOT, join(etcdApi, file)).split(sep).join('/'))
      .sort();
    assert.deepEqual(
      onDisk,
      [...ETCD_PROTO_FILES].sort(),
      `add new .proto files to the generator, then ${REGENERATE}`,
    );
  });

  test('is plain JSON data', () => {
    assert.deepStrictEqual(JSON.parse(JSON.stringify(ETCD_SCHEMA)), ETCD_SCHEMA);
  });

  test('has the services and streaming shapes etcd clients use', () => {
    const services = ETCD_SCHEMA.services;
    assert.deepEqual(Object.keys(services), [
      'etcdserverpb.KV',
      'etcdserverpb.Lease',
      'etcdserverpb.Watch',
      'etcdserverpb.Auth',
      'etcdserverpb.Maintenance',
      'etcdserverpb.Cluster',
      'v3lockpb.Lock',
      'v3electionpb.Election',
    ]);
    assert.deepEqual(services['etcdserverpb.KV'].Range, {
      input: 'etcdserverpb.RangeRequest',
      output: 'etcdserverpb.RangeResponse',
      clientStreaming: false,
      serverStreaming: false,
    });
    assert.equal(services['etcdserverpb.Lease'].LeaseKeepAlive.clientStreaming, true);
    assert.equal(services['etcdserverpb.Watch'].Watch.serverStreaming, true);
    assert.equal(services['etcdserverpb.Maintenance'].Snapshot.serverStreaming, true);
    assert.equal(services['v3electionpb.Election'].Observe.output, 'v3electionpb.LeaderResponse');
  });
});
