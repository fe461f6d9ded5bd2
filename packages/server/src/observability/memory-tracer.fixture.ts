import { randomBytes } from 'node:crypto';
import {
  type Attributes,
  type AttributeValue,
  type Context,
  context as contextApi,
  type Span,
  type SpanContext,
  SpanKind,
  type SpanOptions,
  type SpanStatus,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';

export interface RecordedSpan {
  readonly tracerName: string;
  name: string;
  readonly kind: SpanKind;
  readonly traceId: string;
  readonly spanId: string;
  /** The parent's span id; undefined for a root span. */
  readonly parentSpanId: string | undefined;
  readonly attributes: Record<string, AttributeValue>;
  status: SpanStatus;
  ended: boolean;
}

class MemorySpan implements Span {
  readonly record: RecordedSpan;
  private readonly context: SpanContext;

  constructor(record: RecordedSpan) {
    this.record = record;
    this.context = { traceId: record.traceId, spanId: record.spanId, traceFlags: 1 };
  }

  spanContext(): SpanContext {
    return this.context;
  }
  setAttribute(key: string, value: AttributeValue): this {
    this.record.attributes[key] = value;
    return this;
  }
  setAttributes(attributes: Attributes): this {
    for (const [key, value] of Object.entries(attributes))
      if (value !== undefined) this.setAttribute(key, value);
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
    this.record.status = status;
    return this;
  }
  updateName(name: string): this {
    this.record.name = name;
    return this;
  }
  end(): void {
    this.record.ended = true;
  }
  isRecording(): boolean {
    return !this.record.ended;
  }
  recordException(): void {}
}

class MemoryTracer implements Tracer {
  private readonly name: string;
  private readonly spans: RecordedSpan[];

  constructor(name: string, spans: RecordedSpan[]) {
    this.name = name;
    this.spans = spans;
  }

  startSpan(name: string, options: SpanOptions = {}, context?: Context): Span {
    const parent = options.root ? undefined : trace.getSpanContext(context ?? contextApi.active());
    const valid = parent !== undefined && trace.isSpanContextValid(parent);
    const record: RecordedSpan = {
      tracerName: this.name,
      name,
      kind: options.kind ?? SpanKind.INTERNAL,
      traceId: valid ? parent.traceId : randomBytes(16).toString('hex'),
      spanId: randomBytes(8).toString('hex'),
      parentSpanId: valid ? parent.spanId : undefined,
      attributes: {},
      status: { code: SpanStatusCode.UNSET },
      ended: false,
    };
    const span = new MemorySpan(record);
    if (options.attributes) span.setAttributes(options.attributes);
    this.spans.push(record);
    return span;
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, ...rest: unknown[]): ReturnType<F> {
    const fn = rest.at(-1) as F;
    const options = (rest.length > 1 ? rest[0] : {}) as SpanOptions;
    const parent = (rest.length > 2 ? rest[1] : contextApi.active()) as Context;
    const span = this.startSpan(name, options, parent);
    return contextApi.with(trace.setSpan(parent, span), () => fn(span)) as ReturnType<F>;
  }
}

/** Records every span its tracers start, in start order. */
export class MemoryTracerProvider implements TracerProvider {
  readonly spans: RecordedSpan[] = [];

  getTracer(name: string): Tracer {
    return new MemoryTracer(name, this.spans);
  }

  /** The recorded spans called `name`. */
  named(name: string): RecordedSpan[] {
    return this.spans.filter((span) => span.name === name);
  }
}

export { AsyncLocalContextManager } from './async-local-context.js';
