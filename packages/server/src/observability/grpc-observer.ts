// The gRPC server's call observer: RED metrics per method (rate, errors by code, duration) and the
// per-request server span, continued from the client's `traceparent` metadata. Per call it costs one
// map lookup, a few array increments and, without a tracing SDK, one no-op span.
import type { IncomingHttpHeaders } from 'node:http2';
import {
  type Context,
  context as contextApi,
  ROOT_CONTEXT,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { CallStream } from '../grpc/call.js';
import type { GrpcCallObservation, GrpcCallObserver } from '../grpc/server.js';
import type { GrpcStatusCode } from '../grpc/status.js';
import { GrpcMetrics, type MethodCells } from './metrics.js';
import {
  endRequestSpan,
  type RequestSpan,
  type RequestSpanTemplate,
  requestSpanTemplate,
  startRequestSpan,
  synodTracer,
  TRACEPARENT_HEADER,
} from './tracing.js';

export interface GrpcObserverOptions {
  readonly metrics: GrpcMetrics;
  /** Default: the `synod` tracer of the global provider (no-op unless an SDK is registered). */
  readonly tracer?: Tracer;
}

/**
 * @example
 * const observer = new GrpcObserver({ metrics: metrics.grpc });
 * const grpc = new GrpcServer({ observer, logger });
 */
export class GrpcObserver implements GrpcCallObserver {
  private readonly metrics: GrpcMetrics;
  private readonly tracer: Tracer;
  /** Per method path, so a call rebuilds neither its label nor its span name and attributes. */
  private readonly routes = new Map<string, ObservedMethod>();

  constructor(options: GrpcObserverOptions) {
    this.metrics = options.metrics;
    // A ProxyTracer: it follows a provider registered later, so caching it here is safe.
    this.tracer = options.tracer ?? synodTracer();
  }

  callStarted(method: string, headers: IncomingHttpHeaders): GrpcCallObservation {
    let route = this.routes.get(method);
    if (route === undefined) {
      const span = requestSpanTemplate(method);
      route = { cells: this.metrics.forMethod(span.name), span };
      this.routes.set(method, route);
    }
    const traceparent = headers[TRACEPARENT_HEADER];
    const request = startRequestSpan(
      this.tracer,
      route.span,
      typeof traceparent === 'string' ? traceparent : undefined,
    );
    this.metrics.inflight++;
    return new CallObservation(this.metrics, route.cells, request);
  }
}

interface ObservedMethod {
  readonly cells: MethodCells;
  readonly span: RequestSpanTemplate;
}

class CallObservation implements GrpcCallObservation {
  private readonly metrics: GrpcMetrics;
  private readonly cells: MethodCells;
  private readonly span: Span;
  private readonly context: Context;
  private readonly carriesContext: boolean;
  private readonly startedMs = performance.now();
  private ended = false;

  constructor(metrics: GrpcMetrics, cells: MethodCells, request: RequestSpan) {
    this.metrics = metrics;
    this.cells = cells;
    this.span = request.span;
    this.context = request.context;
    this.carriesContext = this.context !== ROOT_CONTEXT;
  }

  run(stream: CallStream, start: () => void): void {
    // Without a recording span or a caller's trace there is no context worth carrying.
    if (!this.carriesContext) {
      start();
      return;
    }
    // The handler runs from the stream's 'data'/'end' events, not from here: bind them too.
    contextApi.bind(this.context, stream);
    contextApi.with(this.context, start);
  }

  callEnded(code: GrpcStatusCode): void {
    if (this.ended) return;
    this.ended = true;
    this.metrics.inflight--;
    GrpcMetrics.record(this.cells, code, (performance.now() - this.startedMs) / 1000);
    endRequestSpan(this.span, code);
  }
}
