// The server side of one HTTP/2 connection (RFC 9113), written for gRPC's load: many small
// request/response exchanges. Compared with node:http2 it keeps one small object per stream,
// decodes headers into a flat list, and writes everything a turn produced in one socket write.
// Frames are validated as they arrive; a connection error sends GOAWAY and closes the socket, a
// stream error resets only that stream. Nothing a peer sends can throw out of here.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import type { Socket } from 'node:net';
import { IntMap } from '../util/int-map.js';
import {
  CONNECTION_PREFACE,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_WINDOW_BYTES,
  ErrorCode,
  Flag,
  FRAME_HEADER_BYTES,
  FrameType,
  frame,
  goawayFrame,
  MAX_ALLOWED_FRAME_BYTES,
  MAX_WINDOW_BYTES,
  rstStreamFrame,
  SETTINGS_ACK_FRAME,
  Setting,
  settingsFrame,
  windowUpdateFrame,
  writeFrameHeader,
} from './frames.js';
import { encodeHeaderBlock, HeaderListTooLargeError, HpackDecoder, HpackError } from './hpack/hpack.js';
import { LeanServerStream, type StreamConnection } from './server-stream.js';

export interface LeanHttp2Options {
  /** Streams a client may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS); more are refused. */
  readonly maxConcurrentStreams: number;
  /** Largest request header list (SETTINGS_MAX_HEADER_LIST_SIZE); a larger one resets its stream. */
  readonly maxHeaderListBytes?: number;
  /** Receive window granted to each stream (SETTINGS_INITIAL_WINDOW_SIZE). */
  readonly streamWindowBytes?: number;
  /** Receive window of the whole connection. */
  readonly connectionWindowBytes?: number;
  /** A request arrived: its stream, its headers as an object and as a flat [name, value, …] list. */
  readonly onStream: (stream: LeanServerStream, headers: IncomingHttpHeaders, rawHeaders: string[]) => void;
  /**
   * Something worth a log line: a protocol error by the peer (the connection ends with GOAWAY), or
   * a stream's handler that threw (that stream is reset).
   */
  readonly onProtocolError?: (message: string) => void;
}

export const DEFAULT_MAX_HEADER_LIST_BYTES = 64 * 1024;
export const DEFAULT_STREAM_WINDOW_BYTES = 256 * 1024;
export const DEFAULT_CONNECTION_WINDOW_BYTES = 4 * 1024 * 1024;
/** Above this many unsent socket bytes, DATA waits for the socket to drain. */
const SOCKET_HIGH_WATER_BYTES = 1024 * 1024;
/** A peer that leaves this much unread (e.g. answers to its PING flood) is cut off. */
const SOCKET_BACKLOG_LIMIT_BYTES = 32 * 1024 * 1024;
/**
 * Stream resets a client may send per second. Each reset frees a stream slot at once, so without a
 * bound a client could make us start (and abandon) calls without limit ("rapid reset").
 */
const RESETS_PER_SECOND_MAX = 10_000;
/** How long a closing connection waits for its GOAWAY to go out before the socket is destroyed. */
const GOAWAY_LINGER_MS = 1_000;

/** Headers that only make sense hop by hop in HTTP/1.1; RFC 9113 §8.2.2 makes a request carrying them malformed. */
const CONNECTION_SPECIFIC_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]);
const REQUEST_PSEUDO_HEADERS = new Set([':method', ':scheme', ':authority', ':path']);

/** Encoded blocks of the frozen header objects the gRPC layer sends on every call. */
const encodedConstantHeaders = new WeakMap<OutgoingHttpHeaders, Buffer>();

class ConnectionError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

export class LeanHttp2Connection implements StreamConnection {
  readonly socket: Socket;
  readonly session: { readonly socket: Socket };
  /** Called once, when the socket has closed. */
  onClose: (() => void) | undefined;
  private readonly options: LeanHttp2Options;
  private readonly maxHeaderListBytes: number;
  private readonly streamWindowBytes: number;
  private readonly connectionWindowBytes: number;
  private readonly decoder: HpackDecoder;
  /** Open streams by id (an IntMap: see there why not a Map). */
  private readonly streams = new IntMap<LeanServerStream>();
  /** Streams with DATA waiting for a window or for the socket. */
  private readonly blocked = new Set<LeanServerStream>();
  private prefaceReceived = false;
  private settingsReceived = false;
  private pending: Buffer | undefined;
  /** HEADERS without END_HEADERS: CONTINUATION frames for this stream must follow. */
  private continuation: { streamId: number; flags: number; fragments: Buffer[]; bytes: number } | undefined;
  private lastStreamId = 0;
  private peerInitialWindow = DEFAULT_WINDOW_BYTES;
  private peerMaxFrameBytes = DEFAULT_MAX_FRAME_BYTES;
  private connectionSendWindow = DEFAULT_WINDOW_BYTES;
  private connectionReceiveWindow: number;
  private connectionUnacknowledged = 0;
  private output: Buffer[] = [];
  private outputBytes = 0;
  private flushScheduled = false;
  private receiving = false;
  private goingAway = false;
  private resetsThisSecond = 0;
  private resetSecondStartedMs = 0;
  private dead = false;
  private closed = false;

  constructor(socket: Socket, options: LeanHttp2Options) {
    this.socket = socket;
    this.session = { socket };
    this.options = options;
    this.maxHeaderListBytes = options.maxHeaderListBytes ?? DEFAULT_MAX_HEADER_LIST_BYTES;
    this.streamWindowBytes = options.streamWindowBytes ?? DEFAULT_STREAM_WINDOW_BYTES;
    this.connectionWindowBytes = options.connectionWindowBytes ?? DEFAULT_CONNECTION_WINDOW_BYTES;
    this.connectionReceiveWindow = this.connectionWindowBytes;
    this.decoder = new HpackDecoder({ maxHeaderListBytes: this.maxHeaderListBytes });
    this.push(
      settingsFrame([
        [Setting.MAX_CONCURRENT_STREAMS, options.maxConcurrentStreams],
        [Setting.INITIAL_WINDOW_SIZE, this.streamWindowBytes],
        [Setting.MAX_HEADER_LIST_SIZE, this.maxHeaderListBytes],
      ]),
    );
    if (this.connectionWindowBytes > DEFAULT_WINDOW_BYTES) {
      this.push(windowUpdateFrame(0, this.connectionWindowBytes - DEFAULT_WINDOW_BYTES));
    }
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('drain', () => this.unblock());
    socket.on('error', () => {});
    socket.on('close', () => this.onSocketClose());
    socket.on('end', () => {
      // The peer will send nothing more: no new streams; the socket ends with the last open one.
      this.goingAway = true;
      if (this.streams.size === 0) this.endSocket();
    });
    // A dispatcher that sniffed the first bytes may have left the socket paused.
    socket.resume();
  }

  /** Streams open now. */
  get openStreams(): number {
    return this.streams.size;
  }

  /** Graceful: GOAWAY, no new streams; the socket closes when the open ones are done. */
  close(): void {
    if (this.goingAway || this.dead) return;
    this.goingAway = true;
    this.push(goawayFrame(this.lastStreamId, ErrorCode.NO_ERROR));
    this.flush();
    if (this.streams.size === 0) this.endSocket();
  }

  destroy(): void {
    this.dead = true;
    this.socket.destroy();
    this.onSocketClose();
  }

  // ---- StreamConnection: what streams ask of their connection ----

  sendHeaders(stream: LeanServerStream, headers: OutgoingHttpHeaders, endStream: boolean): void {
    if (this.dead) return;
    const block = encodeHeaders(headers);
    this.pushHeaderBlock(stream.id, block, endStream);
  }

  sendQueued(stream: LeanServerStream): void {
    if (this.dead || stream.closed || stream.localEnded) return;
    while (stream.queuedBytes > 0) {
      const allowed = Math.min(stream.sendWindow, this.connectionSendWindow, this.peerMaxFrameBytes);
      if (allowed <= 0 || this.socket.writableLength > SOCKET_HIGH_WATER_BYTES) {
        this.blocked.add(stream);
        return;
      }
      const head = stream.queued[0]!;
      const length = Math.min(head.length - stream.queuedOffset, allowed);
      const payload = head.subarray(stream.queuedOffset, stream.queuedOffset + length);
      stream.queuedOffset += length;
      if (stream.queuedOffset === head.length) {
        stream.queued.shift();
        stream.queuedOffset = 0;
      }
      stream.queuedBytes -= length;
      stream.sendWindow -= length;
      this.connectionSendWindow -= length;
      const endsStream = stream.queuedBytes === 0 && stream.endQueued && stream.trailersQueued === undefined;
      const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
      writeFrameHeader(header, 0, length, FrameType.DATA, endsStream ? Flag.END_STREAM : 0, stream.id);
      this.push(header);
      this.push(payload);
      if (endsStream) {
        stream.localEnd();
        break;
      }
    }
    this.blocked.delete(stream);
    if (stream.endQueued && !stream.localEnded) {
      if (stream.trailersQueued !== undefined) {
        this.pushHeaderBlock(stream.id, encodeHeaders(stream.trailersQueued), true);
      } else {
        this.push(frame(FrameType.DATA, Flag.END_STREAM, stream.id));
      }
      stream.localEnd();
    }
    if (stream.closed) return;
    stream.drained();
    if (stream.resetAfterQueued !== undefined && (stream.localEnded || !stream.endQueued)) {
      this.resetStream(stream, stream.resetAfterQueued);
    }
  }

  resetStream(stream: LeanServerStream, code: number): void {
    if (stream.closed) return;
    if (!this.dead) this.push(rstStreamFrame(stream.id, code));
    this.streamClosed(stream);
  }

  consumed(stream: LeanServerStream, bytes: number): void {
    stream.unacknowledgedBytes += bytes;
    if (stream.remoteEnded || stream.unacknowledgedBytes < this.streamWindowBytes / 2) return;
    this.push(windowUpdateFrame(stream.id, stream.unacknowledgedBytes));
    stream.receiveWindow += stream.unacknowledgedBytes;
    stream.unacknowledgedBytes = 0;
  }

  streamClosed(stream: LeanServerStream): void {
    if (stream.closed) return;
    this.streams.delete(stream.id);
    this.blocked.delete(stream);
    stream.markClosed();
    if (this.goingAway && this.streams.size === 0) this.endSocket();
  }

  // ---- reading ----

  private receive(chunk: Buffer): void {
    if (this.dead) return;
    const bytes = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = undefined;
    this.receiving = true;
    try {
      let offset = 0;
      if (!this.prefaceReceived) {
        const compared = Math.min(bytes.length, CONNECTION_PREFACE.length);
        if (!bytes.subarray(0, compared).equals(CONNECTION_PREFACE.subarray(0, compared))) {
          throw new ConnectionError(
            ErrorCode.PROTOCOL_ERROR,
            'the connection did not start with the HTTP/2 preface',
          );
        }
        if (bytes.length < CONNECTION_PREFACE.length) {
          this.pending = bytes;
          return;
        }
        this.prefaceReceived = true;
        offset = CONNECTION_PREFACE.length;
      }
      while (!this.dead && bytes.length - offset >= FRAME_HEADER_BYTES) {
        const length = (bytes[offset]! << 16) | (bytes[offset + 1]! << 8) | bytes[offset + 2]!;
        if (length > DEFAULT_MAX_FRAME_BYTES) {
          throw new ConnectionError(
            ErrorCode.FRAME_SIZE_ERROR,
            `a frame of ${length} bytes exceeds SETTINGS_MAX_FRAME_SIZE (${DEFAULT_MAX_FRAME_BYTES})`,
          );
        }
        if (bytes.length - offset - FRAME_HEADER_BYTES < length) break;
        const type = bytes[offset + 3]!;
        const flags = bytes[offset + 4]!;
        const streamId = bytes.readUInt32BE(offset + 5) & 0x7fff_ffff;
        const payload = bytes.subarray(offset + FRAME_HEADER_BYTES, offset + FRAME_HEADER_BYTES + length);
        offset += FRAME_HEADER_BYTES + length;
        this.handleFrame(type, flags, streamId, payload);
      }
      if (offset < bytes.length && !this.dead) this.pending = bytes.subarray(offset);
    } catch (error) {
      if (error instanceof ConnectionError) this.connectionError(error.code, error.message);
      else this.connectionError(ErrorCode.INTERNAL_ERROR, `internal error: ${(error as Error).message}`);
    } finally {
      this.receiving = false;
    }
    this.flush();
    if (this.socket.writableLength > SOCKET_BACKLOG_LIMIT_BYTES) {
      this.connectionError(ErrorCode.ENHANCE_YOUR_CALM, 'the peer does not read what it asks for');
    }
  }

  private handleFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    if (!this.settingsReceived && type !== FrameType.SETTINGS) {
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'the first frame was not SETTINGS');
    }
    if (this.continuation !== undefined && type !== FrameType.CONTINUATION) {
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'a header block was interrupted by another frame');
    }
    switch (type) {
      case FrameType.DATA:
        this.onData(flags, streamId, payload);
        return;
      case FrameType.HEADERS:
        this.onHeaders(flags, streamId, payload);
        return;
      case FrameType.PRIORITY:
        if (streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'PRIORITY on stream 0');
        if (payload.length !== 5) this.streamError(streamId, ErrorCode.FRAME_SIZE_ERROR);
        return;
      case FrameType.RST_STREAM:
        this.onRstStream(streamId, payload);
        return;
      case FrameType.SETTINGS:
        this.onSettings(flags, streamId, payload);
        return;
      case FrameType.PUSH_PROMISE:
        throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'a client sent PUSH_PROMISE');
      case FrameType.PING:
        if (streamId !== 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'PING on a stream');
        if (payload.length !== 8)
          throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'PING is not 8 bytes');
        if ((flags & Flag.ACK) === 0) this.push(frame(FrameType.PING, Flag.ACK, 0, payload));
        return;
      case FrameType.GOAWAY:
        if (streamId !== 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'GOAWAY on a stream');
        this.goingAway = true;
        if (this.streams.size === 0) this.endSocket();
        return;
      case FrameType.WINDOW_UPDATE:
        this.onWindowUpdate(streamId, payload);
        return;
      case FrameType.CONTINUATION:
        this.onContinuation(flags, streamId, payload);
        return;
      default:
        return; // unknown frame types are ignored (RFC 9113 §4.1)
    }
  }

  private onData(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'DATA on stream 0');
    // Flow control counts the whole frame payload, padding included.
    this.connectionReceiveWindow -= payload.length;
    if (this.connectionReceiveWindow < 0) {
      throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, 'the peer overran the connection window');
    }
    this.connectionUnacknowledged += payload.length;
    if (this.connectionUnacknowledged >= this.connectionWindowBytes / 2) {
      this.push(windowUpdateFrame(0, this.connectionUnacknowledged));
      this.connectionReceiveWindow += this.connectionUnacknowledged;
      this.connectionUnacknowledged = 0;
    }
    const data = unpadded(flags, payload, 0);
    const stream = this.streams.get(streamId);
    if (stream === undefined || stream.remoteEnded) {
      if (streamId > this.lastStreamId) {
        throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `DATA on idle stream ${streamId}`);
      }
      if (stream !== undefined) this.resetStream(stream, ErrorCode.STREAM_CLOSED);
      return;
    }
    stream.receiveWindow -= payload.length;
    if (stream.receiveWindow < 0) {
      this.resetStream(stream, ErrorCode.FLOW_CONTROL_ERROR);
      return;
    }
    const ended = (flags & Flag.END_STREAM) !== 0;
    if (ended) stream.remoteEnded = true;
    // Padding is never handed to the stream: give its window back at once.
    if (data.length < payload.length) this.consumed(stream, payload.length - data.length);
    this.deliver(stream, () => stream.receiveData(data, ended));
    if (ended && stream.localEnded) this.streamClosed(stream);
  }

  private onHeaders(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'HEADERS on stream 0');
    const fragment = unpadded(flags, payload, (flags & Flag.PRIORITY) !== 0 ? 5 : 0);
    if ((flags & Flag.END_HEADERS) === 0) {
      this.continuation = { streamId, flags, fragments: [fragment], bytes: fragment.length };
      this.checkHeaderBlockBytes(fragment.length);
      return;
    }
    this.onHeaderBlock(flags, streamId, fragment);
  }

  private onContinuation(flags: number, streamId: number, payload: Buffer): void {
    const continuation = this.continuation;
    if (continuation === undefined || continuation.streamId !== streamId) {
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'CONTINUATION without a header block to continue');
    }
    continuation.fragments.push(payload);
    continuation.bytes += payload.length;
    this.checkHeaderBlockBytes(continuation.bytes);
    if ((flags & Flag.END_HEADERS) === 0) return;
    this.continuation = undefined;
    this.onHeaderBlock(
      continuation.flags,
      streamId,
      Buffer.concat(continuation.fragments, continuation.bytes),
    );
  }

  /** Bounds what a header block split over CONTINUATION frames can make us buffer. */
  private checkHeaderBlockBytes(bytes: number): void {
    if (bytes > this.maxHeaderListBytes + DEFAULT_MAX_FRAME_BYTES) {
      throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, `a header block of more than ${bytes} bytes`);
    }
  }

  private onHeaderBlock(flags: number, streamId: number, block: Buffer): void {
    let fields: string[] | undefined;
    try {
      fields = this.decoder.decode(block);
    } catch (error) {
      if (!(error instanceof HeaderListTooLargeError)) {
        const reason = error instanceof HpackError ? error.message : String(error);
        throw new ConnectionError(
          ErrorCode.COMPRESSION_ERROR,
          `a header block could not be decoded: ${reason}`,
        );
      }
    }
    const endStream = (flags & Flag.END_STREAM) !== 0;
    const existing = this.streams.get(streamId);
    if (existing !== undefined) {
      // Trailers from the client: they must end the stream; their content means nothing to gRPC.
      if (!endStream || existing.remoteEnded) {
        this.resetStream(existing, ErrorCode.PROTOCOL_ERROR);
        return;
      }
      existing.remoteEnded = true;
      this.deliver(existing, () => existing.receiveEnd());
      if (existing.localEnded) this.streamClosed(existing);
      return;
    }
    // A stream we already closed (or reset): its late frames are ignored (RFC 9113 §5.1), the block
    // having been decoded above to keep the HPACK table in step.
    if (streamId <= this.lastStreamId) return;
    if (streamId % 2 === 0) {
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `a client opened even-numbered stream ${streamId}`);
    }
    this.lastStreamId = streamId;
    if (fields === undefined) {
      this.push(rstStreamFrame(streamId, ErrorCode.ENHANCE_YOUR_CALM));
      return;
    }
    if (this.goingAway || this.streams.size >= this.options.maxConcurrentStreams) {
      this.push(rstStreamFrame(streamId, ErrorCode.REFUSED_STREAM));
      return;
    }
    const headers = requestHeaders(fields);
    if (headers === undefined) {
      this.push(rstStreamFrame(streamId, ErrorCode.PROTOCOL_ERROR));
      return;
    }
    const stream = new LeanServerStream(this, streamId, this.peerInitialWindow, this.streamWindowBytes);
    this.streams.set(streamId, stream);
    if (endStream) {
      stream.endAfterHeaders = true;
      stream.remoteEnded = true;
    }
    const fieldList = fields;
    this.deliver(stream, () => this.options.onStream(stream, headers, fieldList));
    if (endStream && !stream.closed) this.deliver(stream, () => stream.receiveEnd());
  }

  private onRstStream(streamId: number, payload: Buffer): void {
    if (streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'RST_STREAM on stream 0');
    if (payload.length !== 4)
      throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'RST_STREAM is not 4 bytes');
    if (streamId > this.lastStreamId) {
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `RST_STREAM on idle stream ${streamId}`);
    }
    const nowMs = performance.now();
    if (nowMs - this.resetSecondStartedMs >= 1_000) {
      this.resetSecondStartedMs = nowMs;
      this.resetsThisSecond = 0;
    }
    if (++this.resetsThisSecond > RESETS_PER_SECOND_MAX) {
      throw new ConnectionError(
        ErrorCode.ENHANCE_YOUR_CALM,
        `more than ${RESETS_PER_SECOND_MAX} stream resets in a second`,
      );
    }
    const stream = this.streams.get(streamId);
    if (stream !== undefined) this.streamClosed(stream);
  }

  private onSettings(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'SETTINGS on a stream');
    if ((flags & Flag.ACK) !== 0) {
      if (payload.length !== 0)
        throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'SETTINGS ACK with a payload');
      return;
    }
    if (payload.length % 6 !== 0) {
      throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'SETTINGS is not a multiple of 6 bytes');
    }
    this.settingsReceived = true;
    for (let offset = 0; offset < payload.length; offset += 6) {
      const id = payload.readUInt16BE(offset);
      const value = payload.readUInt32BE(offset + 2);
      switch (id) {
        case Setting.ENABLE_PUSH:
          if (value > 1)
            throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'SETTINGS_ENABLE_PUSH is not 0 or 1');
          break;
        case Setting.INITIAL_WINDOW_SIZE: {
          if (value > MAX_WINDOW_BYTES) {
            throw new ConnectionError(
              ErrorCode.FLOW_CONTROL_ERROR,
              'SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1',
            );
          }
          const delta = value - this.peerInitialWindow;
          this.peerInitialWindow = value;
          for (const stream of this.streams.valuesArray()) {
            stream.sendWindow += delta;
            if (stream.sendWindow > MAX_WINDOW_BYTES) {
              throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, 'a stream window grew above 2^31-1');
            }
          }
          break;
        }
        case Setting.MAX_FRAME_SIZE:
          if (value < DEFAULT_MAX_FRAME_BYTES || value > MAX_ALLOWED_FRAME_BYTES) {
            throw new ConnectionError(
              ErrorCode.PROTOCOL_ERROR,
              `SETTINGS_MAX_FRAME_SIZE ${value} is out of range`,
            );
          }
          this.peerMaxFrameBytes = value;
          break;
        default:
          // HEADER_TABLE_SIZE: our encoder uses no dynamic table. MAX_CONCURRENT_STREAMS: we never push.
          break;
      }
    }
    this.push(SETTINGS_ACK_FRAME);
    this.unblock();
  }

  private onWindowUpdate(streamId: number, payload: Buffer): void {
    if (payload.length !== 4)
      throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'WINDOW_UPDATE is not 4 bytes');
    const increment = payload.readUInt32BE(0) & 0x7fff_ffff;
    if (streamId === 0) {
      if (increment === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'WINDOW_UPDATE of 0');
      this.connectionSendWindow += increment;
      if (this.connectionSendWindow > MAX_WINDOW_BYTES) {
        throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, 'the connection window grew above 2^31-1');
      }
      this.unblock();
      return;
    }
    const stream = this.streams.get(streamId);
    if (stream === undefined) {
      if (streamId > this.lastStreamId) {
        throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `WINDOW_UPDATE on idle stream ${streamId}`);
      }
      return;
    }
    if (increment === 0) {
      this.resetStream(stream, ErrorCode.PROTOCOL_ERROR);
      return;
    }
    stream.sendWindow += increment;
    if (stream.sendWindow > MAX_WINDOW_BYTES) {
      this.resetStream(stream, ErrorCode.FLOW_CONTROL_ERROR);
      return;
    }
    this.sendQueued(stream);
  }

  /** Runs a stream's listeners; one that throws resets its stream, never the connection. */
  private deliver(stream: LeanServerStream, emit: () => void): void {
    try {
      emit();
    } catch (error) {
      this.options.onProtocolError?.(`a stream handler threw: ${(error as Error).message}`);
      this.resetStream(stream, ErrorCode.INTERNAL_ERROR);
    }
  }

  private streamError(streamId: number, code: number): void {
    const stream = this.streams.get(streamId);
    if (stream !== undefined) this.resetStream(stream, code);
    else this.push(rstStreamFrame(streamId, code));
  }

  // ---- writing ----

  private pushHeaderBlock(streamId: number, block: Buffer, endStream: boolean): void {
    const endFlag = endStream ? Flag.END_STREAM : 0;
    if (block.length <= this.peerMaxFrameBytes) {
      const bytes = Buffer.allocUnsafe(FRAME_HEADER_BYTES + block.length);
      writeFrameHeader(bytes, 0, block.length, FrameType.HEADERS, Flag.END_HEADERS | endFlag, streamId);
      block.copy(bytes, FRAME_HEADER_BYTES);
      this.push(bytes);
      return;
    }
    for (let offset = 0; offset < block.length; offset += this.peerMaxFrameBytes) {
      const end = Math.min(block.length, offset + this.peerMaxFrameBytes);
      const last = end === block.length;
      const type = offset === 0 ? FrameType.HEADERS : FrameType.CONTINUATION;
      const flags = (offset === 0 ? endFlag : 0) | (last ? Flag.END_HEADERS : 0);
      this.push(frame(type, flags, streamId, block.subarray(offset, end)));
    }
  }

  /** Queues bytes for the socket; everything queued in one turn goes out in one write. */
  private push(bytes: Buffer): void {
    this.output.push(bytes);
    this.outputBytes += bytes.length;
    if (this.flushScheduled || this.receiving) return;
    this.flushScheduled = true;
    // After the current microtasks: every response a batch of commits resolves goes out together.
    process.nextTick(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.output.length === 0) return;
    const bytes = this.output.length === 1 ? this.output[0]! : Buffer.concat(this.output, this.outputBytes);
    this.output = [];
    this.outputBytes = 0;
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  private unblock(): void {
    for (const stream of [...this.blocked]) {
      if (this.connectionSendWindow <= 0 || this.socket.writableLength > SOCKET_HIGH_WATER_BYTES) return;
      this.blocked.delete(stream);
      this.sendQueued(stream);
    }
  }

  private connectionError(code: number, message: string): void {
    if (this.dead) return;
    this.options.onProtocolError?.(message);
    this.push(goawayFrame(this.lastStreamId, code, message));
    this.flush();
    this.dead = true;
    this.endSocket();
    for (const stream of this.streams.valuesArray()) this.streamClosed(stream);
  }

  private endSocket(): void {
    this.flush();
    if (this.socket.destroyed) return;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), GOAWAY_LINGER_MS).unref();
  }

  private onSocketClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.dead = true;
    for (const stream of this.streams.valuesArray()) this.streamClosed(stream);
    this.onClose?.();
  }
}

/** The payload without its padding (and `skip` more leading bytes, PRIORITY's 5 in HEADERS). */
function unpadded(flags: number, payload: Buffer, skip: number): Buffer {
  let start = skip;
  let end = payload.length;
  if ((flags & Flag.PADDED) !== 0) {
    if (payload.length < 1)
      throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'a padded frame without its pad length');
    start += 1;
    end -= payload[0]!;
  }
  if (start > end) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'padding longer than the frame');
  return payload.subarray(start, end);
}

/**
 * The request's headers as node:http2 presents them, or undefined when the request is malformed
 * (RFC 9113 §8.2, §8.3): uppercase names, pseudo-headers after regular ones or unknown,
 * connection-specific headers, or :method, :scheme or :path missing.
 */
function requestHeaders(fields: readonly string[]): IncomingHttpHeaders | undefined {
  const headers: IncomingHttpHeaders = {};
  let regularSeen = false;
  for (let index = 0; index < fields.length; index += 2) {
    const name = fields[index]!;
    const value = fields[index + 1]!;
    if (name.length === 0 || name !== name.toLowerCase()) return undefined;
    if (name.charCodeAt(0) === 0x3a /* ':' */) {
      if (regularSeen || !REQUEST_PSEUDO_HEADERS.has(name) || headers[name] !== undefined) return undefined;
      headers[name] = value;
      continue;
    }
    regularSeen = true;
    if (CONNECTION_SPECIFIC_HEADERS.has(name)) return undefined;
    if (name === 'te' && value !== 'trailers') return undefined;
    const previous = headers[name];
    headers[name] = previous === undefined ? value : `${previous}, ${value}`;
  }
  if (
    headers[':method'] === undefined ||
    headers[':scheme'] === undefined ||
    headers[':path'] === undefined
  ) {
    return undefined;
  }
  return headers;
}

/** The HPACK block for response headers or trailers; the gRPC layer's frozen constants are encoded once. */
function encodeHeaders(headers: OutgoingHttpHeaders): Buffer {
  const frozen = Object.isFrozen(headers);
  if (frozen) {
    const cached = encodedConstantHeaders.get(headers);
    if (cached !== undefined) return cached;
  }
  const fields: string[] = [];
  const status = headers[':status'];
  if (status !== undefined) fields.push(':status', String(status));
  for (const name in headers) {
    if (name === ':status') continue;
    const value = headers[name];
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (Array.isArray(value)) for (const one of value) fields.push(lower, String(one));
    else fields.push(lower, String(value));
  }
  const block = encodeHeaderBlock(fields);
  if (frozen) encodedConstantHeaders.set(headers, block);
  return block;
}
