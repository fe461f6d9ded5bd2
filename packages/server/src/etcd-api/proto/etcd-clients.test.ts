// Real etcd clients against GrpcServer with these codecs: the etcd3 npm client (which carries
// etcd's own .proto files), @grpc/proto-loader stubs built from our .proto files, and etcdctl 3.4
// (Go, compiled from etcd's protos) when it is on PATH. The handlers are canned: the point is that
// requests decode to what the client meant and responses decode to what the handler said.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { KeyValue, PutRequest, RangeRequest, ResponseHeader, TxnRequest } from '@synod/state';
import { Etcd3 } from 'etcd3';
import { unary } from '../../grpc/methods.js';
import { GrpcServer } from '../../grpc/server.js';
import { ETCD_METHOD_CODECS } from './messages.js';
import type { Member, StatusResponse } from './types.js';

const PROTO_DIR = dirname(fileURLToPath(import.meta.url));
const run = promisify(execFile);
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const CLUSTER_ID = 0x1234_5678_9abcn;
const MEMBER_ID = 0xfedc_ba98_7654_3210n;

const HEADER: ResponseHeader = { clusterId: CLUSTER_ID, memberId: MEMBER_ID, revision: 42, raftTerm: 7 };
const STORED: KeyValue = {
  key: utf8('foo'),
  createRevision: 3,
  modRevision: 40,
  version: 5,
  value: utf8('bar'),
  lease: 0x7fff_0000_0000_0001n,
};
const MEMBERS: readonly Member[] = [
  {
    id: MEMBER_ID,
    name: 'n1',
    peerURLs: ['http://127.0.0.1:2380'],
    clientURLs: ['http://127.0.0.1:2379'],
    isLearner: false,
  },
  { id: 2n, name: 'n2', peerURLs: ['http://127.0.0.1:22380'], clientURLs: [], isLearner: true },
];
const STATUS: StatusResponse = {
  header: HEADER,
  version: '3.4.0-synod',
  dbSize: 1 << 20,
  leader: MEMBER_ID,
  raftIndex: 100,
  raftTerm: 7,
  raftAppliedIndex: 99,
  errors: ['NOSPACE'],
  dbSizeInUse: 1 << 19,
  isLearner: false,
};

const etcdctlAvailable = await run('etcdctl', ['version']).then(
  () => true,
  () => false,
);

describe('etcd clients against GrpcServer with the etcd codecs', () => {
  const server = new GrpcServer({ logger: { warn: () => {}, error: () => {} } });
  const received: { range?: RangeRequest; put?: PutRequest; txn?: TxnRequest } = {};
  let port = 0;

  before(async () => {
    const codecs = ETCD_METHOD_CODECS;
    server.addService('etcdserverpb.KV', {
      Range: unary(codecs.KV.Range, async (request) => {
        received.range = request;
        return { header: HEADER, kvs: [STORED], more: false, count: 1 };
      }),
      Put: unary(codecs.KV.Put, async (request) => {
        received.put = request;
        return { header: HEADER, prevKv: request.prevKv ? STORED : undefined };
      }),
      Txn: unary(codecs.KV.Txn, async (request) => {
        received.txn = request;
        return {
          header: HEADER,
          succeeded: true,
          responses: [{ kind: 'put' as const, response: { prevKv: undefined } }],
        };
      }),
    });
    server.addService('etcdserverpb.Maintenance', {
      Status: unary(codecs.Maintenance.Status, async () => STATUS),
    });
    server.addService('etcdserverpb.Cluster', {
      MemberList: unary(codecs.Cluster.MemberList, async () => ({ header: HEADER, members: MEMBERS })),
    });
    port = await server.listen('127.0.0.1', 0);
  });

  after(() => server.close());

  test('the etcd3 npm client (etcd’s own protos) reads, writes, runs a txn, asks status and members', async () => {
    const client = new Etcd3({ hosts: `http://127.0.0.1:${port}` });
    try {
      assert.equal(await client.get('foo').string(), 'bar');
      assert.deepEqual(received.range?.key, utf8('foo'));

      const put = await client.put('foo').value('baz').lease('1234').getPrevious();
      assert.equal(put?.value.toString(), 'bar');
      assert.equal(put?.lease, STORED.lease.toString());
      assert.deepEqual(received.put?.value, utf8('baz'));
      assert.equal(received.put?.lease, 1234n);
      assert.equal(received.put?.prevKv, true);

      const txn = await client.if('foo', 'Value', '==', 'bar').then(client.put('foo').value('qux')).commit();
      assert.equal(txn.succeeded, true);
      assert.equal(txn.header.revision, '42');
      const compare = received.txn?.compare[0];
      assert.equal(compare?.target, 'VALUE');
      assert.equal(compare?.result, 'EQUAL');
      assert.deepEqual(compare?.value, utf8('bar'));
      assert.equal(received.txn?.success[0]?.kind, 'put');

      const status = await client.maintenance.status();
      assert.equal(status.version, '3.4.0-synod');
      assert.equal(status.leader, MEMBER_ID.toString());
      assert.equal(status.raftAppliedIndex, '99');
      assert.equal(status.header.member_id, MEMBER_ID.toString());

      const members = await client.cluster.memberList({});
      assert.deepEqual(
        members.members.map((m) => [m.ID, m.name, m.isLearner]),
        [
          [MEMBER_ID.toString(), 'n1', false],
          ['2', 'n2', true],
        ],
      );
    } finally {
      client.close();
    }
  });

  test('@grpc/proto-loader stubs built from our .proto files call /etcdserverpb.KV/Range', async () => {
    const definition = protoLoader.loadSync('rpc.proto', {
      includeDirs: [PROTO_DIR],
      longs: String,
      enums: String,
      defaults: true,
    });
    assert.equal(
      (definition['etcdserverpb.KV'] as grpc.ServiceDefinition).Range!.path,
      '/etcdserverpb.KV/Range',
    );
    const KV = grpc.loadPackageDefinition(definition).etcdserverpb as grpc.GrpcObject;
    const Client = KV.KV as grpc.ServiceClientConstructor;
    const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    type Callback = (error: grpc.ServiceError | null, value: Record<string, unknown>) => void;
    const range = client.Range as (request: object, callback: Callback) => void;
    try {
      const response = await new Promise<Record<string, unknown>>((resolve, reject) =>
        range.call(client, { key: Buffer.from('foo'), sortOrder: 'DESCEND', revision: -1 }, (error, value) =>
          error ? reject(error) : resolve(value),
        ),
      );
      assert.equal(received.range?.sortOrder, 'DESCEND');
      assert.equal(received.range?.revision, -1);
      const kv = (response.kvs as Record<string, unknown>[])[0]!;
      assert.equal(kv.mod_revision ?? kv.modRevision, '40');
      assert.equal(String(kv.value), 'bar');
    } finally {
      client.close();
    }
  });

  test('etcdctl 3.4 gets a key, lists members and reads endpoint status', {
    skip: !etcdctlAvailable,
  }, async () => {
    const etcdctl = async (...args: string[]): Promise<unknown> => {
      const { stdout } = await run(
        'etcdctl',
        [`--endpoints=127.0.0.1:${port}`, '--command-timeout=5s', '-w', 'json', ...args],
        {
          env: { ...process.env, ETCDCTL_API: '3' },
        },
      );
      return JSON.parse(stdout);
    };
    const get = (await etcdctl('get', 'foo')) as { kvs: { key: string; value: string; version: number }[] };
    assert.equal(Buffer.from(get.kvs[0]!.value, 'base64').toString(), 'bar');
    assert.equal(get.kvs[0]!.version, 5);

    const members = (await etcdctl('member', 'list')) as { members: { name: string; peerURLs: string[] }[] };
    assert.deepEqual(
      members.members.map((m) => m.name),
      ['n1', 'n2'],
    );

    const status = (await etcdctl('endpoint', 'status')) as {
      Status: { version: string; raftIndex: number };
    }[];
    assert.equal(status[0]!.Status.version, '3.4.0-synod');
    assert.equal(status[0]!.Status.raftIndex, 100);
  });
});
