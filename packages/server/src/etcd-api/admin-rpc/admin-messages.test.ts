// The Maintenance and Cluster codecs against protobufjs reading etcd's own rpc.proto (the copy the
// etcd3 npm client carries): what we encode, protobufjs decodes to the same values, and what
// protobufjs encodes, we decode. Random messages; the seed is printed and can be replayed. Also
// checks that our admin.proto compiles beside ../proto/rpc.proto once that drops its partial services.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';
import type { ResponseHeader } from '@synod/state';
import fc from 'fast-check';
import type { Member } from '../proto/types.js';
import {
  ADMIN_METHOD_CODECS,
  type AlarmRequest,
  type AlarmResponse,
  type AlarmType,
  decodeMembersResponse,
  type HashKvResponse,
  type MemberAddResponse,
  type SnapshotResponse,
} from './admin-messages.js';

const SEED = Number(process.env.ADMIN_CODEC_SEED ?? Date.now() % 1_000_000);
console.log(`admin codec seed: ${SEED} (replay with ADMIN_CODEC_SEED=${SEED})`);
const ETCD_PROTO = join(dirname(createRequire(import.meta.url).resolve('etcd3')), '..', 'proto', 'rpc.proto');
const OUR_DIR = dirname(fileURLToPath(import.meta.url));

type Serializer = (value: object) => Buffer;
type Deserializer = (bytes: Buffer) => Record<string, unknown>;
interface LoadedMethod {
  requestSerialize: Serializer;
  requestDeserialize: Deserializer;
  responseSerialize: Serializer;
  responseDeserialize: Deserializer;
  path: string;
}
const etcd = protoLoader.loadSync(ETCD_PROTO, { keepCase: true, longs: String, defaults: true });
const maintenance = etcd['etcdserverpb.Maintenance'] as unknown as Record<string, LoadedMethod>;
const cluster = etcd['etcdserverpb.Cluster'] as unknown as Record<string, LoadedMethod>;

const NO_NULL_PROTOTYPE = { noNullPrototype: true } as const;
const uint64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const safe = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const header: fc.Arbitrary<ResponseHeader> = fc.record(
  { clusterId: uint64, memberId: uint64, revision: safe, raftTerm: safe },
  NO_NULL_PROTOTYPE,
);
const maybeHeader = fc.option(header, { nil: undefined });
const url = fc.webUrl();
const member: fc.Arbitrary<Member> = fc.record(
  {
    id: uint64,
    name: fc.string({ maxLength: 12 }),
    peerURLs: fc.array(url, { maxLength: 3 }),
    clientURLs: fc.array(url, { maxLength: 3 }),
    isLearner: fc.boolean(),
  },
  NO_NULL_PROTOTYPE,
);
const ALARM_NUMBERS: Record<AlarmType, number> = { NONE: 0, NOSPACE: 1, CORRUPT: 2 };
const alarmType = fc.constantFrom<AlarmType>('NONE', 'NOSPACE', 'CORRUPT');

function headerOf(decoded: unknown): ResponseHeader | undefined {
  if (decoded === null || decoded === undefined) return undefined;
  const h = decoded as Record<string, string>;
  return {
    clusterId: BigInt(h.cluster_id!),
    memberId: BigInt(h.member_id!),
    revision: Number(h.revision),
    raftTerm: Number(h.raft_term),
  };
}
function memberOf(decoded: unknown): Member {
  const m = decoded as Record<string, unknown>;
  return {
    id: BigInt(m.ID as string),
    name: m.name as string,
    peerURLs: m.peerURLs as string[],
    clientURLs: m.clientURLs as string[],
    isLearner: m.isLearner as boolean,
  };
}
function loaderHeader(h: ResponseHeader | undefined): object | null {
  return h === undefined
    ? null
    : {
        cluster_id: `${h.clusterId}`,
        member_id: `${h.memberId}`,
        revision: `${h.revision}`,
        raft_term: `${h.raftTerm}`,
      };
}
function loaderMember(m: Member): object {
  return {
    ID: `${m.id}`,
    name: m.name,
    peerURLs: m.peerURLs,
    clientURLs: m.clientURLs,
    isLearner: m.isLearner,
  };
}

const options = { seed: SEED, numRuns: 60 };

describe('Maintenance and Cluster codecs agree with etcd’s rpc.proto', () => {
  test('AlarmRequest and AlarmResponse', () => {
    fc.assert(
      fc.property(
        fc.record(
          { action: fc.constantFrom('GET', 'ACTIVATE', 'DEACTIVATE'), memberId: uint64, alarm: alarmType },
          NO_NULL_PROTOTYPE,
        ),
        (request: AlarmRequest) => {
          const bytes = maintenance.Alarm!.requestSerialize({
            action: ['GET', 'ACTIVATE', 'DEACTIVATE'].indexOf(request.action),
            memberID: `${request.memberId}`,
            alarm: ALARM_NUMBERS[request.alarm],
          });
          assert.deepEqual(ADMIN_METHOD_CODECS.Maintenance.Alarm.decode(bytes), request);
        },
      ),
      options,
    );
    const alarmMember = fc.record({ memberId: uint64, alarm: alarmType }, NO_NULL_PROTOTYPE);
    fc.assert(
      fc.property(
        fc.record(
          { header: maybeHeader, alarms: fc.array(alarmMember, { maxLength: 4 }) },
          NO_NULL_PROTOTYPE,
        ),
        (response: AlarmResponse) => {
          const encoded = Buffer.from(ADMIN_METHOD_CODECS.Maintenance.Alarm.encode(response));
          const decoded = maintenance.Alarm!.responseDeserialize(encoded);
          assert.deepEqual(headerOf(decoded.header), response.header);
          assert.deepEqual(
            (decoded.alarms as { memberID: string; alarm: number }[]).map((a) => [
              BigInt(a.memberID),
              a.alarm,
            ]),
            response.alarms.map((a) => [a.memberId, ALARM_NUMBERS[a.alarm]]),
          );
        },
      ),
      options,
    );
  });

  test('HashKV, Hash, Defragment and MoveLeader', () => {
    fc.assert(
      fc.property(
        safe,
        fc.record(
          {
            header: maybeHeader,
            hash: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
            compactRevision: fc.integer({ min: -1, max: Number.MAX_SAFE_INTEGER }),
          },
          NO_NULL_PROTOTYPE,
        ),
        uint64,
        (revision, response: HashKvResponse, target) => {
          const request = maintenance.HashKV!.requestSerialize({ revision: `${revision}` });
          assert.deepEqual(ADMIN_METHOD_CODECS.Maintenance.HashKV.decode(request), { revision });
          const encoded = Buffer.from(ADMIN_METHOD_CODECS.Maintenance.HashKV.encode(response));
          const decoded = maintenance.HashKV!.responseDeserialize(encoded);
          assert.equal(decoded.hash, response.hash);
          assert.equal(Number(decoded.compact_revision), response.compactRevision);
          const hash = maintenance.Hash!.responseDeserialize(
            Buffer.from(
              ADMIN_METHOD_CODECS.Maintenance.Hash.encode({ header: response.header, hash: response.hash }),
            ),
          );
          assert.equal(hash.hash, response.hash);
          const defragment = maintenance.Defragment!.responseDeserialize(
            Buffer.from(ADMIN_METHOD_CODECS.Maintenance.Defragment.encode({ header: response.header })),
          );
          assert.deepEqual(headerOf(defragment.header), response.header);
          const move = maintenance.MoveLeader!.requestSerialize({ targetID: `${target}` });
          assert.deepEqual(ADMIN_METHOD_CODECS.Maintenance.MoveLeader.decode(move), { targetId: target });
        },
      ),
      options,
    );
  });

  test('SnapshotResponse', () => {
    fc.assert(
      fc.property(
        fc.record(
          { header: maybeHeader, remainingBytes: safe, blob: fc.uint8Array({ maxLength: 64 }) },
          NO_NULL_PROTOTYPE,
        ),
        (response: SnapshotResponse) => {
          const decoded = maintenance.Snapshot!.responseDeserialize(
            Buffer.from(ADMIN_METHOD_CODECS.Maintenance.Snapshot.encode(response)),
          );
          assert.equal(Number(decoded.remaining_bytes), response.remainingBytes);
          assert.deepEqual(new Uint8Array(decoded.blob as Buffer), response.blob);
          assert.deepEqual(headerOf(decoded.header), response.header);
        },
      ),
      options,
    );
  });

  test('MemberAdd, MemberRemove, MemberUpdate, MemberPromote, MemberList', () => {
    fc.assert(
      fc.property(
        fc.array(url, { maxLength: 3 }),
        fc.boolean(),
        uint64,
        fc.record(
          {
            header: maybeHeader,
            member: fc.option(member, { nil: undefined }),
            members: fc.array(member, { maxLength: 3 }),
          },
          NO_NULL_PROTOTYPE,
        ),
        (peerURLs, isLearner, id, response: MemberAddResponse) => {
          const add = cluster.MemberAdd!.requestSerialize({ peerURLs, isLearner });
          assert.deepEqual(ADMIN_METHOD_CODECS.Cluster.MemberAdd.decode(add), { peerURLs, isLearner });
          const update = cluster.MemberUpdate!.requestSerialize({ ID: `${id}`, peerURLs });
          assert.deepEqual(ADMIN_METHOD_CODECS.Cluster.MemberUpdate.decode(update), { id, peerURLs });
          for (const method of ['MemberRemove', 'MemberPromote'] as const) {
            const bytes = cluster[method]!.requestSerialize({ ID: `${id}` });
            assert.deepEqual(ADMIN_METHOD_CODECS.Cluster[method].decode(bytes), { id });
          }
          const encoded = Buffer.from(ADMIN_METHOD_CODECS.Cluster.MemberAdd.encode(response));
          const decoded = cluster.MemberAdd!.responseDeserialize(encoded);
          assert.deepEqual(decoded.member === null ? undefined : memberOf(decoded.member), response.member);
          assert.deepEqual((decoded.members as unknown[]).map(memberOf), response.members);
          const list = { header: response.header, members: response.members };
          for (const method of ['MemberRemove', 'MemberUpdate', 'MemberPromote', 'MemberList'] as const) {
            const bytes = Buffer.from(ADMIN_METHOD_CODECS.Cluster[method].encode(list));
            const back = cluster[method]!.responseDeserialize(bytes);
            assert.deepEqual((back.members as unknown[]).map(memberOf), response.members);
            const reencoded = cluster[method]!.responseSerialize({
              header: loaderHeader(response.header),
              members: response.members.map(loaderMember),
            });
            assert.deepEqual(decodeMembersResponse(reencoded), list);
          }
        },
      ),
      options,
    );
  });

  test('our admin.proto compiles beside rpc.proto once rpc.proto drops its partial services', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'synod-admin-proto-'));
    try {
      const rpc = await readFile(join(OUR_DIR, '..', 'proto', 'rpc.proto'), 'utf8');
      const withoutServices = rpc.replace(/^service (Maintenance|Cluster) \{[\s\S]*?^\}\n/gm, '');
      await writeFile(join(directory, 'rpc.proto'), withoutServices);
      await writeFile(join(directory, 'kv.proto'), await readFile(join(OUR_DIR, '..', 'proto', 'kv.proto')));
      await writeFile(join(directory, 'admin.proto'), await readFile(join(OUR_DIR, 'admin.proto')));
      const ours = protoLoader.loadSync('admin.proto', {
        includeDirs: [directory],
        keepCase: true,
        longs: String,
      });
      const methods = ours['etcdserverpb.Maintenance'] as unknown as Record<string, LoadedMethod>;
      assert.equal(methods.Snapshot!.path, '/etcdserverpb.Maintenance/Snapshot');
      // Same bytes as etcd's definition for a message with every kind of field.
      const request = { peerURLs: ['http://10.0.0.1:2380'], isLearner: true };
      const oursCluster = ours['etcdserverpb.Cluster'] as unknown as Record<string, LoadedMethod>;
      assert.deepEqual(
        oursCluster.MemberAdd!.requestSerialize(request),
        cluster.MemberAdd!.requestSerialize(request),
      );
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
