// The bench's gRPC client side on raw node:http2: sessions with windows wide enough that HTTP/2
// flow control is not what limits a watch client, and bidirectional streams of length-prefixed
// messages (reusing the server's deframer) that report how they ended.
import http2 from 'node:http2';
import { frameMessage, MessageDeframer } from '../../packages/server/src/grpc/framing.js';
import { monotonicMs } from './clock.js';

/** Per-stream receive window (HTTP/2's default is 64 KiB; grpc-go grows its own up to 16 MiB). */
const STREAM_WINDOW_BYTES = 4 * 1024 * 1024;
const SESSION_WINDOW_BYTES = 16 * 1024 * 1024;
/** The largest message the bench accepts (etcd's default client limit is larger; ours never are). */
const MESSAGE_BYTES_MAX = 64 * 1024 * 1024;
const GRPC_STATUS_OK = 0;
/** Status used when the stream ended without one (reset, connection lost). */
export const GRPC_STATUS_UNAVAILABLE = 14;
export const GRPC_STATUS_UNIMPLEMENTED = 12;

export function connectSession(url: string): http2.ClientHttp2Session {
  const session = http2.connect(url, { settings: { initialWindowSize: STREAM_WINDOW_BYTES } });
  session.on('connect', () => session.setLocalWindowSize(SESSION_WINDOW_BYTES));
  // Errors surface on the streams; an unhandled session 'error' would end the bench.
  session.on('error', () => {});
  return session;
}

export interface StreamEnd {
  readonly status: number;
  readonly message: string;
}

export interface BidiStream {
  /** Queues one message; false when the stream's write buffer is full (wait for 'drain'). */
  send(message: Uint8Array): boolean;
  /** Half-closes: no more requests. */
  end(): void;
  /** Resets the stream (client cancel). */
  cancel(): void;
  readonly ended: Promise<StreamEnd>;
  readonly raw: http2.ClientHttp2Stream;
}

/**
 * Opens `path` as a bidirectional stream; `onMessage` gets each response message with the
 * monotonic time its chunk arrived (taken before any of the chunk's messages is handled).
 *
 * @example
 * const stream = openBidiStream(session, '/etcdserverpb.Watch/Watch', (message, arrivedAtMs) => …);
 * stream.send(encodeWatchRequest(create));
 */
export function openBidiStream(
  session: http2.ClientHttp2Session,
  path: string,
  onMessage: (message: Uint8Array, arrivedAtMs: number) => void,
): BidiStream {
  const raw = session.request({
    ':method': 'POST',
    ':path': path,
    'content-type': 'application/grpc',
    te: 'trailers',
  });
  let arrivedAtMs = 0;
  const deframer = new MessageDeframer(MESSAGE_BYTES_MAX, (message) => onMessage(message, arrivedAtMs));
  let status: number | undefined;
  let statusMessage = '';
  const takeStatus = (headers: http2.IncomingHttpHeaders) => {
    if (headers['grpc-status'] === undefined) return;
    status = Number(headers['grpc-status']);
    statusMessage = decodeURIComponent(String(headers['grpc-message'] ?? ''));
  };
  raw.on('response', takeStatus);
  raw.on('trailers', takeStatus);
  raw.on('data', (chunk: Buffer) => {
    arrivedAtMs = monotonicMs();
    const failure = deframer.push(chunk);
    if (failure !== undefined) {
      status = GRPC_STATUS_UNAVAILABLE;
      statusMessage = `unreadable response stream: ${failure.kind}`;
      raw.close(http2.constants.NGHTTP2_CANCEL);
    }
  });
  raw.on('error', (error) => {
    statusMessage ||= error.message;
  });
  const ended = new Promise<StreamEnd>((resolve) => {
    raw.on('close', () =>
      resolve({
        status: status ?? GRPC_STATUS_UNAVAILABLE,
        message: statusMessage || (status === undefined ? 'stream closed without a status' : ''),
      }),
    );
  });
  return {
    send: (message) => raw.write(frameMessage(message)),
    end: () => raw.end(),
    cancel: () => raw.close(http2.constants.NGHTTP2_CANCEL),
    ended,
    raw,
  };
}

export function describeEnd(end: StreamEnd): string {
  return end.status === GRPC_STATUS_OK ? 'ended OK' : `status ${end.status}: ${end.message}`;
}
