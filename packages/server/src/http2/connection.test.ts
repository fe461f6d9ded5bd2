import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import http2 from 'node:http2';
import net, { type AddressInfo, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { LeanHttp2Connection, type LeanHttp2Options } from './connection.js';
import { CONNECTION_PREFACE, ErrorCode, Flag, FrameType, frame, settingsFrame } from './frames.js';
import { encodeHeaderBlock } from './hpack/hpack.js';
import type { LeanServerStream } from './server-stream.js';

type StreamHandler = LeanHttp2Options['onStream'];

/** A TCP server whose connections are LeanHttp2Connections. */
async function serve(
  onStream: StreamHandler,
  options: Partial<LeanHttp2Options> = {},
): Promise<{
  port: number;
  connections: LeanHttp2Connection[];
  errors: string[];
  close: () => Promise<void>;
}> {
  const connections: LeanHttp2Connection[] = [];
  const errors: string[] = [];
  const server = net.createServer((socket) => {
    connections.push(
      new LeanHttp2Connection(socket, {
        maxConcurrentStreams: 100,
        onStream,
        onProtocolError: (message) => errors.push(message),
        ...options,
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    connections,
    errors,
    close: () =>
      new Promise<void>((resolve) => {
        for (const connection of connections) connection.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Answers every request with its body echoed, a response header and a trailer. */
const echo: StreamHandler = (stream, headers) => {
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.on('end', () => {
    stream.once('wantTrailers', () => stream.sendTrailers({ 'x-trailer': 'done' }));
    stream.respond(
      { ':status': 200, 'x-path': String(headers[':path']), 'x-bytes': String(Buffer.concat(chunks).length) },
      { waitForTrailers: true },
    );
    stream.end(Buffer.concat(chunks));
  });
};

interface ClientResponse {
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders;
  body: Buffer;
}

function request(session: http2.ClientHttp2Session, path: string, body: Buffer): Promise<ClientResponse> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':method': 'POST', ':path': path });
    const chunks: Buffer[] = [];
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    req.on('response', (received) => {
      headers = received;
    });
    req.on('trailers', (received) => {
      trailers = received;
    });
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve({ headers, trailers, body: Buffer.concat(chunks) }));
    req.on('error', reject);
    req.end(body);
  });
}

function connect(port: number): http2.ClientHttp2Session {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  return session;
}

describe('LeanHttp2Connection with a node:http2 client', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('answers requests with headers, body and trailers', async () => {
    const server = await serve(echo);
    cleanups.push(server.close);
    const session = connect(server.port);
    cleanups.push(() => session.destroy());
    const response = await request(session, '/a/b', Buffer.from('hello'));
    assert.equal(response.headers[':status'], 200);
    assert.equal(response.headers['x-path'], '/a/b');
    assert.equal(response.body.toString(), 'hello');
    assert.equal(response.trailers['x-trailer'], 'done');
    assert.deepEqual(server.errors, []);
  });

  it('lets go of a stream’s listeners once its close event has run', async () => {
    const streams: LeanServerStream[] = [];
    let closeListenerRan = false;
    const server = await serve((stream, headers, raw) => {
      streams.push(stream);
      stream.on('close', () => {
        closeListenerRan = true;
      });
      echo(stream, headers, raw);
    });
    cleanups.push(server.close);
    const session = connect(server.port);
    cleanups.push(() => session.destroy());
    await request(session, '/a', Buffer.from('x'));
    await waitFor(() => closeListenerRan);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(streams.length, 1);
    assert.equal(streams[0]!.closed, true);
    assert.deepEqual(streams[0]!.eventNames(), []);
  });

  it('ends a response without trailers on its last DATA frame, and resets after it on request', async () => {
    const server = await serve((stream) => {
      stream.respond({ ':status': 200 });
      stream.end(Buffer.alloc(100_000, 7));
      // As gRPC's early closure does: the reset must not overtake the queued body.
      stream.close(ErrorCode.NO_ERROR);
    });
    cleanups.push(server.close);
    const session = connect(server.port);
    cleanups.push(() => session.destroy());
    const req = session.request({ ':method': 'POST', ':path': '/plain' });
    req.on('error', () => {});
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    await new Promise<void>((resolve) => req.on('end', () => resolve()));
    const body = Buffer.concat(chunks);
    assert.equal(body.length, 100_000);
    assert.ok(body.every((byte) => byte === 7));
    req.close();
  });

  it('serves many concurrent streams on one connection', async () => {
    const server = await serve(echo);
    cleanups.push(server.close);
    const session = connect(server.port);
    cleanups.push(() => session.destroy());
    const responses = await Promise.all(
      Array.from({ length: 300 }, (_, index) =>
        request(session, `/n/${index}`, Buffer.from(`body ${index}`)),
      ),
    );
    responses.forEach((response, index) => {
      assert.equal(response.body.toString(), `body ${index}`);
      assert.equal(response.headers['x-path'], `/n/${index}`);
    });
    assert.equal(server.connections[0]!.openStreams, 0);
  });

  it('respects flow control both ways: 3 MiB requests and responses', async () => {
    const server = await serve(echo);
    cleanups.push(server.close);
    const session = connect(server.port);
    cleanups.push(() => session.destroy());
    const bodies = [0, 1, 2].map((seed) => Buffer.alloc(3 * 1024 * 1024 + seed * 7, seed + 1));
    const responses = await Promise.all(bodies.map((body, index) => request(session, `/big/${index}`, body)));
    responses.forEach((response, index) => {
      assert.equal(response.headers['x-bytes'], String(bodies[index]!.length));
      assert.ok(response.body.equals(bodies[index]!), `response ${index} differs`);
    });
  });

  it('holds a paused stream’s data and delivers it in order on resume', async () => {
    let resumeLater: (() => void) | undefined;
    const received: Buffer[] = [];
    const done = new Promise<void>((resolve) => {
      const onStream: StreamHandler = (stream) => {
        stream.pause();
        resumeLater = () => stream.resume();
        stream.on('data', (chunk: Buffer) => received.push(chunk));
        stream.on('end', () => {
          stream.respond({ ':status': 200 }, { endStream: true });
          resolve();
        });
      };
      serve(onStream).then((server) => {
        cleanups.push(server.close);
        const session = connect(server.port);
        cleanups.push(() => session.destroy());
        const req = session.request({ ':method': 'POST', ':path': '/p' });
        req.on('error', () => {});
        req.resume();
        for (let index = 0; index < 50; index++) req.write(Buffer.alloc(1000, index));
        req.end();
      });
    });
    await waitFor(() => resumeLater !== undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(received.length, 0, 'nothing is delivered while paused');
    resumeLater!();
    await done;
    const all = Buffer.concat(received);
    assert.equal(all.length, 50_000);
    for (let index = 0; index < 50; index++) assert.equal(all[index * 1000], index);
  });

  it('closes the stream when the client resets it', async () => {
    let serverStream: LeanServerStream | undefined;
    const server = await serve((stream) => {
      serverStream = stream;
    });
    cleanups.push(server.close);
    const session = connect(server.port);
    cleanups.push(() => session.destroy());
    const req = session.request({ ':method': 'POST', ':path': '/reset' });
    req.on('error', () => {});
    await waitFor(() => serverStream !== undefined);
    const closed = new Promise<void>((resolve) => serverStream!.once('close', resolve));
    req.close(http2.constants.NGHTTP2_CANCEL);
    await closed;
    assert.equal(serverStream!.closed, true);
    assert.equal(server.connections[0]!.openStreams, 0);
  });

  it('close() sends GOAWAY, lets open streams finish, and refuses new ones', async () => {
    let pending: LeanServerStream | undefined;
    const server = await serve((stream) => {
      pending = stream;
      stream.on('data', () => {});
    });
    cleanups.push(server.close);
    const session = connect(server.port);
    cleanups.push(() => session.destroy());
    const goaway = new Promise<number>((resolve) => session.once('goaway', (code) => resolve(code)));
    const req = session.request({ ':method': 'POST', ':path': '/slow' });
    const status = new Promise<number>((resolve) =>
      req.on('response', (headers) => resolve(Number(headers[':status']))),
    );
    req.on('error', () => {});
    req.end();
    await waitFor(() => pending !== undefined);
    server.connections[0]!.close();
    assert.equal(await goaway, ErrorCode.NO_ERROR);
    pending!.respond({ ':status': 204 }, { endStream: true });
    assert.equal(await status, 204);
    const socketClosed = new Promise<void>((resolve) => session.once('close', resolve));
    await socketClosed;
  });
});

describe('LeanHttp2Connection against broken peers', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  /** Sends `bytes`, returns the frames the server answered with until it closed the connection. */
  async function exchange(bytes: Buffer, options: Partial<LeanHttp2Options> = {}): Promise<ReceivedFrame[]> {
    const server = await serve(options.onStream ?? echo, options);
    cleanups.push(server.close);
    const socket = net.connect(server.port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', () => {});
    socket.write(bytes);
    await new Promise<void>((resolve) => {
      socket.on('close', () => resolve());
      setTimeout(() => {
        socket.destroy();
        resolve();
      }, 600);
    });
    return parseFrames(Buffer.concat(received));
  }

  const start = Buffer.concat([CONNECTION_PREFACE, settingsFrame([])]);
  const goawayCode = (frames: ReceivedFrame[]) => {
    const goaway = frames.find((received) => received.type === FrameType.GOAWAY);
    return goaway === undefined ? undefined : goaway.payload.readUInt32BE(4);
  };
  const requestBlock = encodeHeaderBlock([
    ':method',
    'POST',
    ':scheme',
    'http',
    ':path',
    '/x',
    ':authority',
    'h',
  ]);

  it('refuses a connection without the preface', async () => {
    const frames = await exchange(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    assert.equal(goawayCode(frames), ErrorCode.PROTOCOL_ERROR);
  });

  it('refuses a first frame that is not SETTINGS', async () => {
    const frames = await exchange(
      Buffer.concat([CONNECTION_PREFACE, frame(FrameType.PING, 0, 0, Buffer.alloc(8))]),
    );
    assert.equal(goawayCode(frames), ErrorCode.PROTOCOL_ERROR);
  });

  it('answers PING and SETTINGS with their ACKs', async () => {
    const frames = await exchange(
      Buffer.concat([start, frame(FrameType.PING, 0, 0, Buffer.from('12345678'))]),
    );
    const ping = frames.find((received) => received.type === FrameType.PING);
    assert.equal(ping?.flags, Flag.ACK);
    assert.equal(ping?.payload.toString(), '12345678');
    assert.ok(frames.some((received) => received.type === FrameType.SETTINGS && received.flags === Flag.ACK));
  });

  it('refuses an oversized frame, DATA on stream 0, an even stream and a bad header block', async () => {
    const oversized = Buffer.alloc(9);
    oversized.writeUIntBE(20_000, 0, 3);
    assert.equal(goawayCode(await exchange(Buffer.concat([start, oversized]))), ErrorCode.FRAME_SIZE_ERROR);
    const data0 = frame(FrameType.DATA, 0, 0, Buffer.from('x'));
    assert.equal(goawayCode(await exchange(Buffer.concat([start, data0]))), ErrorCode.PROTOCOL_ERROR);
    const even = frame(FrameType.HEADERS, Flag.END_HEADERS, 2, requestBlock);
    assert.equal(goawayCode(await exchange(Buffer.concat([start, even]))), ErrorCode.PROTOCOL_ERROR);
    const garbage = frame(FrameType.HEADERS, Flag.END_HEADERS, 1, Buffer.from([0x80]));
    assert.equal(goawayCode(await exchange(Buffer.concat([start, garbage]))), ErrorCode.COMPRESSION_ERROR);
  });

  it('resets a stream that overruns its window, and a malformed request', async () => {
    const headers = frame(FrameType.HEADERS, Flag.END_HEADERS, 1, requestBlock);
    const flood = Array.from({ length: 5 }, () => frame(FrameType.DATA, 0, 1, Buffer.alloc(16_000)));
    // A paused stream consumes nothing, so its window is never given back.
    const frames = await exchange(Buffer.concat([start, headers, ...flood]), {
      streamWindowBytes: 20_000,
      onStream: (stream) => stream.pause(),
    });
    const reset = frames.find((received) => received.type === FrameType.RST_STREAM);
    assert.equal(reset?.payload.readUInt32BE(0), ErrorCode.FLOW_CONTROL_ERROR);

    const upper = encodeHeaderBlock([':method', 'POST', ':scheme', 'http', ':path', '/x', 'Bad', 'y']);
    const malformed = await exchange(
      Buffer.concat([start, frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 1, upper)]),
    );
    const malformedReset = malformed.find((received) => received.type === FrameType.RST_STREAM);
    assert.equal(malformedReset?.payload.readUInt32BE(0), ErrorCode.PROTOCOL_ERROR);
  });

  it('cuts off a client that opens and resets streams without end (rapid reset)', async () => {
    const opened: Buffer[] = [];
    for (let id = 1; id < 2 * 10_100; id += 2) {
      opened.push(frame(FrameType.HEADERS, Flag.END_HEADERS, id, requestBlock));
      opened.push(frame(FrameType.RST_STREAM, 0, id, Buffer.from([0, 0, 0, ErrorCode.CANCEL])));
    }
    let started = 0;
    const frames = await exchange(Buffer.concat([start, ...opened]), { onStream: () => started++ });
    assert.equal(goawayCode(frames), ErrorCode.ENHANCE_YOUR_CALM);
    assert.ok(started <= 10_001, `${started} streams started`);
  });

  it('refuses streams beyond SETTINGS_MAX_CONCURRENT_STREAMS', async () => {
    const open = [1, 3, 5].map((id) => frame(FrameType.HEADERS, Flag.END_HEADERS, id, requestBlock));
    const frames = await exchange(Buffer.concat([start, ...open]), { maxConcurrentStreams: 2 });
    const reset = frames.find((received) => received.type === FrameType.RST_STREAM);
    assert.equal(reset?.streamId, 5);
    assert.equal(reset?.payload.readUInt32BE(0), ErrorCode.REFUSED_STREAM);
  });

  it('survives arbitrary bytes after a valid start (fuzz)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), (chunks) => {
        const socket = new FakeSocket();
        const connection = new LeanHttp2Connection(socket as unknown as Socket, {
          maxConcurrentStreams: 10,
          onStream: echo,
        });
        socket.emit('data', start);
        for (const chunk of chunks) socket.emit('data', Buffer.from(chunk));
        connection.destroy();
      }),
      { numRuns: 500 },
    );
  });

  it('survives valid frames with random types, flags and payloads (fuzz)', () => {
    const anyFrame = fc.record({
      type: fc.integer({ min: 0, max: 10 }),
      flags: fc.integer({ min: 0, max: 255 }),
      streamId: fc.integer({ min: 0, max: 7 }),
      payload: fc.uint8Array({ maxLength: 64 }),
    });
    fc.assert(
      fc.property(fc.array(anyFrame, { maxLength: 12 }), (frames) => {
        const socket = new FakeSocket();
        const connection = new LeanHttp2Connection(socket as unknown as Socket, {
          maxConcurrentStreams: 10,
          onStream: echo,
        });
        socket.emit('data', start);
        socket.emit('data', frame(FrameType.HEADERS, Flag.END_HEADERS, 1, requestBlock));
        for (const one of frames) socket.emit('data', frame(one.type, one.flags, one.streamId, one.payload));
        connection.destroy();
      }),
      { numRuns: 500 },
    );
  });
});

interface ReceivedFrame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
}

function parseFrames(bytes: Buffer): ReceivedFrame[] {
  const frames: ReceivedFrame[] = [];
  let offset = 0;
  while (bytes.length - offset >= 9) {
    const length = bytes.readUIntBE(offset, 3);
    if (bytes.length - offset - 9 < length) break;
    frames.push({
      type: bytes[offset + 3]!,
      flags: bytes[offset + 4]!,
      streamId: bytes.readUInt32BE(offset + 5) & 0x7fff_ffff,
      payload: bytes.subarray(offset + 9, offset + 9 + length),
    });
    offset += 9 + length;
  }
  return frames;
}

/** Enough of a net.Socket for a connection fed by hand. */
class FakeSocket extends EventEmitter {
  destroyed = false;
  writableLength = 0;
  remoteAddress = '127.0.0.1';
  written: Buffer[] = [];
  write(bytes: Buffer): boolean {
    this.written.push(bytes);
    return true;
  }
  end(): void {}
  resume(): void {}
  destroy(): void {
    this.destroyed = true;
  }
}

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
