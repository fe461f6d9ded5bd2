import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  CommandDecodeError,
  decodeCommand,
  encodeCommand,
  type LoggedCommand,
  ownPutSequence,
} from './command-codec.js';

const bytes = fc.uint8Array({ maxLength: 300 });
const putCommand = fc.record(
  {
    origin: fc.string({ maxLength: 60 }),
    sequence: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
    command: fc.record(
      {
        kind: fc.constant('put' as const),
        request: fc.record(
          {
            key: fc.uint8Array({ minLength: 1, maxLength: 64 }),
            value: bytes,
            lease: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
            prevKv: fc.boolean(),
            ignoreValue: fc.boolean(),
            ignoreLease: fc.boolean(),
          },
          { noNullPrototype: true },
        ),
      },
      { noNullPrototype: true },
    ),
  },
  { noNullPrototype: true },
);

describe('command codec', () => {
  test('puts round-trip through their compact form; other commands through msgpack', () => {
    fc.assert(
      fc.property(putCommand, (logged) => {
        const encoded = encodeCommand(logged);
        assert.equal(encoded[0], 0x01);
        assert.deepEqual(decodeCommand(encoded), logged);
      }),
    );
    const other: LoggedCommand = {
      origin: 'n1/ab',
      sequence: 3,
      command: { kind: 'leaseGrant', id: 2n ** 62n, ttl: 10 },
      requester: { username: 'alice', authRevision: 4 },
    };
    assert.equal(encodeCommand(other)[0], 0x00);
    assert.deepEqual(decodeCommand(encodeCommand(other)), other);
  });

  test("a proposer finds its own puts' sequence in the entry's first bytes, and nothing else", () => {
    fc.assert(
      fc.property(putCommand, fc.string({ maxLength: 60 }), (logged, other) => {
        const encoded = encodeCommand(logged);
        assert.equal(ownPutSequence(encoded, logged.origin), logged.sequence);
        if (other !== logged.origin) assert.equal(ownPutSequence(encoded, other), -1);
        for (let end = 0; end < encoded.byteLength; end++) {
          const sequence = ownPutSequence(encoded.subarray(0, end), logged.origin);
          assert.ok(sequence === -1 || sequence === logged.sequence);
        }
      }),
    );
    const grant: LoggedCommand = {
      origin: 'n1/ab',
      sequence: 3,
      command: { kind: 'leaseGrant', id: 7n, ttl: 10 },
    };
    assert.equal(ownPutSequence(encodeCommand(grant), 'n1/ab'), -1);
  });

  test('a put with a requester keeps it (msgpack form)', () => {
    const logged: LoggedCommand = {
      origin: 'n1/ab',
      sequence: 1,
      command: {
        kind: 'put',
        request: {
          key: new Uint8Array([1]),
          value: new Uint8Array(),
          lease: 0n,
          prevKv: false,
          ignoreValue: false,
          ignoreLease: false,
        },
      },
      requester: { username: 'bob', authRevision: 2 },
    };
    assert.deepEqual(decodeCommand(encodeCommand(logged)), logged);
  });

  test('every truncation of a put and an unknown format are refused with a typed error', () => {
    fc.assert(
      fc.property(putCommand, fc.nat(), (logged, cut) => {
        const encoded = encodeCommand(logged);
        const length = cut % encoded.byteLength;
        assert.throws(() => decodeCommand(encoded.subarray(0, length)), CommandDecodeError);
      }),
    );
    assert.throws(() => decodeCommand(new Uint8Array([7, 1, 2])), CommandDecodeError);
  });
});
