// A GrpcServer (on our HTTP/2) fed random frame sequences over real sockets: requests that open,
// send, half-close, reset and re-open streams in any order, with random flags, windows and
// garbage. Whatever arrives, the process must not crash, and afterwards the server must still
// answer a well-formed call. Seeded (fast-check prints the seed and path of a failure).
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { CONNECTION_PREFACE, Flag, FrameType, frame, settingsFrame } from '../http2/frames.js';
import { encodeHeaderBlock } from '../http2/hpack/hpack.js';
import { frameMessage } from './framing.js';
import { bidiStreaming, type MethodCodec, serverStreaming, unary } from './methods.js';
import { GrpcServer } from './server.js';

const textCodec: MethodCodec<string, string> = {
  decode: (bytes) => Buffer.from(bytes).toString('utf8'),
  encode: (text) => Buffer.from(text, 'utf8'),
};

const PATHS = ['/fuzz.Svc/Echo', '/fuzz.Svc/Count', '/fuzz.Svc/Chat', '/fuzz.Svc/Missing', '/nope'];

function requestBlock(path: string, extra: readonly string[]): Buffer {
  return encodeHeaderBlock([
    ':method',
    'POST',
    ':scheme',
    'http',
    ':path',
    path,
    ':authority',
    'fuzz',
    'content-type',
    'application/grpc',
    'te',
    'trailers',
    ...extra,
  ]);
}

const streamIds = fc.constantFrom(1, 3, 5, 7, 9);

/** One frame a client might (or should never) send. */
const anyFrame = fc.oneof(
  fc.record({
    kind: fc.constant('headers' as const),
    streamId: streamIds,
    path: fc.constantFrom(...PATHS),
    endStream: fc.boolean(),
    timeout: fc.option(fc.constantFrom('1m', '5S', '0n', 'bogus'), { nil: undefined }),
  }),
  fc.record({
    kind: fc.constant('data' as const),
    streamId: streamIds,
    endStream: fc.boolean(),
    message: fc.oneof(
      fc.string({ maxLength: 40 }).map((text) => frameMessage(Buffer.from(text))),
      fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
    ),
  }),
  fc.record({
    kind: fc.constant('reset' as const),
    streamId: streamIds,
    code: fc.integer({ min: 0, max: 13 }),
  }),
  fc.record({
    kind: fc.constant('window' as const),
    streamId: fc.constantFrom(0, 1, 3, 5),
    increment: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  }),
  fc.record({
    kind: fc.constant('raw' as const),
    type: fc.integer({ min: 0, max: 12 }),
    flags: fc.integer({ min: 0, max: 255 }),
    streamId: fc.integer({ min: 0, max: 9 }),
    payload: fc.uint8Array({ maxLength: 24 }),
  }),
);

type FuzzFrame = typeof anyFrame extends fc.Arbitrary<infer T> ? T : never;

function encodeFrame(one: FuzzFrame): Buffer {
  switch (one.kind) {
    case 'headers': {
      const extra = one.timeout === undefined ? [] : ['grpc-timeout', one.timeout];
      const flags = Flag.END_HEADERS | (one.endStream ? Flag.END_STREAM : 0);
      return frame(FrameType.HEADERS, flags, one.streamId, requestBlock(one.path, extra));
    }
    case 'data':
      return frame(FrameType.DATA, one.endStream ? Flag.END_STREAM : 0, one.streamId, one.message);
    case 'reset': {
      const payload = Buffer.alloc(4);
      payload.writeUInt32BE(one.code);
      return frame(FrameType.RST_STREAM, 0, one.streamId, payload);
    }
    case 'window': {
      const payload = Buffer.alloc(4);
      payload.writeUInt32BE(one.increment);
      return frame(FrameType.WINDOW_UPDATE, 0, one.streamId, payload);
    }
    case 'raw':
      return frame(one.type, one.flags, one.streamId, one.payload);
  }
}

describe('GrpcServer under random HTTP/2 frame sequences', () => {
  const server = new GrpcServer({ http2Engine: 'lean', logger: { warn: () => {}, error: () => {} } });
  let port = 0;

  before(async () => {
    server.addService('fuzz.Svc', {
      Echo: unary(textCodec, async (request) => request),
      Count: serverStreaming(textCodec, async (request, call) => {
        for (let index = 0; index < 3; index++) await call.send(`${request}:${index}`);
      }),
      Chat: bidiStreaming(textCodec, async (requests, call) => {
        for await (const request of requests) await call.send(request);
      }),
    });
    port = await server.listen('127.0.0.1', 0);
  });

  after(() => server.close(100));

  /** Sends `bytes` on a new connection and waits until the server closes it or 200 ms pass. */
  function exchange(bytes: Buffer): Promise<void> {
    return new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => {});
      socket.on('data', () => {});
      const done = (): void => {
        clearTimeout(timer);
        socket.destroy();
        resolve();
      };
      const timer = setTimeout(done, 200);
      socket.on('close', done);
      socket.write(bytes);
    });
  }

  test('never crashes, and still answers a real client afterwards', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(anyFrame, { minLength: 1, maxLength: 16 }), async (frames) => {
        const start = Buffer.concat([CONNECTION_PREFACE, settingsFrame([])]);
        await exchange(Buffer.concat([start, ...frames.map(encodeFrame)]));
      }),
      { numRuns: 150 },
    );
    const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const answer = await new Promise<string>((resolve, reject) =>
        client.makeUnaryRequest(
          '/fuzz.Svc/Echo',
          (text: string) => Buffer.from(text),
          (bytes: Buffer) => bytes.toString('utf8'),
          'still here',
          (error, value) => (error ? reject(error) : resolve(value!)),
        ),
      );
      assert.equal(answer, 'still here');
      // Every fuzzed call ends once its connection is gone (closes are seen a tick later).
      for (let waited = 0; server.activeCalls > 0 && waited < 2_000; waited += 20) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.equal(server.activeCalls, 0, 'every fuzzed call ended');
    } finally {
      client.close();
    }
  });
});
