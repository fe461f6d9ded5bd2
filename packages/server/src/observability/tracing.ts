// OpenTelemetry spans for Synod: the per-request server span (continued from a client's W3C
// `traceparent`), the Raft write-path spans (raft.propose → raft.commit → raft.apply) and a compact
// byte form of a span context, so a command replicated through the log carries its trace to the
// followers that apply it. Only @opentelemetry/api is used: every span is a no-op until the user
// registers an SDK (`trace.setGlobalTracerProvider`), so the cost without one is a few allocations.
import {
  type Attributes,
  type Context,
  context as contextApi,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  type SpanOptions,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';

/** The instrumentation scope every Synod span is created under. */
export const TRACER_NAME = 'synod';

/** The gRPC metadata key (and HTTP header) that carries the caller's span (W3C Trace Context). */
export const TRACEPARENT_HEADER = 'traceparent';

/**
 * The tracer named `synod` from `provider`, or from the globally registered provider (a no-op one
 * unless the user registered an SDK).
 *
 * @example
 * const tracer = synodTracer();
 * const span = tracer.startSpan('raft.propose');
 */
export function synodTracer(provider?: TracerProvider): Tracer {
  return (provider ?? trace.getTracerProvider()).getTracer(TRACER_NAME);
}

// ─── W3C traceparent ───────────────────────────────────────────────────────────

/** `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`. */
const TRACEPARENT_V00_LENGTH = 55;
/** version-traceid-parentid-flags, then (for versions after 00 only) `-` and anything. */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/s;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

/**
 * Parses a W3C `traceparent` header (Trace Context Level 1, §3.2) into a remote span context, or
 * undefined when it is not valid: then the caller starts a new trace, as the spec says. Strict:
 * lower-case hex only, no all-zero ids, version `ff` refused, version `00` exactly 55 characters;
 * a higher version may append fields after a `-` (forward compatibility, §3.2.4).
 *
 * @example
 * parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
 * // { traceId: '4bf9…4736', spanId: '00f0…02b7', traceFlags: 1, isRemote: true }
 */
export function parseTraceparent(header: string): SpanContext | undefined {
  const match = TRACEPARENT.exec(header);
  if (match === null) return undefined;
  const [, version, traceId, spanId, flags] = match as unknown as [string, string, string, string, string];
  if (version === 'ff' || (version === '00' && header.length !== TRACEPARENT_V00_LENGTH)) return undefined;
  if (traceId === ZERO_TRACE_ID || spanId === ZERO_SPAN_ID) return undefined;
  return { traceId, spanId, traceFlags: Number.parseInt(flags, 16), isRemote: true };
}

/** Formats a span context as a version-00 `traceparent` value (only the sampled flag is kept, as §3.2.2.5 asks). */
export function formatTraceparent(spanContext: SpanContext): string {
  const flags = (spanContext.traceFlags & 1).toString(16).padStart(2, '0');
  return `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`;
}

// ─── The per-request server span ───────────────────────────────────────────────

/** gRPC codes that make a server span an error (OpenTelemetry RPC semantic conventions). */
const SERVER_ERROR_CODES: ReadonlySet<number> = new Set([2, 4, 12, 13, 14, 15]);

/**
 * A started request span and the context to run the handler in: it holds the span, or is
 * ROOT_CONTEXT when there is nothing to carry (no SDK recording and no caller's trace).
 */
export interface RequestSpan {
  readonly span: Span;
  readonly context: Context;
}

/** The name and options of one method's request spans, computed once per method. */
export interface RequestSpanTemplate {
  readonly name: string;
  readonly options: SpanOptions;
}

/** The span name (`etcdserverpb.KV/Put`) and RPC attributes for calls of `method` (its path). */
export function requestSpanTemplate(method: string): RequestSpanTemplate {
  const name = method.startsWith('/') ? method.slice(1) : method;
  const slash = name.indexOf('/');
  const attributes = Object.freeze({
    'rpc.system': 'grpc',
    'rpc.service': slash < 0 ? name : name.slice(0, slash),
    'rpc.method': slash < 0 ? '' : name.slice(slash + 1),
  });
  return { name, options: Object.freeze({ kind: SpanKind.SERVER, attributes }) };
}

/**
 * Starts the server span of one gRPC call. `method` is the call's path (`/etcdserverpb.KV/Put`);
 * `traceparent` is the value of the `traceparent` metadata key, if the client sent one: a valid one
 * becomes the span's parent, an invalid one is ignored (a new trace starts).
 *
 * @example
 * const { span, context } = startRequestSpan(tracer, '/etcdserverpb.KV/Put', headers.traceparent);
 * contextApi.with(context, () => runHandler());
 * endRequestSpan(span, grpcCode);
 */
export function startRequestSpan(
  tracer: Tracer,
  method: string | RequestSpanTemplate,
  traceparent: string | undefined,
): RequestSpan {
  const template = typeof method === 'string' ? requestSpanTemplate(method) : method;
  const remote = traceparent === undefined ? undefined : parseTraceparent(traceparent);
  const parent = remote === undefined ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, remote);
  const span = tracer.startSpan(template.name, template.options, parent);
  // Without an SDK the span is a no-op standing for its parent's context (none, or the caller's):
  // the parent context already says everything a child would need.
  if (!span.isRecording()) return { span, context: parent };
  return { span, context: trace.setSpan(parent, span) };
}

/** Ends a request span with the call's gRPC status code. */
export function endRequestSpan(span: Span, grpcCode: number): void {
  if (span.isRecording()) {
    span.setAttribute('rpc.grpc.status_code', grpcCode);
    if (SERVER_ERROR_CODES.has(grpcCode)) span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

// ─── Raft write-path spans ─────────────────────────────────────────────────────

/** The spans of one replicated write, in the order a command lives through them. */
export const RAFT_SPAN = {
  /** From handing the command to Raft until its entry is in the leader's log (or refused). */
  propose: 'raft.propose',
  /** From the entry's append until a quorum has it (this member learns the commit index). */
  commit: 'raft.commit',
  /** Applying the committed entry to the state machine (on every member that applies it). */
  apply: 'raft.apply',
} as const;

export type RaftSpanName = (typeof RAFT_SPAN)[keyof typeof RAFT_SPAN];

/**
 * Starts a Raft span as a child of the span in `parent` (the request's context on the member that
 * proposed, or `contextFromCarried(bytes)` on a member that applies a replicated command).
 *
 * @example
 * const span = startRaftSpan(tracer, RAFT_SPAN.propose, requestContext, { 'raft.group': '0' });
 * driver.propose(data);
 * span.end();
 */
export function startRaftSpan(
  tracer: Tracer,
  name: RaftSpanName,
  parent: Context,
  attributes?: Attributes,
): Span {
  return tracer.startSpan(name, { kind: SpanKind.INTERNAL, ...(attributes ? { attributes } : {}) }, parent);
}

/** The context active now (the request's, while a handler runs under an SDK's context manager). */
export function activeContext(): Context {
  return contextApi.active();
}

// ─── A span context inside a replicated command ────────────────────────────────

/** Format byte of the carried form; a decoder refuses any other. */
const CARRIED_FORMAT_V1 = 1;
const TRACE_ID_BYTES = 16;
const SPAN_ID_BYTES = 8;
/** format(1) + trace id(16) + span id(8) + flags(1). */
export const CARRIED_TRACE_CONTEXT_BYTES = 1 + TRACE_ID_BYTES + SPAN_ID_BYTES + 1;

/**
 * The span context of the span in `context`, as 26 bytes to store inside a replicated command; or
 * undefined when there is no valid span (no tracing: the command carries nothing).
 *
 * @example
 * const carried = encodeTraceContext(requestContext); // put it in the command
 * // on each member, when applying:
 * const span = startRaftSpan(tracer, RAFT_SPAN.apply, contextFromCarried(carried));
 */
export function encodeTraceContext(context: Context): Uint8Array | undefined {
  const spanContext = trace.getSpanContext(context);
  if (spanContext === undefined || !trace.isSpanContextValid(spanContext)) return undefined;
  const bytes = new Uint8Array(CARRIED_TRACE_CONTEXT_BYTES);
  bytes[0] = CARRIED_FORMAT_V1;
  bytes.set(Buffer.from(spanContext.traceId, 'hex'), 1);
  bytes.set(Buffer.from(spanContext.spanId, 'hex'), 1 + TRACE_ID_BYTES);
  bytes[CARRIED_TRACE_CONTEXT_BYTES - 1] = spanContext.traceFlags & 0xff;
  return bytes;
}

/** Decodes {@link encodeTraceContext}'s bytes; undefined for anything else (bytes come from the log, so never throw). */
export function decodeTraceContext(bytes: Uint8Array): SpanContext | undefined {
  if (bytes.length !== CARRIED_TRACE_CONTEXT_BYTES || bytes[0] !== CARRIED_FORMAT_V1) return undefined;
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const spanContext: SpanContext = {
    traceId: view.toString('hex', 1, 1 + TRACE_ID_BYTES),
    spanId: view.toString('hex', 1 + TRACE_ID_BYTES, 1 + TRACE_ID_BYTES + SPAN_ID_BYTES),
    traceFlags: bytes[CARRIED_TRACE_CONTEXT_BYTES - 1]!,
    isRemote: true,
  };
  return trace.isSpanContextValid(spanContext) ? spanContext : undefined;
}

/** A context whose parent span is the carried one (ROOT_CONTEXT when `bytes` is absent or invalid). */
export function contextFromCarried(bytes: Uint8Array | undefined): Context {
  const spanContext = bytes === undefined ? undefined : decodeTraceContext(bytes);
  return spanContext === undefined ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, spanContext);
}
