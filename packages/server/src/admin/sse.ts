// Server-Sent Events on one HTTP response (HTML Living Standard, §9.2): `event:` and `data:` lines,
// a blank line per event. Each stream's unsent bytes are bounded: a client that stops reading is
// noticed when its buffer passes the limit, and the caller drops or skips it.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** How long a closed stream's last bytes may wait for a client that stopped reading. */
export const END_DRAIN_MS = 10_000;

export interface SseStreamOptions {
  /** Unsent bytes beyond which `send` refuses (the client is not keeping up). */
  readonly bufferBytesMax: number;
  /** Called once when the stream ends, whoever ended it. */
  readonly onClose: () => void;
  readonly headers?: Readonly<Record<string, string>>;
}

export class SseStream {
  private readonly response: ServerResponse;
  private readonly bufferBytesMax: number;
  /** close() was called: nothing more may be written. */
  private ended = false;
  /** The response is gone (ended and flushed, or the client left); onClose has run. */
  private closed = false;

  constructor(request: IncomingMessage, response: ServerResponse, options: SseStreamOptions) {
    this.response = response;
    this.bufferBytesMax = options.bufferBytesMax;
    // An event stream lives as long as the client wants it: no inactivity timeout.
    request.socket.setTimeout(0);
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      ...options.headers,
    });
    response.flushHeaders();
    response.on('close', () => {
      if (this.closed) return;
      this.closed = true;
      options.onClose();
    });
  }

  get isClosed(): boolean {
    return this.ended || this.closed;
  }

  /** True when the client's unsent bytes are past the limit. */
  get isBehind(): boolean {
    return this.response.writableLength > this.bufferBytesMax;
  }

  /**
   * Writes one event; `data` must be one line (JSON is). Returns false, writing nothing, when the
   * stream is closed or the client is behind.
   */
  send(event: string, data: string): boolean {
    if (this.isClosed || this.isBehind) return false;
    this.response.write(`event: ${event}\ndata: ${data}\n\n`);
    return true;
  }

  /** A comment line: keeps idle connections (and proxies) alive. */
  comment(text: string): void {
    if (!this.isClosed) this.response.write(`: ${text}\n\n`);
  }

  /**
   * Ends the stream, after a last event if given (sent even when behind: it says why we stop). A
   * client that does not read what is left within END_DRAIN_MS loses the connection.
   */
  close(last?: { event: string; data: string }): void {
    if (this.isClosed) return;
    this.ended = true;
    if (last !== undefined) this.response.write(`event: ${last.event}\ndata: ${last.data}\n\n`);
    this.response.end();
    const timer = setTimeout(() => this.response.destroy(), END_DRAIN_MS);
    timer.unref();
    this.response.once('close', () => clearTimeout(timer));
  }
}
