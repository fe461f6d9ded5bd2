// The observer inside a real GrpcServer on 127.0.0.1: RED metrics per method and code, and the
// request span continued from the client's traceparent, active while the handler runs.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { context as contextApi, SpanKind, trace } from '@opentelemetry/api';
import { type MethodCodec, unary } from '../grpc/methods.js';
import { GrpcServer } from '../grpc/server.js';
import { GrpcError, GrpcStatus } from '../grpc/status.js';
import { GrpcObserver } from './grpc-observer.js';
import { AsyncLocalContextManager, MemoryTracerProvider } from './memory-tracer.fixture.js';
import { SynodMetrics } from './metrics.js';
import { parsePrometheusText } from './prom-text-parser.js';
import { synodTracer } from './tracing.js';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const bytes: MethodCodec<Uint8Array, Uint8Array> = { decode: (data) => data, encode: (data) => data };
const silent = { warn: () => {}, error: () => {} };

/** One unary call over raw HTTP/2; resolves with the grpc-status the server sent. */
function callRaw(port: number, path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const stream = session.request({
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
      ...headers,
    });
    let status: string | undefined;
    stream.on('response', (response) => {
      status ??= response['grpc-status'] as string | undefined;
    });
    stream.on('trailers', (trailers) => {
      status ??= trailers['grpc-status'] as string | undefined;
    });
    stream.on('data', () => {});
    stream.on('close', () => {
      session.close();
      resolve(Number(status));
    });
    stream.end(Buffer.from([0, 0, 0, 0, 1, 42]));
  });
}

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('GrpcObserver in a GrpcServer', () => {
  const provider = new MemoryTracerProvider();
  const metrics = new SynodMetrics({ processMetrics: false });
  const observer = new GrpcObserver({ metrics: metrics.grpc, tracer: synodTracer(provider) });
  const server = new GrpcServer({ logger: silent, observer });
  let activeSpanIdInHandler: string | undefined;
  let markHandlerStarted = (): void => {};
  const handlerStarted = new Promise<void>((resolve) => {
    markHandlerStarted = resolve;
  });
  let port = 0;

  before(async () => {
    contextApi.setGlobalContextManager(new AsyncLocalContextManager());
    server.addService('test.Echo', {
      Echo: unary(bytes, async (request) => {
        await new Promise((resolve) => setImmediate(resolve));
        activeSpanIdInHandler = trace.getSpan(contextApi.active())?.spanContext().spanId;
        return request;
      }),
      Slow: unary(
        bytes,
        (request, context) =>
          new Promise((resolve) => {
            markHandlerStarted();
            context.signal.addEventListener('abort', () => resolve(request));
          }),
      ),
      Missing: unary(bytes, async () => {
        throw new GrpcError(GrpcStatus.NOT_FOUND, 'no such thing');
      }),
    });
    port = await server.listen('127.0.0.1', 0);
  });

  after(async () => {
    await server.close();
    contextApi.disable();
  });

  it('counts calls by method and code and leaves no call in flight', async () => {
    assert.equal(await callRaw(port, '/test.Echo/Echo'), GrpcStatus.OK);
    assert.equal(await callRaw(port, '/test.Echo/Echo'), GrpcStatus.OK);
    assert.equal(await callRaw(port, '/test.Echo/Missing'), GrpcStatus.NOT_FOUND);
    const result = parsePrometheusText((await metrics.scrape()).body);
    assert.ok(result.ok);
    const samples = result.families.get('synod_grpc_requests_total')!.samples;
    const count = (method: string, code: string) =>
      samples.find((sample) => sample.labels.method === method && sample.labels.code === code)?.value;
    assert.equal(count('test.Echo/Echo', 'OK'), 2);
    assert.equal(count('test.Echo/Missing', 'NOT_FOUND'), 1);
    const durations = result.families.get('synod_grpc_request_duration_seconds')!.samples;
    const echoCount = durations.find(
      (sample) => sample.name.endsWith('_count') && sample.labels.method === 'test.Echo/Echo',
    );
    assert.equal(echoCount?.value, 2);
    assert.equal(metrics.grpc.inflight, 0);
  });

  it('continues the client trace and runs the handler inside the request span', async () => {
    provider.spans.length = 0;
    assert.equal(await callRaw(port, '/test.Echo/Echo', { traceparent: TRACEPARENT }), GrpcStatus.OK);
    const [span] = provider.named('test.Echo/Echo');
    assert.equal(span?.kind, SpanKind.SERVER);
    assert.equal(span?.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(span?.parentSpanId, '00f067aa0ba902b7');
    assert.equal(span?.ended, true);
    assert.equal(span?.attributes['rpc.grpc.status_code'], 0);
    assert.equal(activeSpanIdInHandler, span?.spanId, 'the handler sees the request span as active');
  });

  it('a call the client cancels while its handler runs ends as CANCELLED', async () => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const stream = session.request({
      ':method': 'POST',
      ':path': '/test.Echo/Slow',
      'content-type': 'application/grpc',
    });
    stream.end(Buffer.from([0, 0, 0, 0, 1, 42]));
    await handlerStarted;
    stream.close(http2.constants.NGHTTP2_CANCEL);
    await new Promise((resolve) => stream.on('close', resolve));
    session.close();
    await waitFor(() => metrics.grpc.inflight === 0);
    const result = parsePrometheusText((await metrics.scrape()).body);
    assert.ok(result.ok);
    const cancelled = result.families
      .get('synod_grpc_requests_total')!
      .samples.find((sample) => sample.labels.code === 'CANCELLED');
    assert.equal(cancelled?.value, 1);
    assert.equal(metrics.grpc.inflight, 0);
  });
});
