// The Lease codecs against protobufjs (through @grpc/proto-loader, reading our lease.proto): what
// we encode, protobufjs decodes to the same values, and what protobufjs encodes, we decode; plus
// bytes checked by hand for the messages whose encoding clients are most sensitive to.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';
import type { ResponseHeader } from '@synod/state';
import fc from 'fast-check';
import { ProtoDecodeError } from '../proto/wire.js';
import {
  decodeLeaseGrantRequest,
  decodeLeaseGrantResponse,
  decodeLeaseKeepAliveRequest,
  decodeLeaseKeepAliveResponse,
  decodeLeaseLeasesRequest,
  decodeLeaseLeasesResponse,
  decodeLeaseRevokeRequest,
  decodeLeaseRevokeResponse,
  decodeLeaseTimeToLiveRequest,
  decodeLeaseTimeToLiveResponse,
  encodeLeaseGrantRequest,
  encodeLeaseGrantResponse,
  encodeLeaseKeepAliveRequest,
  encodeLeaseKeepAliveResponse,
  encodeLeaseLeasesResponse,
  encodeLeaseRevokeRequest,
  encodeLeaseRevokeResponse,
  encodeLeaseTimeToLiveRequest,
  encodeLeaseTimeToLiveResponse,
} from './lease-messages.js';

const SEED = Number(process.env.LEASE_CODEC_SEED ?? 20_250_304);
const LEASE_DIR = dirname(fileURLToPath(import.meta.url));
const definition = protoLoader.loadSync('lease.proto', {
  includeDirs: [LEASE_DIR, join(LEASE_DIR, '..', 'proto')],
  keepCase: true,
  longs: String,
  defaults: true,
});
type Serializer = (value: object) => Buffer;
type Deserializer = (bytes: Buffer) => Record<string, unknown>;
const methods = definition['etcdserverpb.Lease'] as Record<
  string,
  {
    requestSerialize: Serializer;
    requestDeserialize: Deserializer;
    responseDeserialize: Deserializer;
    responseSerialize: Serializer;
  }
>;
const method = (name: string) => methods[name]!;

const HEADER: ResponseHeader = {
  clusterId: 0xdead_beef_0000_0001n,
  memberId: 2n ** 64n - 1n,
  revision: 12_345,
  raftTerm: 9,
};
const headerAsProtobufjs = (header: ResponseHeader) => ({
  cluster_id: header.clusterId.toString(),
  member_id: header.memberId.toString(),
  revision: String(header.revision),
  raft_term: String(header.raftTerm),
});

const int64Arb = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const ttlArb = fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });
const headerArb: fc.Arbitrary<ResponseHeader> = fc.record(
  {
    clusterId: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    memberId: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    revision: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    raftTerm: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  },
  { noNullPrototype: true },
);

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

describe('Lease codecs: bytes checked by hand', () => {
  test('LeaseGrantRequest{TTL: 10, ID: 5} is 08 0a 10 05; ID -1 takes ten bytes', () => {
    assert.equal(hex(encodeLeaseGrantRequest({ ttl: 10, id: 5n })), '080a1005');
    assert.deepEqual(decodeLeaseGrantRequest(Buffer.from('080a1005', 'hex')), { ttl: 10, id: 5n });
    assert.equal(hex(encodeLeaseKeepAliveRequest({ id: -1n })), '08ffffffffffffffffff01');
  });

  test('a response header is written even when every field is zero (etcd always sends one)', () => {
    const zero = { clusterId: 0n, memberId: 0n, revision: 0, raftTerm: 0 };
    assert.equal(hex(encodeLeaseRevokeResponse({ header: zero })), '0a00');
    assert.equal(hex(encodeLeaseKeepAliveResponse({ header: zero, id: 7n, ttl: 0 })), '0a001007');
  });

  test('TimeToLive writes TTL -1 as a ten-byte varint and every key, also an empty one', () => {
    const bytes = encodeLeaseTimeToLiveResponse({
      header: undefined,
      id: 1n,
      ttl: -1,
      grantedTtl: 0,
      keys: [new Uint8Array([0x61]), new Uint8Array(0)],
    });
    assert.equal(hex(bytes), '1001' + '18ffffffffffffffffff01' + '2a0161' + '2a00');
  });

  test('a TTL beyond ±2^53 decodes clamped (so the store answers “too large lease TTL”), not as a decode error', () => {
    const huge = encodeLeaseGrantRequest({ ttl: 0, id: 0n });
    assert.equal(huge.length, 0);
    const request = method('LeaseGrant').requestSerialize({ TTL: '9223372036854775807', ID: '0' });
    assert.deepEqual(decodeLeaseGrantRequest(request), { ttl: Number.MAX_SAFE_INTEGER, id: 0n });
    const negative = method('LeaseGrant').requestSerialize({ TTL: '-9223372036854775808', ID: '0' });
    assert.equal(decodeLeaseGrantRequest(negative).ttl, Number.MIN_SAFE_INTEGER);
  });

  test('malformed bytes are a ProtoDecodeError; unknown fields are skipped', () => {
    assert.throws(() => decodeLeaseKeepAliveRequest(new Uint8Array([0x08, 0xff])), ProtoDecodeError);
    assert.throws(() => decodeLeaseTimeToLiveResponse(new Uint8Array([0x2a, 0x05, 0x61])), ProtoDecodeError);
    // field 15 (varint 1), then ID 3
    assert.deepEqual(decodeLeaseRevokeRequest(new Uint8Array([0x78, 0x01, 0x08, 0x03])), { id: 3n });
    assert.deepEqual(decodeLeaseLeasesRequest(new Uint8Array([0x78, 0x01])), {});
  });
});

describe('Lease codecs against protobufjs', () => {
  test('requests protobufjs encodes decode to the same values', () => {
    fc.assert(
      fc.property(int64Arb, ttlArb, fc.boolean(), (id, ttl, keys) => {
        const grant = method('LeaseGrant').requestSerialize({ TTL: String(ttl), ID: id.toString() });
        assert.deepEqual(decodeLeaseGrantRequest(grant), { ttl, id });
        assert.deepEqual(
          decodeLeaseRevokeRequest(method('LeaseRevoke').requestSerialize({ ID: id.toString() })),
          { id },
        );
        assert.deepEqual(
          decodeLeaseKeepAliveRequest(method('LeaseKeepAlive').requestSerialize({ ID: id.toString() })),
          { id },
        );
        const timeToLive = method('LeaseTimeToLive').requestSerialize({ ID: id.toString(), keys });
        assert.deepEqual(decodeLeaseTimeToLiveRequest(timeToLive), { id, keys });
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  test('requests we encode decode in protobufjs to the same values', () => {
    fc.assert(
      fc.property(int64Arb, ttlArb, fc.boolean(), (id, ttl, keys) => {
        const grant = method('LeaseGrant').requestDeserialize(
          Buffer.from(encodeLeaseGrantRequest({ ttl, id })),
        );
        assert.deepEqual(grant, { TTL: String(ttl), ID: id.toString() });
        const revoke = method('LeaseRevoke').requestDeserialize(
          Buffer.from(encodeLeaseRevokeRequest({ id })),
        );
        assert.deepEqual(revoke, { ID: id.toString() });
        const timeToLive = method('LeaseTimeToLive').requestDeserialize(
          Buffer.from(encodeLeaseTimeToLiveRequest({ id, keys })),
        );
        assert.deepEqual(timeToLive, { ID: id.toString(), keys });
      }),
      { seed: SEED + 1, numRuns: 300 },
    );
  });

  test('responses we encode decode in protobufjs to the same values, and back through our decoders', () => {
    const keysArb = fc.array(fc.uint8Array({ maxLength: 20 }), { maxLength: 6 });
    fc.assert(
      fc.property(
        headerArb,
        int64Arb,
        ttlArb,
        ttlArb,
        keysArb,
        fc.array(int64Arb, { maxLength: 6 }),
        (header, id, ttl, grantedTtl, keys, ids) => {
          const asHeader = headerAsProtobufjs(header);

          const grant = { header, id, ttl, error: '' };
          const grantBytes = Buffer.from(encodeLeaseGrantResponse(grant));
          assert.deepEqual(method('LeaseGrant').responseDeserialize(grantBytes), {
            header: asHeader,
            ID: id.toString(),
            TTL: String(ttl),
            error: '',
          });
          assert.deepEqual(decodeLeaseGrantResponse(grantBytes), grant);

          const revokeBytes = Buffer.from(encodeLeaseRevokeResponse({ header }));
          assert.deepEqual(method('LeaseRevoke').responseDeserialize(revokeBytes), { header: asHeader });
          assert.deepEqual(decodeLeaseRevokeResponse(revokeBytes), { header });

          const keepAlive = { header, id, ttl };
          const keepAliveBytes = Buffer.from(encodeLeaseKeepAliveResponse(keepAlive));
          assert.deepEqual(method('LeaseKeepAlive').responseDeserialize(keepAliveBytes), {
            header: asHeader,
            ID: id.toString(),
            TTL: String(ttl),
          });
          assert.deepEqual(decodeLeaseKeepAliveResponse(keepAliveBytes), keepAlive);

          const timeToLive = { header, id, ttl, grantedTtl, keys };
          const timeToLiveBytes = Buffer.from(encodeLeaseTimeToLiveResponse(timeToLive));
          assert.deepEqual(method('LeaseTimeToLive').responseDeserialize(timeToLiveBytes), {
            header: asHeader,
            ID: id.toString(),
            TTL: String(ttl),
            grantedTTL: String(grantedTtl),
            keys: keys.map((key) => Buffer.from(key)),
          });
          assert.deepEqual(decodeLeaseTimeToLiveResponse(timeToLiveBytes), timeToLive);

          const leases = { header, leases: ids.map((leaseId) => ({ id: leaseId })) };
          const leasesBytes = Buffer.from(encodeLeaseLeasesResponse(leases));
          assert.deepEqual(method('LeaseLeases').responseDeserialize(leasesBytes), {
            header: asHeader,
            leases: ids.map((leaseId) => ({ ID: leaseId.toString() })),
          });
          assert.deepEqual(decodeLeaseLeasesResponse(leasesBytes), leases);
        },
      ),
      { seed: SEED + 2, numRuns: 200 },
    );
  });

  test('responses protobufjs encodes decode through ours (the error string too)', () => {
    const bytes = method('LeaseGrant').responseSerialize({
      header: headerAsProtobufjs(HEADER),
      ID: '-42',
      TTL: '7',
      error: 'ignored by clients',
    });
    assert.deepEqual(decodeLeaseGrantResponse(bytes), {
      header: HEADER,
      id: -42n,
      ttl: 7,
      error: 'ignored by clients',
    });
  });
});
