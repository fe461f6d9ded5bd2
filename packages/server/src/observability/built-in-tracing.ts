// `--trace-requests all`: traces every request without an OpenTelemetry SDK installed, keeping the
// latest spans in a bounded ring. It exercises exactly the path a real SDK would (request span,
// Raft spans, context carried through the log and across async work), so its cost is what
// tracing costs Synod; an SDK adds its own export cost on top. For export, register an SDK
// instead (e.g. `node --import ./otel-setup.mjs`); this recorder then stays off.
import { randomBytes } from 'node:crypto';
import {
  type Attributes,
  type AttributeValue,
  type Context,
  context as contextApi,
  type Span,
  type SpanContext,
  type SpanOptions,
  type SpanStatus,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalContextManager } from './async-local-context.js';

/** Finished spans kept, newest last. */
export const RECORDED_SPANS_MAX = 1_000;

export interface RecordedSpanSummary {
  readonly name: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly durationMs: number;
  readonly status: SpanStatusCode;
}

class RingRecorder {
  private readonly spans: RecordedSpanSummary[] = [];
  private next = 0;

  add(span: RecordedSpanSummary): void {
    if (this.spans.length < RECORDED_SPANS_MAX) this.spans.push(span);
    else this.spans[this.next] = span;
    this.next = (this.next + 1) % RECORDED_SPANS_MAX;
  }

  recent(): RecordedSpanSummary[] {
    return this.spans.length < RECORDED_SPANS_MAX
      ? [...this.spans]
      : [...this.spans.slice(this.next), ...this.spans.slice(0, this.next)];
  }
}

class RecordingSpan implements Span {
  private readonly context: SpanContext;
  private readonly name: string;
  private readonly parentSpanId: string | undefined;
  private readonly started = performance.now();
  private status: SpanStatus = { code: SpanStatusCode.UNSET };
  private ended = false;
  private readonly recorder: RingRecorder;

  constructor(name: string, context: SpanContext, parentSpanId: string | undefined, recorder: RingRecorder) {
    this.name = name;
    this.context = context;
    this.parentSpanId = parentSpanId;
    this.recorder = recorder;
  }

  spanContext(): SpanContext {
    return this.context;
  }
  setAttribute(_key: string, _value: AttributeValue): this {
    return this;
  }
  setAttributes(_attributes: Attributes): this {
    return this;
  }
  addEvent(): this {
    return this;
  }
  addLink(): this {
    return this;
  }
  addLinks(): this {
    return this;
  }
  setStatus(status: SpanStatus): this {
    this.status = status;
    return this;
  }
  updateName(): this {
    return this;
  }
  recordException(): void {}
  isRecording(): boolean {
    return !this.ended;
  }
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.recorder.add({
      name: this.name,
      traceId: this.context.traceId,
      spanId: this.context.spanId,
      parentSpanId: this.parentSpanId,
      durationMs: performance.now() - this.started,
      status: this.status.code,
    });
  }
}

class RecordingTracer implements Tracer {
  private readonly recorder: RingRecorder;

  constructor(recorder: RingRecorder) {
    this.recorder = recorder;
  }

  startSpan(name: string, options: SpanOptions = {}, context?: Context): Span {
    const parent = options.root ? undefined : trace.getSpanContext(context ?? contextApi.active());
    const valid = parent !== undefined && trace.isSpanContextValid(parent);
    const spanContext: SpanContext = {
      traceId: valid ? parent.traceId : randomBytes(16).toString('hex'),
      spanId: randomBytes(8).toString('hex'),
      traceFlags: 1,
    };
    return new RecordingSpan(name, spanContext, valid ? parent.spanId : undefined, this.recorder);
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, ...rest: unknown[]): ReturnType<F> {
    const fn = rest.at(-1) as F;
    const options = (rest.length > 1 ? rest[0] : {}) as SpanOptions;
    const parent = (rest.length > 2 ? rest[1] : contextApi.active()) as Context;
    const span = this.startSpan(name, options, parent);
    return contextApi.with(trace.setSpan(parent, span), () => fn(span)) as ReturnType<F>;
  }
}

/**
 * Installs the recorder as the process's tracer provider, unless one (an SDK) is there already.
 * Returns the recorder's recent spans, or undefined when an SDK was found and left in charge.
 */
export function enableBuiltInTracing(): { recent(): RecordedSpanSummary[] } | undefined {
  const recorder = new RingRecorder();
  const provider: TracerProvider = { getTracer: () => new RecordingTracer(recorder) };
  if (!trace.setGlobalTracerProvider(provider)) return undefined;
  contextApi.setGlobalContextManager(new AsyncLocalContextManager());
  return recorder;
}
