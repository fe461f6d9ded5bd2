import assert from 'node:assert/strict';
import type { OutgoingHttpHeaders } from 'node:http2';
import { describe, test } from 'node:test';
import { Metadata } from './metadata.js';

describe('metadata', () => {
  test('request metadata skips protocol headers and keeps repeated keys apart', () => {
    const metadata = Metadata.fromRawHeaders([
      ':path',
      '/etcdserverpb.KV/Range',
      'content-type',
      'application/grpc',
      'te',
      'trailers',
      'grpc-timeout',
      '1S',
      'token',
      'abc',
      'X-Tag',
      'one',
      'x-tag',
      'two',
      'user-agent',
      'grpc-node-js/1.14',
    ]);
    assert.deepEqual([...metadata.keys()], ['token', 'x-tag', 'user-agent']);
    assert.equal(metadata.get('token'), 'abc');
    assert.deepEqual(metadata.getAll('x-tag'), ['one', 'two']);
  });

  test('binary values are base64-decoded, padded or not, and split on commas', () => {
    const metadata = Metadata.fromRawHeaders(['trace-bin', 'AAEC', 'id-bin', 'AQ==, AgM', 'id-bin', 'BA']);
    assert.deepEqual(metadata.getBinary('trace-bin'), new Uint8Array([0, 1, 2]));
    assert.deepEqual(metadata.getAll('id-bin'), [
      new Uint8Array([1]),
      new Uint8Array([2, 3]),
      new Uint8Array([4]),
    ]);
    assert.equal(metadata.get('trace-bin'), undefined);
  });

  test('outgoing metadata writes binary values as unpadded base64 and repeats keys as arrays', () => {
    const headers: OutgoingHttpHeaders = {};
    new Metadata()
      .set('x-one', 'a')
      .add('x-many', 'b')
      .add('x-many', 'c')
      .set('x-data-bin', new Uint8Array([0xff]))
      .writeTo(headers);
    assert.deepEqual(headers, { 'x-one': 'a', 'x-many': ['b', 'c'], 'x-data-bin': '/w' });
  });

  test('keys are case-insensitive', () => {
    const metadata = new Metadata().set('X-Request-Id', 'r1');
    assert.equal(metadata.get('x-request-id'), 'r1');
    assert.ok(metadata.has('X-REQUEST-ID'));
    assert.ok(metadata.delete('x-Request-id'));
    assert.equal(metadata.size, 0);
  });

  test('what the protocol cannot carry is a programmer error', () => {
    assert.throws(() => new Metadata().set('grpc-status', '0'), /reserved/);
    assert.throws(() => new Metadata().set(':path', '/'), /reserved|valid/);
    assert.throws(() => new Metadata().set('bad key', 'v'), /valid header name/);
    assert.throws(() => new Metadata().set('x-text', 'line\nbreak'), /printable ASCII/);
    assert.throws(() => new Metadata().set('x-data-bin' as string, 'text'), /must be bytes/);
  });
});
