import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { decodeGrpcMessage, encodeGrpcMessage, GrpcError, GrpcStatus, grpcStatusName } from './status.js';

describe('gRPC status', () => {
  test('codes carry the standard numbers', () => {
    assert.equal(GrpcStatus.OK, 0);
    assert.equal(GrpcStatus.INVALID_ARGUMENT, 3);
    assert.equal(GrpcStatus.DEADLINE_EXCEEDED, 4);
    assert.equal(GrpcStatus.RESOURCE_EXHAUSTED, 8);
    assert.equal(GrpcStatus.UNIMPLEMENTED, 12);
    assert.equal(GrpcStatus.INTERNAL, 13);
    assert.equal(GrpcStatus.UNAVAILABLE, 14);
    assert.equal(GrpcStatus.UNAUTHENTICATED, 16);
    assert.equal(grpcStatusName(5), 'NOT_FOUND');
    assert.equal(grpcStatusName(99), 'CODE_99');
  });

  test('a GrpcError keeps its code and message', () => {
    const error = new GrpcError(GrpcStatus.NOT_FOUND, 'etcdserver: requested lease not found');
    assert.equal(error.code, 5);
    assert.equal(error.message, 'etcdserver: requested lease not found');
    assert.ok(error instanceof Error);
  });

  test('plain printable ASCII is sent as is; %, controls and non-ASCII are percent-encoded', () => {
    assert.equal(encodeGrpcMessage('etcdserver: key not found'), 'etcdserver: key not found');
    assert.equal(encodeGrpcMessage('100%'), '100%25');
    assert.equal(encodeGrpcMessage('a\nb'), 'a%0Ab');
    assert.equal(encodeGrpcMessage('✓'), '%E2%9C%93');
  });

  test('any message survives encoding, and the encoding holds only the allowed bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (message) => {
        const encoded = encodeGrpcMessage(message);
        assert.match(encoded, /^[\x20-\x7e]*$/);
        assert.equal(decodeGrpcMessage(encoded), message);
      }),
    );
  });

  test('broken escapes decode to themselves instead of failing', () => {
    assert.equal(decodeGrpcMessage('50%'), '50%');
    assert.equal(decodeGrpcMessage('%zz%4'), '%zz%4');
  });
});
