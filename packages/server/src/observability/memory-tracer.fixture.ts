// A recording TracerProvider for tests: the small @opentelemetry/api interfaces implemented
// directly (no SDK package), keeping every finished span with its parent, kind, attributes and status.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  type Attributes,
  type AttributeValue,
  type Context,
  type ContextManager,
  context as contextApi,
  ROOT_CONTEXT,
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

/** The active-context tracking an SDK would install, on AsyncLocalStorage (for handler-context tests). */
export class AsyncLocalContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<Context>();

  active(): Context {
    return this.storage.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.storage.run(context, () => fn.call(thisArg, ...args));
  }
  /** Binds functions, and the listeners an EventEmitter gets from now on, to `context`. */
  bind<T>(context: Context, target: T): T {
    if (target instanceof EventEmitter) {
      this.bindEmitter(context, target);
      return target;
    }
    if (typeof target !== 'function') return target;
    const fn = target as (...args: unknown[]) => unknown;
    return ((...args: unknown[]) => this.storage.run(context, () => fn(...args))) as T;
  }

  private bindEmitter(context: Context, emitter: EventEmitter): void {
    type Listener = (...args: unknown[]) => void;
    const boundOf = new WeakMap<Listener, Listener>();
    const storage = this.storage;
    const patchable = emitter as unknown as Record<
      string,
      (event: string | symbol, listener: Listener) => unknown
    >;
    for (const method of ['on', 'addListener', 'once', 'prependListener', 'prependOnceListener']) {
      const original = patchable[method]!;
      patchable[method] = function (this: EventEmitter, event, listener) {
        let bound = boundOf.get(listener);
        if (bound === undefined) {
          bound = (...args) => storage.run(context, () => listener.apply(this, args));
          boundOf.set(listener, bound);
        }
        return original.call(this, event, bound);
      };
    }
    for (const method of ['off', 'removeListener']) {
      const original = patchable[method]!;
      patchable[method] = function (this: EventEmitter, event, listener) {
        return original.call(this, event, boundOf.get(listener) ?? listener);
      };
    }
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.storage.disable();
    return this;
  }
}
