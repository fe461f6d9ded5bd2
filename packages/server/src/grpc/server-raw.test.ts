// The server against hand-made HTTP/2 requests (node:http2 as the client), for what a real gRPC
// client never sends: broken framing, wrong headers, compressed messages, cardinality violations.
// Every case checks that the server answers with a status and that the same connection still serves.
import assert from 'node:assert/strict';
import http2, {
  type ClientHttp2Session,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http2';
import { after, before, describe, test } from 'node:test';
import { frameMessage } from './framing.js';
import { bidiStreaming, type MethodCodec, serverStreaming, unary } from './methods.js';
import { GrpcServer } from './server.js';
import { decodeGrpcMessage, GrpcError, GrpcStatus } from './status.js';

const MAX_RECEIVE_BYTES = 1024;
const textCodec: MethodCodec<string, string> = {
  decode: (bytes) => Buffer.from(bytes).toString('utf8'),
  encode: (text) => Buffer.from(text, 'utf8'),
};

interface RawOutcome {
  readonly headers: IncomingHttpHeaders;
  readonly trailers: IncomingHttpHeaders | undefined;
  readonly data: Buffer;
  readonly rstCode: number;
  /** grpc-status / grpc-message from the trailers, or from the headers of a trailers-only response. */
  readonly status: number;
  readonly message: string;
}

const GRPC_HEADERS: OutgoingHttpHeaders = {
  ':method': 'POST',
  ':path': '/raw.Echo/Echo',
  'content-type': 'application/grpc',
  te: 'trailers',
};

/** Sends one request made of `chunks` (each written separately) and collects the whole response. */
function rawCall(
  session: ClientHttp2Session,
  chunks: readonly Uint8Array[],
  headers: OutgoingHttpHeaders = {},
  options: { endStream?: boolean } = {},
): Promise<RawOutcome> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ...GRPC_HEADERS, ...headers });
    let responseHeaders: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders | undefined;
    const data: Buffer[] = [];
    stream.on('response', (received) => {
      responseHeaders = received;
    });
    stream.on('trailers', (received) => {
      trailers = received;
    });
    stream.on('data', (chunk: Buffer) => data.push(chunk));
    stream.on('error', reject);
    stream.on('close', () => {
      const statusSource = trailers ?? responseHeaders;
      resolve({
        headers: responseHeaders,
        trailers,
        data: Buffer.concat(data),
        rstCode: stream.rstCode ?? 0,
        status: Number(statusSource['grpc-status'] ?? Number.NaN),
        message: decodeGrpcMessage(String(statusSource['grpc-message'] ?? '')),
      });
    });
    for (const chunk of chunks) stream.write(chunk);
    if (options.endStream !== false) stream.end();
  });
}

function prefix(flag: number, length: number): Buffer {
  const bytes = Buffer.alloc(5);
  bytes[0] = flag;
  bytes.writeUInt32BE(length, 1);
  return bytes;
}

describe('gRPC server with malformed requests on a raw HTTP/2 connection', () => {
  const server = new GrpcServer({ maxReceiveMessageBytes: MAX_RECEIVE_BYTES });
  let session: ClientHttp2Session;
  let release: () => void = () => {};
  let floodSent = 0;
  let onAborted: (reason: unknown) => void = () => {};
  const aborted = new Promise<unknown>((resolve) => {
    onAborted = resolve;
  });

  before(async () => {
    server.addService('raw.Echo', {
      Echo: unary(textCodec, async (request) => request),
      Flood: serverStreaming(textCodec, async (request, call) => {
        const [count, size] = request.split(' ').map(Number);
        const message = 'x'.repeat(size!);
        for (let i = 0; i < count!; i++) {
          await call.send(message);
          floodSent++;
        }
      }),
      UntilBye: bidiStreaming(textCodec, async (requests, call) => {
        for await (const request of requests) {
          if (request === 'bye') return;
          await call.send(request);
        }
      }),
      WaitForAbort: unary(textCodec, async (_request, context) => {
        await new Promise<void>((resolve) => context.signal.addEventListener('abort', () => resolve()));
        onAborted(context.signal.reason);
        return 'too late';
      }),
      Hold: serverStreaming(textCodec, async (_request, call) => {
        await call.send('held');
        await new Promise<void>((resolve) => {
          release = resolve;
        });
      }),
    });
    const port = await server.listen('127.0.0.1', 0);
    session = http2.connect(`http://127.0.0.1:${port}`);
  });

  after(async () => {
    release();
    session.close();
    await server.close();
  });

  async function assertStillServing(): Promise<void> {
    const outcome = await rawCall(session, [frameMessage(Buffer.from('ping'))]);
    assert.equal(outcome.status, GrpcStatus.OK);
    assert.deepEqual(outcome.data, frameMessage(Buffer.from('ping')));
  }

  test('a well-formed call split byte by byte, prefix included, is reassembled', async () => {
    const frame = frameMessage(Buffer.from('split into single bytes'));
    const outcome = await rawCall(
      session,
      [...frame].map((byte) => Buffer.from([byte])),
    );
    assert.equal(outcome.status, GrpcStatus.OK);
    assert.deepEqual(outcome.data, frame);
    assert.equal(outcome.headers['grpc-accept-encoding'], 'identity');
  });

  test('a length prefix over the limit is RESOURCE_EXHAUSTED before the body is read', async () => {
    const outcome = await rawCall(session, [prefix(0, 0x7fff_ffff)], {}, { endStream: false });
    assert.equal(outcome.status, GrpcStatus.RESOURCE_EXHAUSTED);
    assert.match(outcome.message, /larger than max \(2147483647 vs\. 1024\)/);
    await assertStillServing();
  });

  test('a body cut short by the end of the stream is INTERNAL', async () => {
    const outcome = await rawCall(session, [prefix(0, 10), Buffer.from('four')]);
    assert.equal(outcome.status, GrpcStatus.INTERNAL);
    assert.match(outcome.message, /ended inside a message \(4 of 10 bytes\)/);
    await assertStillServing();
  });

  test('a prefix cut short by the end of the stream is INTERNAL', async () => {
    const outcome = await rawCall(session, [Buffer.from([0, 0, 0])]);
    assert.equal(outcome.status, GrpcStatus.INTERNAL);
    assert.match(outcome.message, /ended inside a message \(3 of 5 bytes\)/);
    await assertStillServing();
  });

  test('a compressed message is UNIMPLEMENTED, saying only identity is accepted', async () => {
    const outcome = await rawCall(session, [prefix(1, 3), Buffer.from('abc')], { 'grpc-encoding': 'gzip' });
    assert.equal(outcome.status, GrpcStatus.UNIMPLEMENTED);
    assert.match(outcome.message, /compressed.*identity/);
    await assertStillServing();
  });

  test('a compressed flag other than 0 or 1 is INTERNAL', async () => {
    const outcome = await rawCall(session, [prefix(7, 1), Buffer.from('a')]);
    assert.equal(outcome.status, GrpcStatus.INTERNAL);
    assert.match(outcome.message, /invalid compressed flag 7/);
    await assertStillServing();
  });

  test('a unary call with no request message, or with two, is a cardinality violation (UNIMPLEMENTED)', async () => {
    const none = await rawCall(session, []);
    assert.equal(none.status, GrpcStatus.UNIMPLEMENTED);
    assert.match(none.message, /exactly one request, got no request message/);
    const two = await rawCall(session, [frameMessage(Buffer.from('a')), frameMessage(Buffer.from('b'))]);
    assert.equal(two.status, GrpcStatus.UNIMPLEMENTED);
    assert.match(two.message, /more than one request message/);
    await assertStillServing();
  });

  test('a method other than POST gets HTTP 405; a non-gRPC content-type gets HTTP 415', async () => {
    const get = await rawCall(session, [], { ':method': 'GET' });
    assert.equal(get.headers[':status'], 405);
    assert.equal(get.status, GrpcStatus.INTERNAL);
    const text = await rawCall(session, [Buffer.from('hi')], { 'content-type': 'text/plain' });
    assert.equal(text.headers[':status'], 415);
    assert.equal(text.status, GrpcStatus.INVALID_ARGUMENT);
    const json = await rawCall(session, [frameMessage(Buffer.from('{}'))], {
      'content-type': 'application/grpc+json',
    });
    assert.equal(json.headers[':status'], 200);
    assert.equal(json.status, GrpcStatus.UNIMPLEMENTED);
    const proto = await rawCall(session, [frameMessage(Buffer.from('p'))], {
      'content-type': 'application/grpc+proto',
    });
    assert.equal(proto.status, GrpcStatus.OK);
    await assertStillServing();
  });

  test('a malformed grpc-timeout is INTERNAL', async () => {
    const outcome = await rawCall(session, [frameMessage(Buffer.from('x'))], {
      'grpc-timeout': '123456789S',
    });
    assert.equal(outcome.status, GrpcStatus.INTERNAL);
    assert.match(outcome.message, /malformed grpc-timeout/);
    await assertStillServing();
  });

  test('an error answered before the client finished sending is a trailers-only response, then RST_STREAM(NO_ERROR)', async () => {
    const outcome = await rawCall(
      session,
      [frameMessage(Buffer.from('x'))],
      { ':path': '/raw.Echo/Missing' },
      {
        endStream: false,
      },
    );
    assert.equal(outcome.trailers, undefined);
    assert.equal(outcome.headers['grpc-status'], String(GrpcStatus.UNIMPLEMENTED));
    assert.equal(outcome.rstCode, http2.constants.NGHTTP2_NO_ERROR);
    await assertStillServing();
  });

  test('a status sent after messages but before the client half-closed arrives ahead of the RST_STREAM', async () => {
    const outcome = await rawCall(
      session,
      [frameMessage(Buffer.from('a')), frameMessage(Buffer.from('bye'))],
      { ':path': '/raw.Echo/UntilBye' },
      { endStream: false },
    );
    assert.deepEqual(outcome.data, frameMessage(Buffer.from('a')));
    assert.equal(outcome.trailers?.['grpc-status'], '0');
    assert.equal(outcome.rstCode, http2.constants.NGHTTP2_NO_ERROR);
    await assertStillServing();
  });

  test('send() waits while the client reads nothing (flow control), and the call completes once it reads', async () => {
    const messages = 64;
    const messageBytes = 16 * 1024;
    const stream = session.request({ ...GRPC_HEADERS, ':path': '/raw.Echo/Flood' });
    stream.pause();
    stream.end(frameMessage(Buffer.from(`${messages} ${messageBytes}`)));
    // 1 MiB cannot fit in the 64 KiB stream window plus Node's buffers: whatever the wait, the
    // handler must be stuck in send() well before its last message.
    await new Promise<void>((resolve) => stream.once('response', () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(floodSent < messages / 2, `${floodSent} of ${messages} sends completed with nobody reading`);
    assert.equal(server.activeCalls, 1);
    let received = 0;
    stream.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    const trailers = new Promise<IncomingHttpHeaders>((resolve) => stream.once('trailers', resolve));
    stream.resume();
    assert.equal((await trailers)['grpc-status'], '0');
    assert.equal(received, messages * (5 + messageBytes));
  });

  test('an expired deadline ends the call with DEADLINE_EXCEEDED and aborts the handler’s signal', async () => {
    const outcome = await rawCall(session, [frameMessage(Buffer.from(''))], {
      ':path': '/raw.Echo/WaitForAbort',
      'grpc-timeout': '20m',
    });
    assert.equal(outcome.status, GrpcStatus.DEADLINE_EXCEEDED);
    const reason = await aborted;
    assert.ok(reason instanceof GrpcError);
    assert.equal(reason.code, GrpcStatus.DEADLINE_EXCEEDED);
    await assertStillServing();
  });

  test('a stream reset by the client ends its call, and the connection keeps serving', async () => {
    const stream = session.request({ ...GRPC_HEADERS, ':path': '/raw.Echo/Hold' });
    stream.end(frameMessage(Buffer.from('')));
    await new Promise<void>((resolve) => stream.once('data', () => resolve()));
    assert.equal(server.activeCalls, 1);
    const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
    stream.close(http2.constants.NGHTTP2_CANCEL);
    await closed;
    await assertStillServing();
    assert.equal(server.activeCalls, 0);
  });
});
