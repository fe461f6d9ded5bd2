// What a service registers: per method, a codec and a handler of one of the four gRPC kinds.
// Handlers are thin (STYLE §4): decode, call a service, encode; errors become gRPC statuses.
import type { PeerCertificate } from 'node:tls';
import type { Metadata } from './metadata.js';
import type { CallStatus } from './status.js';

/** Turns request bytes into a request and a response into bytes. A decode failure is the client's fault. */
export interface MethodCodec<Request, Response> {
  decode(bytes: Uint8Array): Request;
  encode(response: Response): Uint8Array;
  /**
   * Optional, for responses sent many at a time (a watch fan-out): the encoding's length, and the
   * encoding written straight into `target` at `offset` (returning the end), so that sendMany
   * copies each response once, into the write, instead of encoding it into a buffer of its own.
   */
  encodedLength?(response: Response): number;
  encodeInto?(response: Response, target: Uint8Array, offset: number): number;
}

/** Who is calling. */
export interface PeerInfo {
  readonly address: string;
  readonly port: number;
  /** The client's TLS certificate when it presented one (client-cert-auth); undefined otherwise. */
  readonly certificate: PeerCertificate | undefined;
}

/** What a handler knows about its call. */
export interface CallContext {
  /** The full method path, e.g. `/etcdserverpb.KV/Range`. */
  readonly method: string;
  /** The request's custom metadata (binary `-bin` values already base64-decoded). */
  readonly metadata: Metadata;
  readonly peer: PeerInfo;
  /**
   * Aborted when the client cancels, the deadline passes or the server shuts down; `signal.reason`
   * is a GrpcError saying which (CANCELLED, DEADLINE_EXCEEDED, UNAVAILABLE).
   */
  readonly signal: AbortSignal;
  /** The call's deadline in `Date.now()` milliseconds, undefined when the client set none. */
  readonly deadlineMs: number | undefined;
  /** Response headers; sent with the first response message (or the status), so set them before. */
  readonly responseMetadata: Metadata;
  /** Trailing metadata sent with the status. */
  readonly responseTrailers: Metadata;
}

/** A call that streams responses. */
export interface ServerStreamCall<Response> extends CallContext {
  /**
   * Sends one response message. The promise settles when the HTTP/2 stream can take more (flow
   * control): await it, or the call fails once too much is buffered. Rejects once the call is over.
   */
  send(message: Response): Promise<void>;
  /** Sends several messages in one write; settles like send(). */
  sendMany(messages: readonly Response[]): Promise<void>;
  /** Ends the call now with a status (OK when omitted); later sends reject. */
  end(status?: CallStatus): void;
}

export type UnaryHandler<Request, Response> = (request: Request, context: CallContext) => Promise<Response>;
export type ServerStreamingHandler<Request, Response> = (
  request: Request,
  call: ServerStreamCall<Response>,
) => Promise<void>;
export type ClientStreamingHandler<Request, Response> = (
  requests: AsyncIterable<Request>,
  context: CallContext,
) => Promise<Response>;
export type BidiStreamingHandler<Request, Response> = (
  requests: AsyncIterable<Request>,
  call: ServerStreamCall<Response>,
) => Promise<void>;

export type MethodKind = 'unary' | 'serverStreaming' | 'clientStreaming' | 'bidiStreaming';

/**
 * A registered method with its types erased, so methods of different message types share one
 * routing table. Build one with `unary`, `serverStreaming`, `clientStreaming` or `bidiStreaming`.
 */
export type MethodDefinition =
  | { readonly kind: 'unary'; readonly codec: ErasedCodec; readonly handler: UnaryHandler<unknown, unknown> }
  | {
      readonly kind: 'serverStreaming';
      readonly codec: ErasedCodec;
      readonly handler: ServerStreamingHandler<unknown, unknown>;
    }
  | {
      readonly kind: 'clientStreaming';
      readonly codec: ErasedCodec;
      readonly handler: ClientStreamingHandler<unknown, unknown>;
    }
  | {
      readonly kind: 'bidiStreaming';
      readonly codec: ErasedCodec;
      readonly handler: BidiStreamingHandler<unknown, unknown>;
    };

export type ErasedCodec = MethodCodec<unknown, unknown>;

// The casts below are sound: the server hands a handler only values its own codec decoded, and
// hands the codec only values that handler produced.

/**
 * A method taking one request and returning one response.
 *
 * @example
 * server.addService('etcdserverpb.KV', { Range: unary(rangeCodec, (request, context) => kv.range(request)) });
 */
export function unary<Request, Response>(
  codec: MethodCodec<Request, Response>,
  handler: UnaryHandler<Request, Response>,
): MethodDefinition {
  return { kind: 'unary', codec: codec as ErasedCodec, handler: handler as UnaryHandler<unknown, unknown> };
}

/** A method taking one request and streaming responses. */
export function serverStreaming<Request, Response>(
  codec: MethodCodec<Request, Response>,
  handler: ServerStreamingHandler<Request, Response>,
): MethodDefinition {
  return {
    kind: 'serverStreaming',
    codec: codec as ErasedCodec,
    handler: handler as ServerStreamingHandler<unknown, unknown>,
  };
}

/** A method taking a stream of requests and returning one response. */
export function clientStreaming<Request, Response>(
  codec: MethodCodec<Request, Response>,
  handler: ClientStreamingHandler<Request, Response>,
): MethodDefinition {
  return {
    kind: 'clientStreaming',
    codec: codec as ErasedCodec,
    handler: handler as ClientStreamingHandler<unknown, unknown>,
  };
}

/**
 * A method with a stream each way (etcd's Watch and LeaseKeepAlive).
 *
 * @example
 * bidiStreaming(watchCodec, async (requests, call) => {
 *   for await (const request of requests) await call.send(answer(request));
 * });
 */
export function bidiStreaming<Request, Response>(
  codec: MethodCodec<Request, Response>,
  handler: BidiStreamingHandler<Request, Response>,
): MethodDefinition {
  return {
    kind: 'bidiStreaming',
    codec: codec as ErasedCodec,
    handler: handler as BidiStreamingHandler<unknown, unknown>,
  };
}
