// One request stream of a LeanHttp2Connection, with the part of node:http2's ServerHttp2Stream
// that the gRPC layer uses (respond, write, end, sendTrailers, close, pause/resume and the
// 'data' / 'end' / 'drain' / 'wantTrailers' / 'close' events), so a call runs on either.
import { EventEmitter } from 'node:events';
import type { OutgoingHttpHeaders } from 'node:http2';
import type { Socket } from 'node:net';
import { ErrorCode } from './frames.js';

/** What a stream needs from its connection. */
export interface StreamConnection {
  /** Shared by the connection's streams (what node:http2's stream.session offers a call: the socket). */
  readonly session: { readonly socket: Socket };
  sendHeaders(stream: LeanServerStream, headers: OutgoingHttpHeaders, endStream: boolean): void;
  /** Sends what the stream has queued, as far as flow control allows. */
  sendQueued(stream: LeanServerStream): void;
  resetStream(stream: LeanServerStream, code: number): void;
  /** The stream's receiver consumed `bytes` of DATA: its window may be replenished. */
  consumed(stream: LeanServerStream, bytes: number): void;
  streamClosed(stream: LeanServerStream): void;
}

/** Queued response bytes above which write() asks the writer to wait for 'drain'. */
export const STREAM_WRITE_HIGH_WATER_BYTES = 64 * 1024;

export interface RespondOptions {
  readonly endStream?: boolean;
  readonly waitForTrailers?: boolean;
}

export class LeanServerStream extends EventEmitter {
  readonly id: number;
  /** The request's HEADERS frame ended the stream (a request without a body). */
  endAfterHeaders = false;
  readableEnded = false;
  destroyed = false;
  closed = false;
  sentHeaders: OutgoingHttpHeaders | undefined;
  sentTrailers: OutgoingHttpHeaders | undefined;
  /** Flow control: what the peer lets us send on this stream. */
  sendWindow: number;
  /** Flow control: DATA bytes we let the peer send before our next WINDOW_UPDATE. */
  receiveWindow: number;
  /** Consumed DATA bytes not yet returned to the peer in a WINDOW_UPDATE. */
  unacknowledgedBytes = 0;
  /** Response DATA waiting for flow control, oldest first; the first may be partly sent. */
  readonly queued: Buffer[] = [];
  queuedOffset = 0;
  queuedBytes = 0;
  /** After the queued DATA: END_STREAM on the last DATA frame, or the trailers (which carry it). */
  endQueued = false;
  trailersQueued: OutgoingHttpHeaders | undefined;
  /** A reset to send once everything queued before it is out (RST_STREAM must not overtake trailers). */
  resetAfterQueued: number | undefined;
  /** We sent END_STREAM (or RST_STREAM): nothing more goes out. */
  localEnded = false;
  /** The peer sent END_STREAM or RST_STREAM. */
  remoteEnded = false;
  private readonly connection: StreamConnection;
  private waitingForTrailers = false;
  private paused = false;
  /** DATA that arrived while paused (made only then). */
  private pausedChunks: Buffer[] | undefined;
  private endPending = false;
  private needDrain = false;

  constructor(connection: StreamConnection, id: number, sendWindow: number, receiveWindow: number) {
    super();
    this.connection = connection;
    this.id = id;
    this.sendWindow = sendWindow;
    this.receiveWindow = receiveWindow;
  }

  get session(): { readonly socket: Socket } {
    return this.connection.session;
  }

  get writableLength(): number {
    return this.queuedBytes;
  }

  respond(headers: OutgoingHttpHeaders, options: RespondOptions = {}): void {
    if (this.sentHeaders !== undefined) throw new Error('HTTP/2 stream: headers were already sent');
    if (this.localEnded) return;
    this.sentHeaders = headers;
    this.waitingForTrailers = options.waitForTrailers === true;
    const endStream = options.endStream === true;
    this.connection.sendHeaders(this, headers, endStream);
    if (endStream) this.localEnd();
  }

  write(chunk: Buffer): boolean {
    if (this.localEnded || this.endQueued) return false;
    if (chunk.length > 0) {
      this.queued.push(chunk);
      this.queuedBytes += chunk.length;
      this.connection.sendQueued(this);
    }
    if (this.queuedBytes < STREAM_WRITE_HIGH_WATER_BYTES) return true;
    this.needDrain = true;
    return false;
  }

  end(chunk?: Buffer): void {
    if (this.localEnded || this.endQueued) return;
    if (chunk !== undefined && chunk.length > 0) {
      this.queued.push(chunk);
      this.queuedBytes += chunk.length;
    }
    if (this.waitingForTrailers) {
      // The writer answers at once with sendTrailers(), which queues them behind the DATA and sends.
      this.waitingForTrailers = false;
      this.emit('wantTrailers');
      if (this.trailersQueued !== undefined || this.localEnded) return;
    }
    this.endQueued = true;
    this.connection.sendQueued(this);
  }

  sendTrailers(headers: OutgoingHttpHeaders): void {
    if (this.localEnded || this.trailersQueued !== undefined) return;
    this.sentTrailers = headers;
    this.trailersQueued = headers;
    this.endQueued = true;
    this.connection.sendQueued(this);
  }

  /** Ends the stream with RST_STREAM `code`, after what is already queued. */
  close(code = 0): void {
    if (this.closed || this.resetAfterQueued !== undefined) return;
    if (this.queuedBytes > 0 || (this.endQueued && !this.localEnded)) {
      this.resetAfterQueued = code;
      return;
    }
    this.connection.resetStream(this, code);
  }

  destroy(): void {
    if (this.closed) return;
    this.destroyed = true;
    this.connection.resetStream(this, ErrorCode.CANCEL);
  }

  pause(): this {
    this.paused = true;
    return this;
  }

  resume(): this {
    if (!this.paused) return this;
    this.paused = false;
    // Like node's streams, buffered data comes out on a later tick, not inside resume().
    if (this.pausedChunks !== undefined || this.endPending) process.nextTick(() => this.flushPaused());
    return this;
  }

  // ---- called by the connection ----

  /** DATA arrived for this stream. */
  receiveData(chunk: Buffer, endStream: boolean): void {
    if (this.paused || this.pausedChunks !== undefined) {
      if (chunk.length > 0) {
        this.pausedChunks ??= [];
        this.pausedChunks.push(chunk);
      }
      if (endStream) this.endPending = true;
      return;
    }
    if (chunk.length > 0) {
      this.emit('data', chunk);
      this.connection.consumed(this, chunk.length);
    }
    if (endStream) this.receiveEnd();
  }

  /** END_STREAM arrived (in DATA or HEADERS). */
  receiveEnd(): void {
    if (this.paused || this.pausedChunks !== undefined) {
      this.endPending = true;
      return;
    }
    if (this.readableEnded) return;
    this.readableEnded = true;
    this.emit('end');
  }

  /** Every queued byte went out: wake a writer waiting for 'drain'. */
  drained(): void {
    if (!this.needDrain || this.queuedBytes >= STREAM_WRITE_HIGH_WATER_BYTES) return;
    this.needDrain = false;
    this.emit('drain');
  }

  localEnd(): void {
    this.localEnded = true;
    if (this.remoteEnded) this.connection.streamClosed(this);
  }

  /** The stream is over (both sides ended, a reset, or the connection went away). */
  markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.localEnded = true;
    this.remoteEnded = true;
    this.queued.length = 0;
    this.queuedBytes = 0;
    this.pausedChunks = undefined;
    // Like node's, 'close' comes on a later tick: listeners never run inside the writer's own call.
    // Nothing is emitted after it, so the listeners are let go: a closed stream that something still
    // points at (a stale table in the old generation) then no longer keeps its call's objects alive
    // through the next young-generation collections.
    process.nextTick(() => {
      this.emit('close');
      this.removeAllListeners();
    });
  }

  private flushPaused(): void {
    const chunks = this.pausedChunks;
    while (!this.paused && chunks !== undefined && chunks.length > 0 && !this.closed) {
      const chunk = chunks.shift()!;
      this.emit('data', chunk);
      this.connection.consumed(this, chunk.length);
    }
    if (chunks !== undefined && chunks.length === 0 && this.pausedChunks === chunks)
      this.pausedChunks = undefined;
    if (!this.paused && this.pausedChunks === undefined && this.endPending) {
      this.endPending = false;
      this.receiveEnd();
    }
  }
}
