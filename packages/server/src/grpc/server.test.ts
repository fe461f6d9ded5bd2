// The server against a real @grpc/grpc-js client on 127.0.0.1: every call kind, statuses,
// metadata, deadlines, cancellation, message size limits and graceful shutdown.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { INTERNAL_ERROR_MESSAGE } from './call.js';
import {
  bidiStreaming,
  type CallContext,
  clientStreaming,
  type MethodCodec,
  serverStreaming,
  unary,
} from './methods.js';
import { DEFAULT_MAX_RECEIVE_MESSAGE_BYTES, GrpcServer } from './server.js';
import { GrpcError, GrpcStatus } from './status.js';

const bytesCodec: MethodCodec<Uint8Array, Uint8Array> = {
  decode: (bytes) => bytes,
  encode: (bytes) => bytes,
};
const textCodec: MethodCodec<string, string> = {
  decode: (bytes) => new TextDecoder('utf-8', { fatal: true }).decode(bytes),
  encode: (text) => Buffer.from(text, 'utf8'),
};
const serializeText = (text: string): Buffer => Buffer.from(text, 'utf8');
const deserializeText = (bytes: Buffer): string => bytes.toString('utf8');
const serializeBytes = (bytes: Buffer): Buffer => bytes;
const deserializeBytes = (bytes: Buffer): Buffer => bytes;

/** A promise with its resolver, for handlers to report what they saw. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((onResolve) => {
    resolve = onResolve;
  });
  return { promise, resolve };
}

function abortReason(signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(signal.reason);
    else signal.addEventListener('abort', () => resolve(signal.reason), { once: true });
  });
}

interface UnaryOutcome<T> {
  readonly error: grpc.ServiceError | null;
  readonly value: T | undefined;
  readonly headers: grpc.Metadata | undefined;
  readonly status: grpc.StatusObject | undefined;
}

function callUnary<Req, Res>(
  client: grpc.Client,
  path: string,
  serialize: (value: Req) => Buffer,
  deserialize: (bytes: Buffer) => Res,
  request: Req,
  options: { metadata?: grpc.Metadata; deadline?: number } = {},
): Promise<UnaryOutcome<Res>> {
  return new Promise((resolve) => {
    let headers: grpc.Metadata | undefined;
    let status: grpc.StatusObject | undefined;
    let result: { error: grpc.ServiceError | null; value: Res | undefined } | undefined;
    const settle = (): void => {
      if (result !== undefined && status !== undefined) resolve({ ...result, headers, status });
    };
    const callOptions: grpc.CallOptions =
      options.deadline === undefined ? {} : { deadline: options.deadline };
    const call = client.makeUnaryRequest(
      path,
      serialize,
      deserialize,
      request,
      options.metadata ?? new grpc.Metadata(),
      callOptions,
      (error, value) => {
        result = { error, value };
        settle();
      },
    );
    call.on('metadata', (metadata) => {
      headers = metadata;
    });
    call.on('status', (received) => {
      status = received;
      settle();
    });
  });
}

const echoText = (client: grpc.Client, text: string) =>
  callUnary(client, '/test.Echo/Echo', serializeText, deserializeText, text);

/** Every suite runs on our HTTP/2 (the default) and on node:http2 (SYNOD_HTTP2_ENGINE=node). */
for (const http2Engine of ['lean', 'node'] as const) {
  describe(`gRPC server with a @grpc/grpc-js client (${http2Engine} HTTP/2)`, () => {
    const logged: { object: object; message: string }[] = [];
    const server = new GrpcServer({
      http2Engine,
      logger: {
        warn: (object, message) => logged.push({ object, message }),
        error: (object, message) => logged.push({ object, message }),
      },
    });
    const seen = {
      cancel: deferred<unknown>(),
    };
    let client: grpc.Client;

    before(async () => {
      server.addService('test.Echo', {
        Echo: unary(textCodec, async (request, context) => {
          const echoed = context.metadata.get('x-echo');
          if (echoed !== undefined) context.responseMetadata.set('x-echoed', echoed);
          const data = context.metadata.getBinary('x-data-bin');
          if (data !== undefined) context.responseTrailers.set('x-data-bin', Uint8Array.from(data).reverse());
          return request;
        }),
        EchoBytes: unary(bytesCodec, async (request) => request),
        Peer: unary(
          textCodec,
          async (_request, context: CallContext) => `${context.peer.address} ${context.method}`,
        ),
        Fail: unary(textCodec, async (request) => {
          throw new GrpcError(GrpcStatus.NOT_FOUND, request);
        }),
        Crash: unary(textCodec, async () => {
          throw new TypeError('secret internal detail');
        }),
        Deadline: unary(textCodec, async (_request, context) => String(context.deadlineMs)),
        Count: serverStreaming(textCodec, async (request, call) => {
          for (let i = 1; i <= Number(request); i++) await call.send(String(i));
        }),
        StreamUntilCancelled: serverStreaming(textCodec, async (_request, call) => {
          await call.send('first');
          seen.cancel.resolve(await abortReason(call.signal));
        }),
        Sum: clientStreaming(textCodec, async (requests) => {
          let total = 0;
          for await (const request of requests) total += Number(request);
          return String(total);
        }),
        Shout: bidiStreaming(textCodec, async (requests, call) => {
          for await (const request of requests) {
            if (request === 'bye') return;
            await call.send(request.toUpperCase());
          }
        }),
      });
      const port = await server.listen('127.0.0.1', 0);
      client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
        'grpc.max_receive_message_length': -1,
      });
    });

    after(async () => {
      client.close();
      await server.close();
    });

    test('a unary call answers with the handler’s response and status OK', async () => {
      const outcome = await echoText(client, 'hello');
      assert.equal(outcome.error, null);
      assert.equal(outcome.value, 'hello');
      assert.equal(outcome.status?.code, grpc.status.OK);
    });

    test('request metadata reaches the handler; response headers and trailers reach the client', async () => {
      const metadata = new grpc.Metadata();
      metadata.set('x-echo', 'ascii value');
      metadata.set('x-data-bin', Buffer.from([1, 2, 3, 255]));
      const outcome = await callUnary(client, '/test.Echo/Echo', serializeText, deserializeText, 'm', {
        metadata,
      });
      assert.deepEqual(outcome.headers?.get('x-echoed'), ['ascii value']);
      assert.deepEqual(outcome.status?.metadata.get('x-data-bin'), [Buffer.from([255, 3, 2, 1])]);
    });

    test('the handler sees the peer address and the full method path', async () => {
      const outcome = await callUnary(client, '/test.Echo/Peer', serializeText, deserializeText, '');
      assert.equal(outcome.value, '127.0.0.1 /test.Echo/Peer');
    });

    test('a thrown GrpcError reaches the client with its code and message, percent-encoding included', async () => {
      const message = 'etcdserver: requested lease not found — 100% sure ✓';
      const outcome = await callUnary(client, '/test.Echo/Fail', serializeText, deserializeText, message);
      assert.equal(outcome.error?.code, grpc.status.NOT_FOUND);
      assert.equal(outcome.error?.details, message);
    });

    test('any other exception becomes INTERNAL with a generic message, is logged, and the server keeps serving', async () => {
      logged.length = 0;
      const outcome = await callUnary(client, '/test.Echo/Crash', serializeText, deserializeText, '');
      assert.equal(outcome.error?.code, grpc.status.INTERNAL);
      assert.equal(outcome.error?.details, INTERNAL_ERROR_MESSAGE);
      assert.ok(!outcome.error?.details.includes('secret'));
      assert.equal(logged.length, 1);
      assert.match(String((logged[0]!.object as { err: unknown }).err), /secret internal detail/);
      assert.equal((await echoText(client, 'still here')).value, 'still here');
    });

    test('a request the codec cannot decode is INVALID_ARGUMENT', async () => {
      const outcome = await callUnary(
        client,
        '/test.Echo/Echo',
        serializeBytes,
        deserializeText,
        Buffer.from([0xff, 0xfe]),
      );
      assert.equal(outcome.error?.code, grpc.status.INVALID_ARGUMENT);
      assert.match(outcome.error?.details ?? '', /^grpc: failed to unmarshal the received message/);
    });

    test('unknown methods and services are UNIMPLEMENTED', async () => {
      const method = await callUnary(client, '/test.Echo/Nope', serializeText, deserializeText, '');
      assert.equal(method.error?.code, grpc.status.UNIMPLEMENTED);
      assert.equal(method.error?.details, 'unknown method Nope for service test.Echo');
      const service = await callUnary(client, '/test.Missing/Echo', serializeText, deserializeText, '');
      assert.equal(service.error?.code, grpc.status.UNIMPLEMENTED);
      assert.equal(service.error?.details, 'unknown service test.Missing');
    });

    test('a server-streaming call delivers every message in order, then OK', async () => {
      const call = client.makeServerStreamRequest('/test.Echo/Count', serializeText, deserializeText, '5');
      const received: string[] = [];
      for await (const message of call) received.push(message as string);
      assert.deepEqual(received, ['1', '2', '3', '4', '5']);
    });

    test('a client-streaming call reads every request before answering', async () => {
      const result = await new Promise<string | undefined>((resolve, reject) => {
        const call = client.makeClientStreamRequest(
          '/test.Echo/Sum',
          serializeText,
          deserializeText,
          (error, value) => (error === null ? resolve(value) : reject(error)),
        );
        for (const value of ['1', '2', '3', '4']) call.write(value);
        call.end();
      });
      assert.equal(result, '10');
    });

    test('a bidirectional call answers each request as it comes, and ends when the handler returns', async () => {
      const call = client.makeBidiStreamRequest('/test.Echo/Shout', serializeText, deserializeText);
      const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
      const received: string[] = [];
      const firstAnswer = new Promise<void>((resolve) => {
        call.on('data', (message: string) => {
          received.push(message);
          resolve();
        });
      });
      call.on('error', () => {});
      call.write('one');
      await firstAnswer;
      call.write('two');
      call.write('bye');
      call.write('ignored after the handler returned');
      assert.equal((await status).code, grpc.status.OK);
      assert.deepEqual(received, ['ONE', 'TWO']);
    });

    test('the client’s deadline reaches the handler as deadlineMs (grpc-timeout from a real client)', async () => {
      // Expiry itself is tested with a raw client (server-raw.test.ts): with grpc-js the client's own
      // timer races the server's, and either side may end the call first.
      const deadline = Date.now() + 60_000;
      const outcome = await callUnary(client, '/test.Echo/Deadline', serializeText, deserializeText, '', {
        deadline,
      });
      const deadlineMs = Number(outcome.value);
      assert.ok(Math.abs(deadlineMs - deadline) < 5_000, `handler saw ${deadlineMs}, client set ${deadline}`);
    });

    test('a client cancel aborts the handler’s signal with CANCELLED and frees the call', async () => {
      const call = client.makeServerStreamRequest(
        '/test.Echo/StreamUntilCancelled',
        serializeText,
        deserializeText,
        '',
      );
      call.on('error', () => {});
      await new Promise<void>((resolve) => call.once('data', () => resolve()));
      call.cancel();
      const reason = await seen.cancel.promise;
      assert.ok(reason instanceof GrpcError);
      assert.equal(reason.code, GrpcStatus.CANCELLED);
      assert.equal(server.activeCalls, 0);
    });

    test('a message near the receive limit, split across many DATA frames, arrives intact', async () => {
      const payload = randomBytes(DEFAULT_MAX_RECEIVE_MESSAGE_BYTES);
      const outcome = await callUnary(
        client,
        '/test.Echo/EchoBytes',
        serializeBytes,
        deserializeBytes,
        payload,
      );
      assert.equal(outcome.error, null);
      assert.ok(outcome.value?.equals(payload));
    });

    test('a message over the receive limit is RESOURCE_EXHAUSTED, and the connection keeps serving', async () => {
      const payload = Buffer.alloc(DEFAULT_MAX_RECEIVE_MESSAGE_BYTES + 1);
      const outcome = await callUnary(
        client,
        '/test.Echo/EchoBytes',
        serializeBytes,
        deserializeBytes,
        payload,
      );
      assert.equal(outcome.error?.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.match(outcome.error?.details ?? '', /received message larger than max \(2097153 vs\. 2097152\)/);
      assert.equal((await echoText(client, 'after')).value, 'after');
    });
  });

  describe(`graceful close (${http2Engine} HTTP/2)`, () => {
    test('close() lets an in-flight call finish, then resolves', async () => {
      const server = new GrpcServer({ http2Engine });
      const started = deferred<void>();
      const gate = deferred<void>();
      server.addService('test.Slow', {
        Wait: unary(textCodec, async (request) => {
          started.resolve();
          await gate.promise;
          return request;
        }),
      });
      const port = await server.listen('127.0.0.1', 0);
      const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
      const outcome = callUnary(client, '/test.Slow/Wait', serializeText, deserializeText, 'done');
      await started.promise;
      const closed = server.close(60_000);
      gate.resolve();
      assert.equal((await outcome).value, 'done');
      await closed;
      client.close();
    });

    test('calls still running when the grace period ends get UNAVAILABLE and an aborted signal', async () => {
      const server = new GrpcServer({ http2Engine });
      const started = deferred<void>();
      const aborted = deferred<unknown>();
      server.addService('test.Stuck', {
        Wait: unary(textCodec, async (_request, context) => {
          started.resolve();
          aborted.resolve(await abortReason(context.signal));
          return 'never sent';
        }),
      });
      const port = await server.listen('127.0.0.1', 0);
      const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
      const outcome = callUnary(client, '/test.Stuck/Wait', serializeText, deserializeText, '');
      await started.promise;
      await server.close(50);
      assert.equal((await outcome).error?.code, grpc.status.UNAVAILABLE);
      const reason = await aborted.promise;
      assert.ok(reason instanceof GrpcError);
      assert.equal(reason.code, GrpcStatus.UNAVAILABLE);
      client.close();
    });
  });
}
