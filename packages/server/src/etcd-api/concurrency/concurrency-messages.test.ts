// The Lock and Election codecs against protobufjs (through @grpc/proto-loader, reading our
// v3lock.proto and v3election.proto): what we encode, protobufjs decodes to the same values, and
// what protobufjs encodes, we decode. Random messages; the seed is printed and can be replayed.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';
import type { KeyValue, ResponseHeader } from '@synod/state';
import fc from 'fast-check';
import {
  type CampaignRequest,
  type CampaignResponse,
  CONCURRENCY_METHOD_CODECS,
  decodeCampaignResponse,
  decodeHeaderOnlyResponse,
  decodeLeaderResponse,
  decodeLockResponse,
  encodeCampaignRequest,
  encodeLockRequest,
  encodeProclaimRequest,
  type LeaderKey,
  type LeaderResponse,
  type LockRequest,
  type LockResponse,
  type ProclaimRequest,
} from './concurrency-messages.js';

const SEED = Number(process.env.CONCURRENCY_CODEC_SEED ?? Date.now() % 1_000_000);
console.log(`concurrency codec seed: ${SEED} (replay with CONCURRENCY_CODEC_SEED=${SEED})`);
const DIR = dirname(fileURLToPath(import.meta.url));
const LOADER_OPTIONS = {
  includeDirs: [DIR, join(DIR, '..', 'proto')],
  keepCase: true,
  longs: String,
  defaults: true,
};

type Serializer = (value: object) => Buffer;
type Deserializer = (bytes: Buffer) => Record<string, unknown>;
interface LoadedMethod {
  requestSerialize: Serializer;
  requestDeserialize: Deserializer;
  responseSerialize: Serializer;
  responseDeserialize: Deserializer;
  path: string;
  responseStream: boolean;
}
function methodsOf(file: string, service: string): Record<string, LoadedMethod> {
  return protoLoader.loadSync(file, LOADER_OPTIONS)[service] as unknown as Record<string, LoadedMethod>;
}
const lockMethods = methodsOf('v3lock.proto', 'v3lockpb.Lock');
const electionMethods = methodsOf('v3election.proto', 'v3electionpb.Election');

const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const revision = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const bytes = fc.uint8Array({ maxLength: 24 });
/** Records with Object's prototype, as decoders build them (deepEqual compares prototypes). */
const NO_NULL_PROTOTYPE = { noNullPrototype: true } as const;
const header: fc.Arbitrary<ResponseHeader> = fc.record(
  {
    clusterId: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    memberId: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    revision,
    raftTerm: revision,
  },
  NO_NULL_PROTOTYPE,
);
const leaderKey: fc.Arbitrary<LeaderKey> = fc.record(
  { name: bytes, key: bytes, rev: revision, lease: int64 },
  NO_NULL_PROTOTYPE,
);
const keyValue: fc.Arbitrary<KeyValue> = fc.record(
  {
    key: bytes,
    createRevision: revision,
    modRevision: revision,
    version: revision,
    value: bytes,
    lease: int64,
  },
  NO_NULL_PROTOTYPE,
);

/** What protobufjs decoded, in our field names, for comparison. */
function fromLoaderHeader(value: unknown): ResponseHeader | undefined {
  if (value === null || value === undefined) return undefined;
  const h = value as Record<string, string>;
  return {
    clusterId: BigInt(h.cluster_id!),
    memberId: BigInt(h.member_id!),
    revision: Number(h.revision),
    raftTerm: Number(h.raft_term),
  };
}
function fromLoaderLeaderKey(value: unknown): LeaderKey | undefined {
  if (value === null || value === undefined) return undefined;
  const k = value as Record<string, Buffer | string>;
  return {
    name: new Uint8Array(k.name as Buffer),
    key: new Uint8Array(k.key as Buffer),
    rev: Number(k.rev),
    lease: BigInt(k.lease as string),
  };
}
function toLoaderHeader(h: ResponseHeader | undefined): object | null {
  if (h === undefined) return null;
  return {
    cluster_id: h.clusterId.toString(),
    member_id: h.memberId.toString(),
    revision: h.revision.toString(),
    raft_term: h.raftTerm.toString(),
  };
}
function toLoaderLeaderKey(k: LeaderKey | undefined): object | null {
  if (k === undefined) return null;
  return {
    name: Buffer.from(k.name),
    key: Buffer.from(k.key),
    rev: k.rev.toString(),
    lease: k.lease.toString(),
  };
}

describe('Lock and Election codecs agree with protobufjs reading our .proto files', () => {
  test('the method paths are etcd’s', () => {
    assert.equal(lockMethods.Lock!.path, '/v3lockpb.Lock/Lock');
    assert.equal(lockMethods.Unlock!.path, '/v3lockpb.Lock/Unlock');
    assert.equal(electionMethods.Campaign!.path, '/v3electionpb.Election/Campaign');
    assert.equal(electionMethods.Observe!.responseStream, true);
  });

  test('LockRequest and LockResponse', () => {
    fc.assert(
      fc.property(fc.record({ name: bytes, lease: int64 }, NO_NULL_PROTOTYPE), (request: LockRequest) => {
        const decoded = lockMethods.Lock!.requestDeserialize(Buffer.from(encodeLockRequest(request)));
        assert.deepEqual(new Uint8Array(decoded.name as Buffer), request.name);
        assert.equal(BigInt(decoded.lease as string), request.lease);
        const mine = CONCURRENCY_METHOD_CODECS.Lock.Lock.decode(
          lockMethods.Lock!.requestSerialize({
            name: Buffer.from(request.name),
            lease: request.lease.toString(),
          }),
        );
        assert.deepEqual(mine, request);
      }),
      { seed: SEED },
    );
    fc.assert(
      fc.property(
        fc.record({ header: fc.option(header, { nil: undefined }), key: bytes }, NO_NULL_PROTOTYPE),
        (response: LockResponse) => {
          const decoded = lockMethods.Lock!.responseDeserialize(
            Buffer.from(CONCURRENCY_METHOD_CODECS.Lock.Lock.encode(response)),
          );
          assert.deepEqual(fromLoaderHeader(decoded.header), response.header);
          assert.deepEqual(new Uint8Array(decoded.key as Buffer), response.key);
          const back = lockMethods.Lock!.responseSerialize({
            header: toLoaderHeader(response.header),
            key: response.key,
          });
          assert.deepEqual(decodeLockResponse(back), response);
        },
      ),
      { seed: SEED },
    );
  });

  test('CampaignRequest and CampaignResponse', () => {
    fc.assert(
      fc.property(
        fc.record({ name: bytes, lease: int64, value: bytes }, NO_NULL_PROTOTYPE),
        (request: CampaignRequest) => {
          const decoded = electionMethods.Campaign!.requestDeserialize(
            Buffer.from(encodeCampaignRequest(request)),
          );
          assert.equal(BigInt(decoded.lease as string), request.lease);
          assert.deepEqual(new Uint8Array(decoded.value as Buffer), request.value);
          const serialized = electionMethods.Campaign!.requestSerialize({
            name: Buffer.from(request.name),
            lease: request.lease.toString(),
            value: Buffer.from(request.value),
          });
          assert.deepEqual(CONCURRENCY_METHOD_CODECS.Election.Campaign.decode(serialized), request);
        },
      ),
      { seed: SEED },
    );
    fc.assert(
      fc.property(
        fc.record(
          { header: fc.option(header, { nil: undefined }), leader: fc.option(leaderKey, { nil: undefined }) },
          NO_NULL_PROTOTYPE,
        ),
        (response: CampaignResponse) => {
          const encoded = Buffer.from(CONCURRENCY_METHOD_CODECS.Election.Campaign.encode(response));
          const decoded = electionMethods.Campaign!.responseDeserialize(encoded);
          assert.deepEqual(fromLoaderLeaderKey(decoded.leader), response.leader);
          const back = electionMethods.Campaign!.responseSerialize({
            header: toLoaderHeader(response.header),
            leader: toLoaderLeaderKey(response.leader),
          });
          assert.deepEqual(decodeCampaignResponse(back), response);
        },
      ),
      { seed: SEED },
    );
  });

  test('ProclaimRequest, ResignRequest and the header-only responses', () => {
    fc.assert(
      fc.property(
        fc.record({ leader: fc.option(leaderKey, { nil: undefined }), value: bytes }, NO_NULL_PROTOTYPE),
        fc.option(header, { nil: undefined }),
        (request: ProclaimRequest, responseHeader) => {
          const decoded = electionMethods.Proclaim!.requestDeserialize(
            Buffer.from(encodeProclaimRequest(request)),
          );
          assert.deepEqual(fromLoaderLeaderKey(decoded.leader), request.leader);
          const proclaim = electionMethods.Proclaim!.requestSerialize({
            leader: toLoaderLeaderKey(request.leader),
            value: Buffer.from(request.value),
          });
          assert.deepEqual(CONCURRENCY_METHOD_CODECS.Election.Proclaim.decode(proclaim), request);
          const resign = electionMethods.Resign!.requestSerialize({
            leader: toLoaderLeaderKey(request.leader),
          });
          assert.deepEqual(CONCURRENCY_METHOD_CODECS.Election.Resign.decode(resign), {
            leader: request.leader,
          });
          const encoded = Buffer.from(
            CONCURRENCY_METHOD_CODECS.Election.Resign.encode({ header: responseHeader }),
          );
          assert.deepEqual(
            fromLoaderHeader(electionMethods.Resign!.responseDeserialize(encoded).header),
            responseHeader,
          );
          assert.deepEqual(decodeHeaderOnlyResponse(encoded), { header: responseHeader });
        },
      ),
      { seed: SEED },
    );
  });

  test('LeaderRequest and LeaderResponse (also Observe’s)', () => {
    fc.assert(
      fc.property(
        bytes,
        fc.record(
          { header: fc.option(header, { nil: undefined }), kv: fc.option(keyValue, { nil: undefined }) },
          NO_NULL_PROTOTYPE,
        ),
        (name, response: LeaderResponse) => {
          const request = electionMethods.Leader!.requestSerialize({ name: Buffer.from(name) });
          assert.deepEqual(CONCURRENCY_METHOD_CODECS.Election.Observe.decode(request), { name });
          const encoded = Buffer.from(CONCURRENCY_METHOD_CODECS.Election.Leader.encode(response));
          const decoded = electionMethods.Observe!.responseDeserialize(encoded);
          const kv = decoded.kv as Record<string, Buffer | string> | null;
          assert.equal(kv === null, response.kv === undefined);
          if (kv !== null && response.kv !== undefined) {
            assert.deepEqual(new Uint8Array(kv.key as Buffer), response.kv.key);
            assert.equal(Number(kv.create_revision), response.kv.createRevision);
            assert.equal(BigInt(kv.lease as string), response.kv.lease);
          }
          assert.deepEqual(decodeLeaderResponse(encoded), response);
        },
      ),
      { seed: SEED },
    );
  });
});
