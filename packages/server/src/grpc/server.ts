// A lean gRPC server (PROTOCOL-HTTP2.md in grpc/grpc): routing by `:path`, request validation, and
// connection lifecycle. Each call is run by a ServerCall. HTTP/2 is our own (../http2) by default,
// node:http2 on request. On a 2-core machine node:http2 serves about twice the calls per second of
// @grpc/grpc-js (see grpc.bench.ts), and ours about 1.5-2x node:http2's puts on a Synod member.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import http2, {
  type Http2SecureServer,
  type Http2Server,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http2';
import net, { type AddressInfo, type Socket } from 'node:net';
import tls, { type SecureContextOptions } from 'node:tls';
import { LeanHttp2Connection } from '../http2/connection.js';
import { IntrusiveList } from '../util/intrusive-list.js';
import {
  type CallGuard,
  type CallLimits,
  type CallOwner,
  type CallStream,
  type GrpcLogger,
  ServerCall,
} from './call.js';
import type { CallContext, MethodDefinition, ServerStreamCall } from './methods.js';
import { type CallStatus, encodeGrpcMessage, GrpcError, GrpcStatus, type GrpcStatusCode } from './status.js';
import { parseGrpcTimeout } from './timeout.js';

/** etcd's gRPC receive limit: --max-request-bytes (1.5 MiB) plus 512 KiB for the gRPC envelope. */
export const DEFAULT_MAX_RECEIVE_MESSAGE_BYTES = 1_572_864 + 524_288;
/** etcd sends responses of any size a length prefix allows (math.MaxInt32). */
export const DEFAULT_MAX_SEND_MESSAGE_BYTES = 2 ** 31 - 1;
/** Response bytes one call may leave unsent before a send fails it (a handler that does not await send). */
export const DEFAULT_SEND_BUFFER_BYTES_MAX = 16 * 1024 * 1024;
/**
 * Concurrent calls per client connection. etcd leaves this unbounded; we bound it, since it also
 * bounds what one connection can make the server buffer (calls × maxReceiveMessageBytes). etcd
 * clients multiplex watches onto few streams, so this is far above what they open.
 */
export const DEFAULT_MAX_CONCURRENT_STREAMS = 1_000;
/** How long `close()` lets in-flight calls finish before cancelling them. */
export const DEFAULT_CLOSE_GRACE_MS = 5_000;
/** After cancelling calls at shutdown, how long their statuses get to reach clients before sockets are cut. */
const CLOSE_FLUSH_MS = 1_000;

/** TLS for clients, passed through to `http2.createSecureServer`. */
export interface GrpcTlsOptions {
  readonly cert: NonNullable<SecureContextOptions['cert']>;
  readonly key: NonNullable<SecureContextOptions['key']>;
  /** CAs that sign client certificates (etcd's --trusted-ca-file). */
  readonly ca?: NonNullable<SecureContextOptions['ca']>;
  /** Ask clients for a certificate (etcd's --client-cert-auth). */
  readonly requestCert?: boolean;
  /** Refuse clients whose certificate does not verify against `ca`. Defaults to true when requestCert is set. */
  readonly rejectUnauthorized?: boolean;
}

/**
 * Watches calls, for metrics and tracing: told when a routed call starts and how it ended.
 * `callStarted` runs on every call, so it should be cheap (no per-call label hashing).
 */
export interface GrpcCallObserver {
  /** A call to `method` (its path, `/etcdserverpb.KV/Put`) arrived with these request headers. */
  callStarted(method: string, headers: IncomingHttpHeaders): GrpcCallObservation;
}

/** One observed call. */
export interface GrpcCallObservation {
  /**
   * Runs the call's handler; an observer may run it inside its context (the request's trace span)
   * and bind the stream's events to that context, so the handler, which runs from them, sees it.
   */
  run(stream: CallStream, start: () => void): void;
  /** The call's stream closed; `code` is the gRPC status sent (CANCELLED when none was). */
  callEnded(code: GrpcStatusCode): void;
}

export interface GrpcServerOptions {
  readonly logger?: GrpcLogger;
  /** Told about every routed call (metrics, tracing). */
  readonly observer?: GrpcCallObserver;
  /** Wraps every handler (authorization); see CallGuard. */
  readonly guard?: CallGuard;
  /** Serve over TLS; plaintext HTTP/2 (h2c) when absent. */
  readonly tls?: GrpcTlsOptions;
  readonly maxReceiveMessageBytes?: number;
  readonly maxSendMessageBytes?: number;
  readonly sendBufferBytesMax?: number;
  readonly maxConcurrentStreams?: number;
  /**
   * Serves HTTP/1.1 requests on the same port (etcd's JSON gateway, /health, /version): a
   * connection is HTTP/2 when it opens with the HTTP/2 preface (or negotiates h2 over TLS), and
   * HTTP/1.1 otherwise. Without it the port speaks only HTTP/2.
   */
  readonly http1?: (request: IncomingMessage, response: ServerResponse) => void;
  /**
   * Which HTTP/2 implementation serves the calls: `lean`, our own (../http2; several times less
   * CPU per call), or `node`, node:http2. Defaults to SYNOD_HTTP2_ENGINE, else `lean`.
   */
  readonly http2Engine?: Http2Engine;
}

export type Http2Engine = 'lean' | 'node';

/** The engine from SYNOD_HTTP2_ENGINE (for A/B measurements), else ours. */
export function defaultHttp2Engine(): Http2Engine {
  const chosen = process.env.SYNOD_HTTP2_ENGINE;
  if (chosen === undefined || chosen === '' || chosen === 'lean') return 'lean';
  if (chosen === 'node') return 'node';
  throw new Error(`SYNOD_HTTP2_ENGINE must be lean or node, not ${JSON.stringify(chosen)}`);
}

/** A client connection, whichever engine serves it: close() is GOAWAY and drain, destroy() cuts it. */
interface Http2Connection {
  close(): void;
  destroy(): void;
}

/**
 * TCP keep-alive on client connections: a client that vanished (host down, network cut) is noticed
 * after about this delay plus the kernel's probes, and its watches and keep-alive streams freed.
 */
const CLIENT_KEEPALIVE_DELAY_MS = 60_000;
const CLIENT_SOCKET_OPTIONS = { keepAlive: true, keepAliveInitialDelay: CLIENT_KEEPALIVE_DELAY_MS };

/** "PRI * HTTP/2.0…" starts every HTTP/2 connection; no HTTP/1 method starts with "PRI". */
const HTTP2_PREFACE_START = Buffer.from('PRI');
/** Longest a new connection may stay silent before we know which protocol it speaks. */
const PROTOCOL_SNIFF_TIMEOUT_MS = 10_000;

const consoleLogger: GrpcLogger = {
  warn: (object, message) => console.warn(message, object),
  error: (object, message) => console.error(message, object),
};

/**
 * A gRPC server on node:http2.
 *
 * @example
 * const server = new GrpcServer({ logger });
 * server.addService('etcdserverpb.KV', { Range: unary(rangeCodec, (request) => kv.range(request)) });
 * const port = await server.listen('127.0.0.1', 2379);
 * // …
 * await server.close(); // GOAWAY, then in-flight calls get DEFAULT_CLOSE_GRACE_MS to finish
 */
export class GrpcServer implements CallOwner {
  readonly logger: GrpcLogger;
  readonly limits: CallLimits;
  /** With the node engine: node:http2's server (which listens itself unless there is a dispatcher). */
  private readonly http2Server: Http2Server | Http2SecureServer | undefined;
  /** The listener that tells the protocols apart and hands connections on (lean engine, or an HTTP/1.1 handler). */
  private readonly dispatcher: net.Server | tls.Server | undefined;
  private readonly http1Server: http.Server | undefined;
  /**
   * HTTP/1.1 connections and their requests in progress. Tracked here: the HTTP/1.1 server never
   * listens (it is handed connections), so its own closeIdleConnections() knows none of them.
   */
  private readonly http1Connections = new Map<Socket, number>();
  private readonly methods = new Map<string, MethodDefinition>();
  private readonly services = new Set<string>();
  private readonly sessions = new Set<Http2Connection>();
  private readonly maxConcurrentStreams: number;
  private readonly calls = new IntrusiveList<ServerCall>();
  private readonly observer: GrpcCallObserver | undefined;
  readonly guard: CallGuard | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: GrpcServerOptions = {}) {
    this.logger = options.logger ?? consoleLogger;
    this.observer = options.observer;
    this.guard = options.guard;
    this.limits = {
      maxReceiveMessageBytes: options.maxReceiveMessageBytes ?? DEFAULT_MAX_RECEIVE_MESSAGE_BYTES,
      maxSendMessageBytes: options.maxSendMessageBytes ?? DEFAULT_MAX_SEND_MESSAGE_BYTES,
      sendBufferBytesMax: options.sendBufferBytesMax ?? DEFAULT_SEND_BUFFER_BYTES_MAX,
    };
    this.maxConcurrentStreams = options.maxConcurrentStreams ?? DEFAULT_MAX_CONCURRENT_STREAMS;
    const settings = { maxConcurrentStreams: this.maxConcurrentStreams };
    const engine = options.http2Engine ?? defaultHttp2Engine();
    if (engine === 'node') {
      const http2Server =
        options.tls === undefined || options.http1 !== undefined
          ? http2.createServer({ settings })
          : secureServer(options.tls, settings);
      http2Server.on('stream', (stream, headers, _flags, rawHeaders?: unknown) =>
        this.onStream(
          stream,
          headers,
          Array.isArray(rawHeaders) ? (rawHeaders as string[]) : rawHeadersOf(headers),
        ),
      );
      http2Server.on('session', (session) => {
        this.trackConnection(session);
        session.on('close', () => this.sessions.delete(session));
        session.on('error', (error) => this.logger.warn({ err: error }, 'HTTP/2 connection error'));
      });
      http2Server.on('sessionError', (error) => this.logger.warn({ err: error }, 'HTTP/2 session error'));
      this.http2Server = http2Server;
    }
    if (options.http1 !== undefined) {
      const handle = options.http1;
      this.http1Server = http.createServer((request, response) => {
        // Counted per connection, so shutdown can close idle keep-alive connections at once.
        const socket = request.socket;
        this.http1Connections.set(socket, (this.http1Connections.get(socket) ?? 0) + 1);
        response.once('close', () => {
          const active = (this.http1Connections.get(socket) ?? 1) - 1;
          if (!this.http1Connections.has(socket)) return;
          this.http1Connections.set(socket, active);
          if (active === 0 && this.closing !== undefined) socket.destroy();
        });
        handle(request, response);
      });
      this.http1Server.on('clientError', (_error, socket) => socket.destroy());
    }
    if (engine === 'lean' || options.http1 !== undefined) {
      // The dispatcher owns the port (and TLS); the protocol servers only get its connections.
      const alpn = options.http1 === undefined ? ['h2'] : ['h2', 'http/1.1'];
      this.dispatcher =
        options.tls === undefined
          ? net.createServer(CLIENT_SOCKET_OPTIONS, (socket) => this.sniffProtocol(socket))
          : dispatchingTlsServer(options.tls, alpn, (socket) => {
              if (socket.alpnProtocol !== 'h2') return this.sniffProtocol(socket);
              socket.setNoDelay(true);
              this.acceptHttp2(socket);
            });
      this.dispatcher.on('tlsClientError', (error: Error) =>
        this.logger.warn({ err: error }, 'TLS handshake with a client failed'),
      );
    }
  }

  /** Registers the methods of `service` (its full name, e.g. `etcdserverpb.KV`), by method name. */
  addService(service: string, methods: Readonly<Record<string, MethodDefinition>>): this {
    for (const [name, definition] of Object.entries(methods)) {
      const path = `/${service}/${name}`;
      if (this.methods.has(path)) throw new Error(`gRPC method ${path} is registered twice`);
      this.methods.set(path, definition);
    }
    this.services.add(service);
    return this;
  }

  /** Starts listening; resolves to the port bound (useful with port 0). */
  listen(host: string, port: number): Promise<number> {
    const listener = (this.dispatcher ?? this.http2Server)!;
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      listener.once('error', onError);
      listener.listen(port, host, () => {
        listener.off('error', onError);
        resolve((listener.address() as AddressInfo).port);
      });
    });
  }

  /**
   * Runs a unary method outside HTTP/2, as the HTTP/JSON gateway does: `requestBytes` is the
   * request message's protobuf encoding; resolves to the response's. The call passes through the
   * same guard (authorization) as a gRPC call. Rejects with a GrpcError (the status a gRPC client
   * would get).
   */
  async invokeUnary(path: string, requestBytes: Uint8Array, context: CallContext): Promise<Uint8Array> {
    if (this.closing !== undefined)
      throw new GrpcError(GrpcStatus.UNAVAILABLE, 'the server is shutting down');
    const definition = this.methods.get(path);
    if (definition === undefined || definition.kind !== 'unary')
      throw new GrpcError(GrpcStatus.UNIMPLEMENTED, this.unknownMethodMessage(path));
    const request = decodeRequest(definition.codec, requestBytes);
    const run = () => definition.handler(request, context);
    const response = await (this.guard === undefined ? run() : this.guard(path, request, context, run));
    return definition.codec.encode(response);
  }

  /**
   * Runs a server-streaming or bidi method outside HTTP/2 (the gateway's streams): `requests` are
   * request messages' encodings, `sink` gets the encodings of the responses as the handler sends
   * them (awaited: its promise is the flow control). Resolves to the call's status; the call ends
   * when the handler returns or ends it, or when `context.signal` aborts.
   */
  async invokeStreaming(
    path: string,
    requests: AsyncIterable<Uint8Array>,
    sink: (encoded: readonly Uint8Array[]) => Promise<void>,
    context: CallContext,
  ): Promise<CallStatus> {
    if (this.closing !== undefined)
      throw new GrpcError(GrpcStatus.UNAVAILABLE, 'the server is shutting down');
    const definition = this.methods.get(path);
    if (
      definition === undefined ||
      (definition.kind !== 'serverStreaming' && definition.kind !== 'bidiStreaming')
    )
      throw new GrpcError(GrpcStatus.UNIMPLEMENTED, this.unknownMethodMessage(path));
    const { codec } = definition;
    const decode = (bytes: Uint8Array): unknown => decodeRequest(codec, bytes);
    let ended: CallStatus | undefined;
    const call: ServerStreamCall<unknown> = {
      ...context,
      send: (message) => call.sendMany([message]),
      sendMany: (messages) => {
        if (ended !== undefined || context.signal.aborted)
          return Promise.reject(new GrpcError(GrpcStatus.CANCELLED, 'send() after the call ended'));
        return sink(messages.map((message) => codec.encode(message)));
      },
      end: (status) => {
        ended ??= status ?? { code: GrpcStatus.OK, message: '' };
        endNow();
      },
    };
    let endNow = (): void => {};
    // The call is over once the handler ends it or the client goes, even if the handler lingers.
    const ending = new Promise<CallStatus>((resolve) => {
      endNow = () => resolve(ended ?? { code: GrpcStatus.CANCELLED, message: 'the client went away' });
      if (context.signal.aborted) endNow();
      else context.signal.addEventListener('abort', endNow, { once: true });
    });
    const run = async (): Promise<CallStatus> => {
      if (definition.kind === 'serverStreaming') {
        let first: Uint8Array | undefined;
        for await (const bytes of requests) {
          first ??= bytes;
        }
        const request = decode(first ?? new Uint8Array(0));
        const handle = () => definition.handler(request, call);
        await (this.guard === undefined ? handle() : this.guard(path, request, context, handle));
      } else {
        const decoded = (async function* () {
          for await (const bytes of requests) yield decode(bytes);
        })();
        const handle = () => definition.handler(decoded, call);
        await (this.guard === undefined ? handle() : this.guard(path, undefined, context, handle));
      }
      return ended ?? { code: GrpcStatus.OK, message: '' };
    };
    const running = run().catch((error: unknown): CallStatus => {
      if (error instanceof GrpcError) return { code: error.code, message: error.message };
      if (ended !== undefined || context.signal.aborted)
        return ended ?? { code: GrpcStatus.CANCELLED, message: '' };
      this.logger.warn({ err: error, method: path }, 'gateway stream handler failed');
      return { code: GrpcStatus.UNKNOWN, message: error instanceof Error ? error.message : String(error) };
    });
    return Promise.race([running, ending]);
  }

  /** Waits for a connection's first bytes, then gives it to the HTTP/2 or the HTTP/1.1 server. */
  private sniffProtocol(socket: Socket): void {
    if (this.closing !== undefined) {
      socket.destroy();
      return;
    }
    // Responses are written whole; Nagle would hold a response's last frames for the client's ACK.
    socket.setNoDelay(true);
    // Until it is handed on, shutdown closes it like an idle HTTP/1.1 connection.
    this.http1Connections.set(socket, 0);
    socket.once('close', () => this.http1Connections.delete(socket));
    socket.on('error', ignore);
    socket.setTimeout(PROTOCOL_SNIFF_TIMEOUT_MS, () => socket.destroy());
    let received: Buffer = Buffer.alloc(0);
    const onReadable = (): void => {
      for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null)
        received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      const decided =
        received.length >= HTTP2_PREFACE_START.length ||
        (received.length > 0 && !HTTP2_PREFACE_START.subarray(0, received.length).equals(received));
      if (!decided) return;
      socket.off('readable', onReadable);
      socket.setTimeout(0);
      socket.off('error', ignore);
      // Put the bytes back: the chosen server reads the connection from its start.
      socket.unshift(received);
      const isHttp2 = received.subarray(0, HTTP2_PREFACE_START.length).equals(HTTP2_PREFACE_START);
      if (isHttp2 || this.http1Server === undefined) {
        // Without an HTTP/1.1 server, our HTTP/2 connection answers other bytes with GOAWAY.
        this.http1Connections.delete(socket);
        this.acceptHttp2(socket);
        return;
      }
      this.http1Server.emit('connection', socket);
    };
    socket.on('readable', onReadable);
  }

  /** Calls in progress. */
  get activeCalls(): number {
    return this.calls.size;
  }

  /**
   * Stops accepting connections and calls, sends GOAWAY on every connection, lets in-flight calls
   * finish for up to `graceMs`, then ends the rest with UNAVAILABLE and closes the connections.
   */
  close(graceMs: number = DEFAULT_CLOSE_GRACE_MS): Promise<void> {
    this.closing ??= this.shutdown(graceMs);
    return this.closing;
  }

  callFinished(call: ServerCall): void {
    this.calls.delete(call);
  }

  private async shutdown(graceMs: number): Promise<void> {
    const listener = (this.dispatcher ?? this.http2Server)!;
    const closed = new Promise<void>((resolve) => listener.close(() => resolve()));
    for (const session of this.sessions) session.close();
    for (const [socket, active] of this.http1Connections) if (active === 0) socket.destroy();
    if (await settlesWithin(closed, graceMs)) return;
    const reason = new GrpcError(GrpcStatus.UNAVAILABLE, 'the server is shutting down');
    for (const call of this.calls.toArray()) call.cancel(reason);
    if (!(await settlesWithin(closed, CLOSE_FLUSH_MS))) {
      for (const session of this.sessions) session.destroy();
      for (const socket of this.http1Connections.keys()) socket.destroy();
    }
    await closed;
  }

  /** An HTTP/2 connection handed on by the dispatcher: node:http2's session, or ours. */
  private acceptHttp2(socket: Socket): void {
    if (this.http2Server !== undefined) {
      this.http2Server.emit('connection', socket);
      return;
    }
    const connection = new LeanHttp2Connection(socket, {
      maxConcurrentStreams: this.maxConcurrentStreams,
      onStream: (stream, headers, rawHeaders) => this.onStream(stream, headers, rawHeaders),
      onProtocolError: (message) =>
        this.logger.warn({ remote: socket.remoteAddress }, `HTTP/2 connection error: ${message}`),
    });
    connection.onClose = () => this.sessions.delete(connection);
    this.trackConnection(connection);
  }

  private trackConnection(connection: Http2Connection): void {
    this.sessions.add(connection);
    if (this.closing !== undefined) connection.close();
  }

  private onStream(stream: CallStream, headers: IncomingHttpHeaders, raw: readonly string[]): void {
    // A reset or broken stream is handled through 'close' by its call; an unhandled 'error' would crash.
    stream.on('error', ignore);
    const route = this.route(headers);
    if ('httpStatus' in route) {
      rejectStream(stream, route.httpStatus, route.code, route.message);
      return;
    }
    const call = new ServerCall(stream, route.path, raw, route.definition.codec, this, route.timeoutMs);
    this.calls.add(call);
    if (this.observer === undefined) {
      call.start(route.definition);
      return;
    }
    const observation = this.observer.callStarted(route.path, headers);
    stream.once('close', () => observation.callEnded(sentStatusCode(stream)));
    observation.run(stream, () => call.start(route.definition));
  }

  /** The method a stream calls and its timeout, or why it is not a call this server takes. */
  private route(
    headers: IncomingHttpHeaders,
  ): { path: string; definition: MethodDefinition; timeoutMs: number | undefined } | HeaderFailure {
    if (this.closing !== undefined) {
      return { httpStatus: 200, code: GrpcStatus.UNAVAILABLE, message: 'the server is shutting down' };
    }
    const failure = checkRequestHeaders(headers);
    if (failure !== undefined) return failure;
    const path = headers[':path'] ?? '';
    const definition = this.methods.get(path);
    if (definition === undefined) {
      return { httpStatus: 200, code: GrpcStatus.UNIMPLEMENTED, message: this.unknownMethodMessage(path) };
    }
    const timeoutValue = headers['grpc-timeout'];
    if (timeoutValue === undefined) return { path, definition, timeoutMs: undefined };
    const timeoutHeader = Array.isArray(timeoutValue) ? timeoutValue.join(',') : timeoutValue;
    const timeoutMs = parseGrpcTimeout(timeoutHeader);
    if (timeoutMs === undefined) {
      return {
        httpStatus: 200,
        code: GrpcStatus.INTERNAL,
        message: `grpc: malformed grpc-timeout: ${timeoutHeader}`,
      };
    }
    return { path, definition, timeoutMs };
  }

  private unknownMethodMessage(path: string): string {
    const match = /^\/([^/]+)\/([^/]+)$/.exec(path);
    if (match === null) return `grpc: malformed method name: ${JSON.stringify(path)}`;
    const [, service, method] = match;
    if (!this.services.has(service!)) return `unknown service ${service}`;
    return `unknown method ${method} for service ${service}`;
  }
}

interface HeaderFailure {
  readonly httpStatus: number;
  readonly code: GrpcStatusCode;
  readonly message: string;
}

/** Only POST with content-type application/grpc or application/grpc+proto is a call we serve. */
function checkRequestHeaders(headers: IncomingHttpHeaders): HeaderFailure | undefined {
  const method = headers[':method'];
  if (method !== 'POST') {
    return { httpStatus: 405, code: GrpcStatus.INTERNAL, message: `grpc: :method ${method} is not POST` };
  }
  const contentType = headers['content-type'] ?? '';
  if (!contentType.startsWith('application/grpc')) {
    // PROTOCOL-HTTP2.md: a non-gRPC content-type gets HTTP 415, so HTTP clients do not read it as success.
    const message = `grpc: invalid gRPC request content-type ${JSON.stringify(contentType)}`;
    return { httpStatus: 415, code: GrpcStatus.INVALID_ARGUMENT, message };
  }
  const subtype = contentType.slice('application/grpc'.length).split(';', 1)[0]!.trim();
  if (subtype !== '' && subtype !== '+proto') {
    const message = `grpc: content-type ${contentType} is not supported; this server speaks application/grpc+proto`;
    return { httpStatus: 200, code: GrpcStatus.UNIMPLEMENTED, message };
  }
  return undefined;
}

/** Answers a stream that never becomes a call, with a trailers-only response. */
function rejectStream(stream: CallStream, httpStatus: number, code: GrpcStatusCode, message: string): void {
  const headers: OutgoingHttpHeaders = {
    ':status': httpStatus,
    'content-type': 'application/grpc',
    'grpc-accept-encoding': 'identity',
    'grpc-status': String(code),
    'grpc-message': encodeGrpcMessage(message),
  };
  try {
    stream.respond(headers, { endStream: true });
    // Early server closure: do not read a request nobody will serve.
    if (!stream.readableEnded && !stream.endAfterHeaders) stream.close(http2.constants.NGHTTP2_NO_ERROR);
  } catch {
    stream.destroy();
  }
}

/** The grpc-status a finished stream sent (in trailers, or trailers-only headers); CANCELLED when it sent none. */
function sentStatusCode(stream: CallStream): GrpcStatusCode {
  const sent = stream.sentTrailers?.['grpc-status'] ?? stream.sentHeaders?.['grpc-status'];
  return sent === undefined ? GrpcStatus.CANCELLED : (Number(sent) as GrpcStatusCode);
}

function rawHeadersOf(headers: IncomingHttpHeaders): string[] {
  const raw: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) raw.push(name, one);
  }
  return raw;
}

function secureServer(tlsOptions: GrpcTlsOptions, settings: http2.Settings): Http2SecureServer {
  const options: http2.SecureServerOptions = {
    settings,
    allowHTTP1: false,
    cert: tlsOptions.cert,
    key: tlsOptions.key,
  };
  if (tlsOptions.ca !== undefined) options.ca = tlsOptions.ca;
  if (tlsOptions.requestCert !== undefined) options.requestCert = tlsOptions.requestCert;
  if (tlsOptions.rejectUnauthorized !== undefined) options.rejectUnauthorized = tlsOptions.rejectUnauthorized;
  return http2.createSecureServer(options);
}

/** A TLS listener that negotiates h2 or http/1.1 and hands each connection on. */
function dispatchingTlsServer(
  tlsOptions: GrpcTlsOptions,
  alpnProtocols: string[],
  onConnection: (socket: tls.TLSSocket) => void,
): tls.Server {
  const options: tls.TlsOptions = {
    ...CLIENT_SOCKET_OPTIONS,
    cert: tlsOptions.cert,
    key: tlsOptions.key,
    ALPNProtocols: alpnProtocols,
  };
  if (tlsOptions.ca !== undefined) options.ca = tlsOptions.ca;
  if (tlsOptions.requestCert !== undefined) options.requestCert = tlsOptions.requestCert;
  if (tlsOptions.rejectUnauthorized !== undefined) options.rejectUnauthorized = tlsOptions.rejectUnauthorized;
  return tls.createServer(options, onConnection);
}

/** A request message decoded for a call made outside HTTP/2; a bad one is INVALID_ARGUMENT, as in a call. */
function decodeRequest(codec: MethodDefinition['codec'], bytes: Uint8Array): unknown {
  try {
    return codec.decode(bytes);
  } catch (error) {
    throw new GrpcError(
      GrpcStatus.INVALID_ARGUMENT,
      `grpc: failed to unmarshal the received message: ${(error as Error).message}`,
    );
  }
}

/** True when `promise` settles within `ms`. */
async function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true as const), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

function ignore(): void {}
