// The Auth codecs against protobuf.js, with etcd's own .proto files (as the etcd3 npm client ships
// them) and with ours: every method's request and response, both directions. Field numbers and
// types are what clients depend on; a wrong one shows up here as a mismatch.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ResponseHeader } from '@synod/state';
import { ProtoDecodeError, ProtoWriter } from '../proto/wire.js';
import { AUTH_MESSAGES, type AuthMethodName, authMethodCodec } from './auth-messages.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ETCD_PROTO_DIR = join(dirname(createRequire(import.meta.url).resolve('etcd3/package.json')), 'proto');
const utf8 = (text: string) => new TextEncoder().encode(text);
const LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: String, enums: Number, defaults: false };

const HEADER: ResponseHeader = { clusterId: 0xfedc_ba98_7654_3210n, memberId: 2n, revision: 42, raftTerm: 7 };
const PB_HEADER = { cluster_id: '18364758544493064720', member_id: '2', revision: '42', raft_term: '7' };

interface Sample {
  readonly method: AuthMethodName;
  readonly request: readonly [ours: object, etcd: object];
  readonly response: readonly [ours: object, etcd: object];
}

const headerOnly = [{ header: HEADER }, { header: PB_HEADER }] as const;
const SAMPLES: readonly Sample[] = [
  { method: 'AuthEnable', request: [{}, {}], response: headerOnly },
  { method: 'AuthDisable', request: [{}, {}], response: [{ header: undefined }, {}] },
  {
    method: 'AuthStatus',
    request: [{}, {}],
    response: [
      { header: HEADER, enabled: true, authRevision: 9 },
      { header: PB_HEADER, enabled: true, authRevision: '9' },
    ],
  },
  {
    method: 'Authenticate',
    request: [
      { name: 'root', password: 'pä55' },
      { name: 'root', password: 'pä55' },
    ],
    response: [
      { header: HEADER, token: 'abcDEF.12' },
      { header: PB_HEADER, token: 'abcDEF.12' },
    ],
  },
  {
    method: 'UserAdd',
    request: [
      { name: 'cert', password: '', options: { noPassword: true } },
      { name: 'cert', options: { no_password: true } },
    ],
    response: headerOnly,
  },
  {
    method: 'UserGet',
    request: [{ name: 'alice' }, { name: 'alice' }],
    response: [
      { header: HEADER, roles: ['a', 'b'] },
      { header: PB_HEADER, roles: ['a', 'b'] },
    ],
  },
  {
    method: 'UserList',
    request: [{}, {}],
    response: [
      { header: HEADER, users: ['alice', 'root'] },
      { header: PB_HEADER, users: ['alice', 'root'] },
    ],
  },
  { method: 'UserDelete', request: [{ name: 'alice' }, { name: 'alice' }], response: headerOnly },
  {
    method: 'UserChangePassword',
    request: [
      { name: 'alice', password: 'new' },
      { name: 'alice', password: 'new' },
    ],
    response: headerOnly,
  },
  {
    method: 'UserGrantRole',
    request: [
      { user: 'alice', role: 'r' },
      { user: 'alice', role: 'r' },
    ],
    response: headerOnly,
  },
  {
    method: 'UserRevokeRole',
    request: [
      { name: 'alice', role: 'r' },
      { name: 'alice', role: 'r' },
    ],
    response: headerOnly,
  },
  { method: 'RoleAdd', request: [{ name: 'r' }, { name: 'r' }], response: headerOnly },
  {
    method: 'RoleGet',
    request: [{ role: 'r' }, { role: 'r' }],
    response: [
      {
        header: HEADER,
        perm: [
          { permType: 'READ', key: utf8('foo'), rangeEnd: utf8('fop') },
          { permType: 'READWRITE', key: utf8('x'), rangeEnd: new Uint8Array(0) },
        ],
      },
      {
        header: PB_HEADER,
        perm: [
          { key: [...utf8('foo')], range_end: [...utf8('fop')] },
          { permType: 2, key: [...utf8('x')] },
        ],
      },
    ],
  },
  {
    method: 'RoleList',
    request: [{}, {}],
    response: [
      { header: HEADER, roles: ['r'] },
      { header: PB_HEADER, roles: ['r'] },
    ],
  },
  { method: 'RoleDelete', request: [{ role: 'r' }, { role: 'r' }], response: headerOnly },
  {
    method: 'RoleGrantPermission',
    request: [
      { name: 'r', perm: { permType: 'WRITE', key: utf8('k'), rangeEnd: new Uint8Array([0]) } },
      { name: 'r', perm: { permType: 1, key: [...utf8('k')], range_end: [0] } },
    ],
    response: headerOnly,
  },
  {
    method: 'RoleRevokePermission',
    request: [
      { role: 'r', key: utf8('k'), rangeEnd: utf8('l') },
      { role: 'r', key: [...utf8('k')], range_end: [...utf8('l')] },
    ],
    response: headerOnly,
  },
];

/** protobuf.js objects compared by content: bytes as arrays, proto3 defaults and absent fields dropped. */
function normalize(value: unknown): unknown {
  if (value instanceof Uint8Array) return value.length === 0 ? undefined : [...value];
  if (Array.isArray(value)) {
    if (value.length === 0) return undefined;
    // Bytes written as plain arrays stay as they are.
    return value.every((element) => typeof element === 'number') ? value : value.map(normalize);
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .map(([key, field]) => [key, normalize(field)] as const)
      .filter(([, field]) => field !== undefined);
    return Object.fromEntries(entries);
  }
  if (value === null || value === '' || value === false || value === 0 || value === '0') return undefined;
  return value;
}

function serviceDefinition(file: string, includeDirs: string[]): grpc.ServiceDefinition {
  const definition = protoLoader.loadSync(file, { ...LOADER_OPTIONS, includeDirs });
  return definition['etcdserverpb.Auth'] as grpc.ServiceDefinition;
}

const DEFINITIONS = {
  "etcd's protos (etcd3 npm)": serviceDefinition('rpc.proto', [ETCD_PROTO_DIR]),
  'our auth-service.proto': serviceDefinition('auth-service.proto', [HERE, join(HERE, '..', 'proto')]),
};

describe('Auth codecs against protobuf.js', () => {
  for (const [name, service] of Object.entries(DEFINITIONS)) {
    test(`${name}: every method's request and response read and write the same fields as ours`, () => {
      for (const sample of SAMPLES) {
        const method = service[sample.method];
        assert.ok(method, `${sample.method} is in the service`);
        assert.equal(method.path, `/etcdserverpb.Auth/${sample.method}`);
        const messages = AUTH_MESSAGES[sample.method] as {
          request: { encode(m: object): Uint8Array; decode(b: Uint8Array): object };
          response: { encode(m: object): Uint8Array; decode(b: Uint8Array): object };
        };
        const [ourRequest, etcdRequest] = sample.request;
        const [ourResponse, etcdResponse] = sample.response;
        const context = `${sample.method} (${name})`;
        // Server side: decode what a client sends, encode what it reads.
        const sent = method.requestSerialize(etcdRequest);
        assert.deepStrictEqual(messages.request.decode(sent), ourRequest, `${context}: request decode`);
        assert.deepStrictEqual(
          normalize(method.responseDeserialize(Buffer.from(messages.response.encode(ourResponse)))),
          normalize(etcdResponse),
          `${context}: response encode`,
        );
        // Client side (our tests use it): the reverse.
        assert.deepStrictEqual(
          normalize(method.requestDeserialize(Buffer.from(messages.request.encode(ourRequest)))),
          normalize(etcdRequest),
          `${context}: request encode`,
        );
        const received = messages.response.decode(method.responseSerialize(etcdResponse));
        assert.deepStrictEqual(received, ourResponse, `${context}: response decode`);
      }
    });
  }

  test('unknown fields are skipped: the hashed password a newer client may send is ignored', () => {
    const writer = new ProtoWriter();
    writer.stringField(1, 'alice');
    writer.stringField(2, 'pw');
    writer.stringField(4, '$2a$10$bcrypt');
    writer.int64Field(99, 5);
    assert.deepStrictEqual(authMethodCodec('UserAdd').decode(writer.finish()), {
      name: 'alice',
      password: 'pw',
      options: undefined,
    });
  });

  test('an unknown permission type, bad UTF-8 and truncated input are decode errors', () => {
    const unknownType = new ProtoWriter();
    unknownType.stringField(1, 'r');
    const start = unknownType.beginMessage(2);
    unknownType.enumField(1, 3);
    unknownType.endMessage(start);
    const decode = authMethodCodec('RoleGrantPermission').decode;
    assert.throws(() => decode(unknownType.finish()), ProtoDecodeError);
    assert.throws(
      () => authMethodCodec('Authenticate').decode(new Uint8Array([0x0a, 0x01, 0xff])),
      ProtoDecodeError,
    );
    assert.throws(
      () => authMethodCodec('Authenticate').decode(new Uint8Array([0x0a, 0x05, 0x61])),
      ProtoDecodeError,
    );
  });
});
