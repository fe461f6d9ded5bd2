// One gRPC call on one HTTP/2 stream: reads the request messages, runs the handler, writes the
// response messages and the status, and turns deadlines, client cancellation and handler errors
// into the statuses the protocol prescribes. Nothing a client sends can throw out of here.
import { constants, type OutgoingHttpHeaders } from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ListLinks } from '../util/intrusive-list.js';
import {
  type DeframeFailure,
  frameMessage,
  MESSAGE_PREFIX_BYTES,
  MessageDeframer,
  writeFramedMessage,
} from './framing.js';
import { Metadata } from './metadata.js';
import type { CallContext, ErasedCodec, MethodDefinition, PeerInfo, ServerStreamCall } from './methods.js';
import { RequestQueue } from './request-queue.js';
import { type CallStatus, encodeGrpcMessage, GrpcError, GrpcStatus } from './status.js';

/**
 * The HTTP/2 stream a call runs on: the part of node:http2's ServerHttp2Stream a call uses, which
 * our own HTTP/2 connection's streams (../http2) provide as well.
 */
export interface CallStream {
  readonly destroyed: boolean;
  readonly closed: boolean;
  readonly writableLength: number;
  readonly readableEnded: boolean;
  readonly endAfterHeaders: boolean;
  readonly session?: { readonly socket?: Socket | TLSSocket | undefined } | undefined;
  readonly sentHeaders?: OutgoingHttpHeaders | undefined;
  readonly sentTrailers?: OutgoingHttpHeaders | undefined;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'end' | 'close' | 'error', listener: (...args: unknown[]) => void): unknown;
  once(event: 'close' | 'drain' | 'wantTrailers', listener: () => void): unknown;
  respond(headers: OutgoingHttpHeaders, options?: { endStream?: boolean; waitForTrailers?: boolean }): void;
  write(chunk: Buffer): boolean;
  end(chunk?: Buffer): unknown;
  sendTrailers(headers: OutgoingHttpHeaders): void;
  close(code?: number): void;
  destroy(): unknown;
  pause(): unknown;
  resume(): unknown;
}

/** Where a call reports problems: the shape of a pino logger, so one can be passed as is. */
export interface GrpcLogger {
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

export interface CallLimits {
  readonly maxReceiveMessageBytes: number;
  readonly maxSendMessageBytes: number;
  /** Response bytes a call may leave buffered (unsent for flow control) before a send fails the call. */
  readonly sendBufferBytesMax: number;
}

/** What a call needs from its server. */
export interface CallOwner {
  readonly logger: GrpcLogger;
  readonly limits: CallLimits;
  /** Runs every handler (see GrpcServerOptions.guard). */
  readonly guard: CallGuard | undefined;
  callFinished(call: ServerCall): void;
}

/**
 * Wraps every handler: may refuse the call (throw a GrpcError) or run it in a context of its own
 * (e.g. authorization, and who the caller is for the requests the handler makes). `request` is the
 * decoded request of unary and server-streaming calls, undefined for streaming requests.
 */
export type CallGuard = <T>(
  method: string,
  request: unknown,
  context: CallContext,
  run: () => Promise<T>,
) => Promise<T>;

/** The message clients see for a handler's unexpected exception; the details go to the log only. */
export const INTERNAL_ERROR_MESSAGE = 'internal server error (details are in the server log)';

const RESPONSE_HEADERS: OutgoingHttpHeaders = Object.freeze({
  ':status': 200,
  'content-type': 'application/grpc',
  'grpc-accept-encoding': 'identity',
});
const OK_TRAILERS: OutgoingHttpHeaders = Object.freeze({ 'grpc-status': '0' });
const OK_STATUS: CallStatus = Object.freeze({ code: GrpcStatus.OK, message: '' });
/** setTimeout cannot wait longer; a later deadline is treated as none. */
const TIMER_DELAY_MAX_MS = 2 ** 31 - 1;
const DECODE_FAILED: unique symbol = Symbol('decode failed');
const ignore = (): void => {};

export class ServerCall implements ServerStreamCall<unknown>, ListLinks<ServerCall> {
  readonly method: string;
  /** The server's list of calls in progress (see IntrusiveList). */
  listPrevious: ServerCall | undefined;
  listNext: ServerCall | undefined;
  listed = false;
  readonly deadlineMs: number | undefined;
  private readonly stream: CallStream;
  private readonly rawHeaders: readonly string[];
  private readonly codec: ErasedCodec;
  private readonly owner: CallOwner;
  private controller: AbortController | undefined;
  private deadlineTimer: ReturnType<typeof setTimeout> | undefined;
  private requestMetadata: Metadata | undefined;
  private peerInfo: PeerInfo | undefined;
  private outgoingMetadata: Metadata | undefined;
  private outgoingTrailers: Metadata | undefined;
  private requests: RequestQueue<unknown> | undefined;
  private headersSent = false;
  private finished = false;
  private requestEnded = false;
  /** Why the call ended early (cancel, deadline, shutdown, failure); what later sends reject with. */
  private endReason: GrpcError | undefined;
  private trailerStatus: CallStatus = OK_STATUS;
  private drain:
    | { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void }
    | undefined;

  constructor(
    stream: CallStream,
    method: string,
    rawHeaders: readonly string[],
    codec: ErasedCodec,
    owner: CallOwner,
    timeoutMs: number | undefined,
  ) {
    this.stream = stream;
    this.method = method;
    this.rawHeaders = rawHeaders;
    this.codec = codec;
    this.owner = owner;
    this.deadlineMs = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    if (timeoutMs !== undefined && timeoutMs <= TIMER_DELAY_MAX_MS) {
      this.deadlineTimer = setTimeout(() => this.onDeadline(), Math.ceil(timeoutMs));
    }
    stream.on('close', () => this.onStreamClose());
  }

  get metadata(): Metadata {
    this.requestMetadata ??= Metadata.fromRawHeaders(this.rawHeaders);
    return this.requestMetadata;
  }

  get peer(): PeerInfo {
    this.peerInfo ??= peerOf(this.stream);
    return this.peerInfo;
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.endReason !== undefined) this.controller.abort(this.endReason);
    }
    return this.controller.signal;
  }

  get responseMetadata(): Metadata {
    this.outgoingMetadata ??= new Metadata();
    return this.outgoingMetadata;
  }

  get responseTrailers(): Metadata {
    this.outgoingTrailers ??= new Metadata();
    return this.outgoingTrailers;
  }

  /** Reads the request(s) the way `definition` expects and runs its handler. */
  start(definition: MethodDefinition): void {
    switch (definition.kind) {
      case 'unary':
        this.readSingleRequest((request) =>
          this.runToResponse(() => this.guarded(request, () => definition.handler(request, this))),
        );
        return;
      case 'serverStreaming':
        this.readSingleRequest((request) =>
          this.runToEnd(() => this.guarded(request, () => definition.handler(request, this))),
        );
        return;
      case 'clientStreaming': {
        const requests = this.readRequestStream();
        this.runToResponse(() => this.guarded(undefined, () => definition.handler(requests, this)));
        return;
      }
      case 'bidiStreaming': {
        const requests = this.readRequestStream();
        this.runToEnd(() => this.guarded(undefined, () => definition.handler(requests, this)));
        return;
      }
    }
  }

  private guarded<T>(request: unknown, run: () => Promise<T>): Promise<T> {
    const guard = this.owner.guard;
    return guard === undefined ? run() : guard(this.method, request, this, run);
  }

  send(message: unknown): Promise<void> {
    return this.sendMany([message]);
  }

  /** Sends several messages in one write (fan-out streams send many small ones at a time). */
  sendMany(messages: readonly unknown[]): Promise<void> {
    if (this.finished) return handledRejection(this.endReason ?? new Error('send() after the call ended'));
    let frame: Buffer;
    if (this.codec.encodeInto !== undefined && this.codec.encodedLength !== undefined) {
      const framed = this.encodeManyInto(messages, this.codec.encodedLength, this.codec.encodeInto);
      if (framed instanceof GrpcError) return handledRejection(framed);
      frame = framed;
    } else if (messages.length === 1) {
      const encoded = this.encodeFrame(messages[0]);
      if (encoded instanceof GrpcError) return handledRejection(encoded);
      frame = encoded;
    } else {
      // Several messages framed straight into one buffer: one copy of each, one write.
      const bodies: Uint8Array[] = [];
      let total = 0;
      for (const message of messages) {
        const body = this.encodeMessage(message);
        if (body instanceof GrpcError) return handledRejection(body);
        bodies.push(body);
        total += MESSAGE_PREFIX_BYTES + body.length;
      }
      frame = Buffer.allocUnsafe(total);
      let offset = 0;
      for (const body of bodies) offset = writeFramedMessage(frame, offset, body);
    }
    if (this.stream.writableLength > this.owner.limits.sendBufferBytesMax) {
      const overflow = new GrpcError(
        GrpcStatus.RESOURCE_EXHAUSTED,
        `grpc: more than ${this.owner.limits.sendBufferBytesMax} response bytes are waiting for the client to read them`,
      );
      this.owner.logger.warn(
        { method: this.method },
        'gRPC handler sent without awaiting send(); call ended',
      );
      this.cancel(overflow);
      return handledRejection(overflow);
    }
    if (this.writeFrame(frame)) return Promise.resolve();
    return this.drained();
  }

  end(status: CallStatus = OK_STATUS): void {
    this.finish(status);
  }

  /** Ends the call with `reason` as its status and aborts the handler's signal (deadline, shutdown). */
  cancel(reason: GrpcError): void {
    if (this.finished) return;
    this.endReason = reason;
    this.finish(reason);
    this.controller?.abort(reason);
  }

  private readSingleRequest(onRequest: (request: unknown) => void): void {
    let message: Uint8Array | undefined;
    let count = 0;
    const deframer = new MessageDeframer(this.owner.limits.maxReceiveMessageBytes, (bytes) => {
      count++;
      message = bytes;
    });
    this.stream.on('data', (chunk: Buffer) => {
      if (this.finished) return;
      const failure = deframer.push(chunk);
      if (failure !== undefined) this.failFraming(failure);
      else if (count > 1) this.failCardinality('more than one request message');
    });
    this.stream.on('end', () => {
      this.requestEnded = true;
      if (this.finished) return;
      const failure = deframer.finish();
      if (failure !== undefined) {
        this.failFraming(failure);
      } else if (message === undefined) {
        this.failCardinality('no request message');
      } else {
        const request = this.decode(message);
        if (request !== DECODE_FAILED) onRequest(request);
      }
    });
  }

  private readRequestStream(): RequestQueue<unknown> {
    const stream = this.stream;
    const queue = new RequestQueue<unknown>({ pause: () => stream.pause(), resume: () => stream.resume() });
    const deframer = new MessageDeframer(this.owner.limits.maxReceiveMessageBytes, (bytes) => {
      if (this.finished) return;
      const request = this.decode(bytes);
      if (request !== DECODE_FAILED) queue.push(request);
    });
    stream.on('data', (chunk: Buffer) => {
      if (this.finished) return;
      const failure = deframer.push(chunk);
      if (failure !== undefined) this.failFraming(failure);
    });
    stream.on('end', () => {
      this.requestEnded = true;
      if (this.finished) return;
      const failure = deframer.finish();
      if (failure !== undefined) this.failFraming(failure);
      else queue.end();
    });
    this.requests = queue;
    return queue;
  }

  private decode(bytes: Uint8Array): unknown {
    try {
      return this.codec.decode(bytes);
    } catch (error) {
      if (error instanceof GrpcError) {
        this.cancel(error);
      } else {
        const detail = error instanceof Error ? `: ${error.message}` : '';
        this.cancel(
          new GrpcError(
            GrpcStatus.INVALID_ARGUMENT,
            `grpc: failed to unmarshal the received message${detail}`,
          ),
        );
      }
      return DECODE_FAILED;
    }
  }

  /**
   * Unary and client-streaming: the handler's value is the one response. (A promise chain, not an
   * async function: one generator and promise fewer per call for the GC.)
   */
  private runToResponse(invoke: () => Promise<unknown>): void {
    let running: Promise<unknown>;
    try {
      running = invoke();
    } catch (error) {
      this.failFromHandler(error);
      return;
    }
    running.then(
      (response) => this.respondWithValue(response),
      (error: unknown) => this.failFromHandler(error),
    );
  }

  private respondWithValue(response: unknown): void {
    if (this.finished) return;
    const frame = this.encodeFrame(response);
    if (frame instanceof GrpcError) this.cancel(frame);
    else this.respondWith(frame);
  }

  /** The one response and an OK status, in one write. */
  private respondWith(frame: Buffer): void {
    this.markFinished();
    const stream = this.stream;
    if (stream.destroyed || stream.closed) return;
    try {
      if (!this.headersSent) this.sendHeaders();
      stream.end(frame);
    } catch (error) {
      this.owner.logger.warn({ err: error, method: this.method }, 'gRPC response could not be sent');
      stream.destroy();
    }
  }

  /** Server-streaming and bidi: the handler sends; its return ends the call with OK. */
  private async runToEnd(invoke: () => Promise<void>): Promise<void> {
    try {
      await invoke();
    } catch (error) {
      this.failFromHandler(error);
      return;
    }
    this.finish(OK_STATUS);
  }

  /** Encodes a response and frames it; a GrpcError if it cannot be sent (handler or codec bug, size). */
  private encodeFrame(message: unknown): Buffer | GrpcError {
    const bytes = this.encodeMessage(message);
    return bytes instanceof GrpcError ? bytes : frameMessage(bytes);
  }

  /** Several responses encoded straight into one framed buffer (codecs that can write in place). */
  private encodeManyInto(
    messages: readonly unknown[],
    lengthOf: (message: unknown) => number,
    writeInto: (message: unknown, target: Uint8Array, offset: number) => number,
  ): Buffer | GrpcError {
    const max = this.owner.limits.maxSendMessageBytes;
    let total = 0;
    for (const message of messages) {
      const length = lengthOf(message);
      if (length > max) {
        return new GrpcError(
          GrpcStatus.RESOURCE_EXHAUSTED,
          `grpc: trying to send message larger than max (${length} vs. ${max})`,
        );
      }
      total += MESSAGE_PREFIX_BYTES + length;
    }
    const frame = Buffer.allocUnsafe(total);
    let offset = 0;
    for (const message of messages) {
      // The body first, then its prefix from where the body ended: each length is computed once.
      const bodyStart = offset + MESSAGE_PREFIX_BYTES;
      const end = writeInto(message, frame, bodyStart);
      frame[offset] = 0; // not compressed
      frame.writeUInt32BE(end - bodyStart, offset + 1);
      offset = end;
    }
    if (offset !== total) {
      this.owner.logger.error(
        { method: this.method },
        'gRPC responses encoded to another length than announced',
      );
      return new GrpcError(GrpcStatus.INTERNAL, INTERNAL_ERROR_MESSAGE);
    }
    return frame;
  }

  /** Encodes a response; a GrpcError if it cannot be sent (handler or codec bug, size). */
  private encodeMessage(message: unknown): Uint8Array | GrpcError {
    let bytes: Uint8Array;
    try {
      bytes = this.codec.encode(message);
    } catch (error) {
      this.owner.logger.error({ err: error, method: this.method }, 'gRPC response could not be encoded');
      return new GrpcError(GrpcStatus.INTERNAL, INTERNAL_ERROR_MESSAGE);
    }
    const max = this.owner.limits.maxSendMessageBytes;
    if (bytes.length > max) {
      return new GrpcError(
        GrpcStatus.RESOURCE_EXHAUSTED,
        `grpc: trying to send message larger than max (${bytes.length} vs. ${max})`,
      );
    }
    return bytes;
  }

  private failFromHandler(error: unknown): void {
    if (this.finished) {
      if (!(error instanceof GrpcError) && !isAbortError(error)) {
        this.owner.logger.warn(
          { err: error, method: this.method },
          'gRPC handler failed after its call ended',
        );
      }
      return;
    }
    if (error instanceof GrpcError) {
      this.cancel(error);
    } else {
      this.owner.logger.error({ err: error, method: this.method }, 'gRPC handler failed');
      this.cancel(new GrpcError(GrpcStatus.INTERNAL, INTERNAL_ERROR_MESSAGE));
    }
  }

  private failFraming(failure: DeframeFailure): void {
    this.cancel(framingError(failure));
  }

  /** statuscodes.md: a request cardinality violation is UNIMPLEMENTED. */
  private failCardinality(what: string): void {
    this.cancel(
      new GrpcError(GrpcStatus.UNIMPLEMENTED, `grpc: ${this.method} takes exactly one request, got ${what}`),
    );
  }

  private onDeadline(): void {
    this.deadlineTimer = undefined;
    this.cancel(new GrpcError(GrpcStatus.DEADLINE_EXCEEDED, 'deadline exceeded'));
  }

  /** The stream closed: normal after our status; otherwise the client reset it or the connection died. */
  private onStreamClose(): void {
    if (this.finished) return;
    const reason = new GrpcError(GrpcStatus.CANCELLED, 'the client cancelled the call');
    this.endReason = reason;
    this.markFinished();
    this.controller?.abort(reason);
  }

  private markFinished(): void {
    this.finished = true;
    if (this.deadlineTimer !== undefined) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    const reason = this.endReason;
    if (reason === undefined) this.requests?.end();
    else this.requests?.fail(reason);
    if (this.drain !== undefined) {
      this.drain.reject(reason ?? new Error('the call ended while a send was waiting'));
      this.drain = undefined;
    }
    this.owner.callFinished(this);
  }

  /** Sends the status: in trailers after the response, or alone ("trailers-only") when nothing was sent. */
  private finish(status: CallStatus): void {
    if (this.finished) return;
    this.markFinished();
    const stream = this.stream;
    if (stream.destroyed || stream.closed) return;
    try {
      if (this.headersSent) {
        this.trailerStatus = status;
        stream.end();
      } else {
        stream.respond(this.statusHeaders(status, true), { endStream: true });
        this.closeIfClientStillSending();
      }
    } catch (error) {
      this.owner.logger.warn({ err: error, method: this.method }, 'gRPC status could not be sent');
      stream.destroy();
    }
  }

  private sendHeaders(): void {
    const metadata = this.outgoingMetadata;
    let headers = RESPONSE_HEADERS;
    if (metadata !== undefined && metadata.size > 0) {
      headers = { ...RESPONSE_HEADERS };
      metadata.writeTo(headers);
    }
    this.stream.once('wantTrailers', () => this.sendTrailers());
    this.stream.respond(headers, { waitForTrailers: true });
    this.headersSent = true;
  }

  private sendTrailers(): void {
    const stream = this.stream;
    if (stream.destroyed || stream.closed) return;
    try {
      stream.sendTrailers(this.statusHeaders(this.trailerStatus, false));
    } catch (error) {
      this.owner.logger.warn({ err: error, method: this.method }, 'gRPC trailers could not be sent');
      stream.destroy();
      return;
    }
    // Inside 'wantTrailers' nghttp2 is mid-send and would put RST_STREAM ahead of the trailers; wait a turn.
    if (!this.requestEnded) setImmediate(() => this.closeIfClientStillSending());
  }

  /**
   * PROTOCOL-HTTP2.md, "Early Server Closure": a status sent before the client's END_STREAM is
   * followed by RST_STREAM(NO_ERROR), so the rest of the request is not read for nothing.
   */
  private closeIfClientStillSending(): void {
    const stream = this.stream;
    if (!this.requestEnded && !stream.destroyed && !stream.closed) stream.close(constants.NGHTTP2_NO_ERROR);
  }

  private statusHeaders(status: CallStatus, trailersOnly: boolean): OutgoingHttpHeaders {
    const plainOk =
      status.code === GrpcStatus.OK &&
      status.message === '' &&
      status.trailers === undefined &&
      (this.outgoingTrailers === undefined || this.outgoingTrailers.size === 0);
    if (plainOk && !trailersOnly) return OK_TRAILERS;
    const headers: OutgoingHttpHeaders = trailersOnly ? { ...RESPONSE_HEADERS } : {};
    if (trailersOnly) this.outgoingMetadata?.writeTo(headers);
    this.outgoingTrailers?.writeTo(headers);
    status.trailers?.writeTo(headers);
    headers['grpc-status'] = String(status.code);
    if (status.message !== '') headers['grpc-message'] = encodeGrpcMessage(status.message);
    return headers;
  }

  /** Writes one framed message, sending the response headers first; false when the stream is full. */
  private writeFrame(frame: Buffer): boolean {
    if (!this.headersSent) this.sendHeaders();
    return this.stream.write(frame);
  }

  private drained(): Promise<void> {
    if (this.drain === undefined) {
      let resolve = ignore;
      let reject: (error: unknown) => void = ignore;
      const promise = new Promise<void>((onDrained, onFailed) => {
        resolve = onDrained;
        reject = onFailed;
      });
      promise.catch(ignore);
      this.drain = { promise, resolve, reject };
      this.stream.once('drain', () => {
        const drain = this.drain;
        this.drain = undefined;
        drain?.resolve();
      });
    }
    return this.drain.promise;
  }
}

/** The status for a request stream that cannot be read. */
export function framingError(failure: DeframeFailure): GrpcError {
  switch (failure.kind) {
    case 'compressed':
      return new GrpcError(
        GrpcStatus.UNIMPLEMENTED,
        'grpc: the request message is compressed, but this server supports no compression (grpc-accept-encoding: identity)',
      );
    case 'invalidFlag':
      return new GrpcError(
        GrpcStatus.INTERNAL,
        `grpc: invalid compressed flag ${failure.flag} in a message prefix`,
      );
    case 'tooLarge':
      return new GrpcError(
        GrpcStatus.RESOURCE_EXHAUSTED,
        `grpc: received message larger than max (${failure.lengthBytes} vs. ${failure.maxBytes})`,
      );
    case 'truncated':
      return new GrpcError(
        GrpcStatus.INTERNAL,
        `grpc: the request stream ended inside a message (${failure.receivedBytes} of ${failure.expectedBytes} bytes)`,
      );
  }
}

function peerOf(stream: CallStream): PeerInfo {
  const socket = stream.session?.socket;
  if (socket === undefined) return { address: '', port: 0, certificate: undefined };
  let certificate: PeerInfo['certificate'];
  const tlsSocket = socket as Partial<TLSSocket>;
  if (typeof tlsSocket.getPeerCertificate === 'function') {
    const presented = tlsSocket.getPeerCertificate();
    // An empty object means the client presented no certificate.
    if (presented !== null && Object.keys(presented).length > 0) certificate = presented;
  }
  return { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0, certificate };
}

function handledRejection(error: unknown): Promise<never> {
  const rejected = Promise.reject(error);
  // A handler that does not await send() must not turn a late failure into an unhandled rejection.
  rejected.catch(ignore);
  return rejected;
}

function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}
