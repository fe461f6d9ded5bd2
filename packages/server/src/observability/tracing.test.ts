import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import fc from 'fast-check';
import { MemoryTracerProvider } from './memory-tracer.fixture.js';
import {
  CARRIED_TRACE_CONTEXT_BYTES,
  contextFromCarried,
  decodeTraceContext,
  encodeTraceContext,
  endRequestSpan,
  formatTraceparent,
  parseTraceparent,
  RAFT_SPAN,
  startRaftSpan,
  startRequestSpan,
  synodTracer,
  TRACER_NAME,
} from './tracing.js';

const EXAMPLE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const hex = (length: number) =>
  fc
    .string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length })
    .filter((text) => !/^0+$/.test(text));

describe('traceparent', () => {
  it('parses the W3C example into a remote span context', () => {
    assert.deepEqual(parseTraceparent(EXAMPLE), {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: 1,
      isRemote: true,
    });
  });

  it('formats what it parses back to the same header', () => {
    fc.assert(
      fc.property(hex(32), hex(16), fc.constantFrom('00', '01'), (traceId, spanId, flags) => {
        const header = `00-${traceId}-${spanId}-${flags}`;
        const parsed = parseTraceparent(header);
        assert.ok(parsed);
        assert.equal(formatTraceparent(parsed), header);
      }),
    );
  });

  it('refuses malformed headers', () => {
    const invalid = [
      '',
      EXAMPLE.toUpperCase(),
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      `${EXAMPLE}-extra`, // version 00 has exactly four fields
      '00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g',
      '00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01',
      '0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x',
    ];
    for (const header of invalid) assert.equal(parseTraceparent(header), undefined, header);
  });

  it('accepts a later version with extra fields after a dash', () => {
    const parsed = parseTraceparent('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future');
    assert.equal(parsed?.spanId, '00f067aa0ba902b7');
  });

  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (text) => {
        const parsed = parseTraceparent(text);
        if (parsed !== undefined) assert.ok(trace.isSpanContextValid(parsed));
      }),
    );
  });
});

describe('a trace context carried in a replicated command', () => {
  it('decodes to the span context it encoded', () => {
    fc.assert(
      fc.property(hex(32), hex(16), fc.integer({ min: 0, max: 255 }), (traceId, spanId, traceFlags) => {
        const context = trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId, traceFlags });
        const bytes = encodeTraceContext(context);
        assert.equal(bytes?.length, CARRIED_TRACE_CONTEXT_BYTES);
        assert.deepEqual(decodeTraceContext(bytes!), { traceId, spanId, traceFlags, isRemote: true });
      }),
    );
  });

  it('is absent without a valid span, and garbage decodes to nothing', () => {
    assert.equal(encodeTraceContext(ROOT_CONTEXT), undefined);
    assert.equal(decodeTraceContext(new Uint8Array(CARRIED_TRACE_CONTEXT_BYTES)), undefined);
    assert.equal(decodeTraceContext(new Uint8Array(3)), undefined);
    const wrongFormat = new Uint8Array(CARRIED_TRACE_CONTEXT_BYTES).fill(7);
    assert.equal(decodeTraceContext(wrongFormat), undefined);
    assert.equal(contextFromCarried(undefined), ROOT_CONTEXT);
  });
});

describe('spans', () => {
  it('a request span continues the trace of the traceparent it was given', () => {
    const provider = new MemoryTracerProvider();
    const { span, context } = startRequestSpan(synodTracer(provider), '/etcdserverpb.KV/Put', EXAMPLE);
    endRequestSpan(span, 0);
    const [recorded] = provider.spans;
    assert.equal(recorded?.tracerName, TRACER_NAME);
    assert.equal(recorded?.name, 'etcdserverpb.KV/Put');
    assert.equal(recorded?.kind, SpanKind.SERVER);
    assert.equal(recorded?.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(recorded?.parentSpanId, '00f067aa0ba902b7');
    assert.equal(recorded?.attributes['rpc.service'], 'etcdserverpb.KV');
    assert.equal(recorded?.attributes['rpc.method'], 'Put');
    assert.equal(recorded?.attributes['rpc.grpc.status_code'], 0);
    assert.equal(recorded?.ended, true);
    assert.equal(trace.getSpanContext(context)?.spanId, recorded?.spanId);
  });

  it('an invalid traceparent starts a new trace', () => {
    const provider = new MemoryTracerProvider();
    startRequestSpan(synodTracer(provider), '/etcdserverpb.KV/Range', 'garbage').span.end();
    assert.equal(provider.spans[0]?.parentSpanId, undefined);
    assert.notEqual(provider.spans[0]?.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it('server errors mark the request span as failed, client errors do not', () => {
    const provider = new MemoryTracerProvider();
    const tracer = synodTracer(provider);
    endRequestSpan(startRequestSpan(tracer, '/s/A', undefined).span, 14);
    endRequestSpan(startRequestSpan(tracer, '/s/B', undefined).span, 5);
    assert.equal(provider.named('s/A')[0]?.status.code, SpanStatusCode.ERROR);
    assert.equal(provider.named('s/B')[0]?.status.code, SpanStatusCode.UNSET);
  });

  it('raft spans hang under the request, and a follower continues from the carried bytes', () => {
    const provider = new MemoryTracerProvider();
    const tracer = synodTracer(provider);
    const request = startRequestSpan(tracer, '/etcdserverpb.KV/Put', EXAMPLE);
    const propose = startRaftSpan(tracer, RAFT_SPAN.propose, request.context, { 'raft.group': '0' });
    const carried = encodeTraceContext(trace.setSpan(request.context, propose));
    propose.end();
    const commit = startRaftSpan(tracer, RAFT_SPAN.commit, request.context);
    commit.end();
    const apply = startRaftSpan(tracer, RAFT_SPAN.apply, contextFromCarried(carried));
    apply.end();
    const requestRecord = provider.spans[0]!;
    const [proposeRecord] = provider.named('raft.propose');
    const [applyRecord] = provider.named('raft.apply');
    assert.equal(proposeRecord?.parentSpanId, requestRecord.spanId);
    assert.equal(proposeRecord?.attributes['raft.group'], '0');
    assert.equal(provider.named('raft.commit')[0]?.parentSpanId, requestRecord.spanId);
    assert.equal(applyRecord?.parentSpanId, proposeRecord?.spanId);
    assert.equal(applyRecord?.traceId, requestRecord.traceId);
  });

  it('without a registered SDK spans are no-ops and record nothing', () => {
    const { span } = startRequestSpan(synodTracer(), '/etcdserverpb.KV/Put', undefined);
    assert.equal(span.isRecording(), false);
    span.end();
  });
});
