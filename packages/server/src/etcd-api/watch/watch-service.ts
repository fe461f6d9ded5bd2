// etcdserverpb.Watch/Watch: one bidirectional stream per client carrying many watches. Thin (STYLE
// §4): requests go to the stream's WatchStream in the hub; responses are pulled from it only as
// fast as HTTP/2 flow control lets them out (each send is awaited), so a slow client makes its
// watches fall back to history in the hub instead of making the server buffer. As in etcd, the
// stream stays open for responses after the client half-closes, until the client cancels it.
import { ETCD_LIMITS, type ResponseHeader } from '@synod/state';
import { bidiStreaming, type MethodCodec, type ServerStreamCall } from '../../grpc/methods.js';
import type { GrpcServer } from '../../grpc/server.js';
import { GrpcError } from '../../grpc/status.js';
import { nextTurn } from '../../util/next-turn.js';
import {
  decodeWatchRequest,
  encodeWatchResponseFragments,
  plainEventsResponsePartsWith,
  type WatchRequest,
  type WatchResponseParts,
  watchResponsePartsLength,
  writeWatchResponseParts,
} from './watch-codec.js';
import type { WatchCreateRequest, WatchHub, WatchHubResponse, WatchStream } from './watch-hub.js';

/** etcd's default --experimental-watch-progress-notify-interval. */
export const WATCH_PROGRESS_NOTIFY_INTERVAL_MS = 10 * 60 * 1000;
/** etcd raises shorter intervals to this (minWatchProgressInterval). */
export const WATCH_PROGRESS_NOTIFY_INTERVAL_MIN_MS = 100;
/** etcd adds up to a tenth of the interval, so watches created together do not all report together. */
const PROGRESS_JITTER_FRACTION = 0.1;
/** etcd splits responses at --max-request-bytes plus gRPC's 512 KiB overhead allowance. */
export const WATCH_FRAGMENT_OVER_BYTES = ETCD_LIMITS.maxRequestBytes + 512 * 1024;

export interface WatchServiceOptions {
  /**
   * Checks each create against the caller's permissions (auth): the reason to refuse it, or
   * undefined to let it through. Runs in the call's context (who called is known there).
   */
  readonly authorizeCreate?: (request: WatchCreateRequest) => string | undefined;
  /** How often an idle progress_notify watch gets a progress response. Default 10 minutes; at least 100 ms. */
  readonly progressNotifyIntervalMs?: number;
  /** Responses at least this big are split for watches that asked for fragments. */
  readonly fragmentOverBytes?: number;
  /** Random numbers in [0, 1) for the progress jitter (tests pin it). */
  readonly random?: () => number;
}

/**
 * A response as the service encoded it: its bytes, or for the common events-only response the
 * encoding shared by every watcher plus this watcher's id, written straight into the stream's
 * write (a fan-out copies each response once).
 */
export type WatchResponseBytes = Uint8Array | WatchResponseParts;

/** Responses are encoded (and fragmented) by the service itself; the codec only lays them out. */
export const WATCH_METHOD_CODEC: MethodCodec<WatchRequest, WatchResponseBytes> = {
  decode: decodeWatchRequest,
  encode: (response) => {
    if (response instanceof Uint8Array) return response;
    const bytes = new Uint8Array(watchResponsePartsLength(response));
    writeWatchResponseParts(response, bytes, 0);
    return bytes;
  },
  encodedLength: responseLength,
  encodeInto: (response, target, offset) => {
    if (!(response instanceof Uint8Array)) return writeWatchResponseParts(response, target, offset);
    target.set(response, offset);
    return offset + response.length;
  },
};

function responseLength(response: WatchResponseBytes): number {
  return response instanceof Uint8Array ? response.length : watchResponsePartsLength(response);
}

/**
 * Serves etcdserverpb.Watch from `hub`; `header` makes the ResponseHeader for a revision.
 *
 * @example
 * const hub = new WatchHub(store);
 * registerWatchService(grpc, hub, (revision) => ({ clusterId, memberId, revision, raftTerm }));
 * // after each applied write: hub.publish(applied.events, applied.revision)
 */
export function registerWatchService(
  grpc: GrpcServer,
  hub: WatchHub,
  header: (revision: number) => ResponseHeader,
  options: WatchServiceOptions = {},
): void {
  const requested = options.progressNotifyIntervalMs ?? WATCH_PROGRESS_NOTIFY_INTERVAL_MS;
  const settings: StreamSettings = {
    header,
    progressIntervalMs: Math.max(requested, WATCH_PROGRESS_NOTIFY_INTERVAL_MIN_MS),
    fragmentOverBytes: options.fragmentOverBytes ?? WATCH_FRAGMENT_OVER_BYTES,
    random: options.random ?? Math.random,
    authorizeCreate: options.authorizeCreate,
  };
  grpc.addService('etcdserverpb.Watch', {
    Watch: bidiStreaming(WATCH_METHOD_CODEC, (requests, call) => serveStream(hub, settings, requests, call)),
  });
}

interface StreamSettings {
  readonly header: (revision: number) => ResponseHeader;
  readonly progressIntervalMs: number;
  readonly fragmentOverBytes: number;
  readonly random: () => number;
  readonly authorizeCreate: ((request: WatchCreateRequest) => string | undefined) | undefined;
}

async function serveStream(
  hub: WatchHub,
  settings: StreamSettings,
  requests: AsyncIterable<WatchRequest>,
  call: ServerStreamCall<WatchResponseBytes>,
): Promise<void> {
  const stream = hub.openStream();
  const close = (): void => stream.close();
  call.signal.addEventListener('abort', close, { once: true });
  const jitterMs = Math.floor(settings.random() * settings.progressIntervalMs * PROGRESS_JITTER_FRACTION);
  const ticker = setInterval(() => stream.progressTick(), settings.progressIntervalMs + jitterMs);
  try {
    // Receiving ends when the client half-closes; sending goes on until the call ends.
    await Promise.all([sendResponses(stream, settings, call), receiveRequests(requests, stream, settings)]);
  } finally {
    clearInterval(ticker);
    call.signal.removeEventListener('abort', close);
    stream.close();
  }
}

async function receiveRequests(
  requests: AsyncIterable<WatchRequest>,
  stream: WatchStream,
  settings: StreamSettings,
): Promise<void> {
  for await (const request of requests) {
    if (stream.closed) return;
    if (request.kind === 'progress') {
      stream.requestProgress();
      continue;
    }
    // etcd ignores a request with no member set.
    if (request.kind === 'none') continue;
    // A full answer queue stops reading: HTTP/2 flow control then slows the client down.
    while (!stream.hasControlRoom && !stream.closed) await stream.waitForControlRoom();
    if (stream.closed) return;
    if (request.kind === 'create') {
      const refused = settings.authorizeCreate?.(request.request);
      if (refused === undefined) stream.create(request.request);
      else stream.refuse(refused);
    } else stream.cancel(request.watchId);
  }
}

/** Responses sent in one write, at most (messages and bytes): a fan-out sends many at once. */
const SEND_BATCH_MESSAGES_MAX = 256;
const SEND_BATCH_BYTES_MAX = 256 * 1024;

/**
 * Sends what the stream has, in batches of the responses ready now (one write each), each batch
 * awaited; returns when the stream closes or the call ends.
 */
async function sendResponses(
  stream: WatchStream,
  settings: StreamSettings,
  call: ServerStreamCall<WatchResponseBytes>,
): Promise<void> {
  for (;;) {
    const frames: WatchResponseBytes[] = [];
    let bytes = 0;
    let headerRevision = -1;
    let header: ResponseHeader | undefined;
    while (frames.length < SEND_BATCH_MESSAGES_MAX && bytes < SEND_BATCH_BYTES_MAX) {
      const response = stream.takeResponse();
      if (response === undefined) break;
      // Responses at one revision share one header object (so its encoding is reused too).
      if (response.revision !== headerRevision || header === undefined) {
        headerRevision = response.revision;
        header = settings.header(response.revision);
      }
      // The usual response, events and nothing else (for a watch that did not ask for fragments:
      // `fragment` here is the watch's option), goes as parts without an intermediate message.
      const parts = plainEventsResponsePartsWith(response, header);
      if (parts !== undefined) {
        frames.push(parts);
        bytes += watchResponsePartsLength(parts);
        continue;
      }
      for (const frame of encodeResponse(response, header, settings)) {
        frames.push(frame);
        bytes += responseLength(frame);
      }
    }
    if (frames.length > 0) {
      if (!(await sendFrames(frames, call))) {
        stream.close();
        return;
      }
      continue;
    }
    if (stream.closed) return;
    // Work left means history reads whose events were all filtered out: let I/O run first.
    if (stream.hasWork) await nextTurn();
    else {
      await stream.waitForWork();
      // Events arrive while a batch of commits is applied. Sending them on the next check phase
      // lets that batch's clients be answered, and pending I/O (Raft messages, new requests) be
      // read, before a large fan-out takes the thread; when the member is idle this costs nothing.
      await nextTurn();
    }
  }
}

/** Any other response (control, progress, or events for a watch that takes fragments), encoded whole. */
function encodeResponse(
  response: WatchHubResponse,
  header: ResponseHeader,
  settings: StreamSettings,
): WatchResponseBytes[] {
  const message = {
    header,
    watchId: response.watchId,
    created: response.created,
    canceled: response.canceled,
    compactRevision: response.compactRevision,
    cancelReason: response.cancelReason,
    fragment: false,
    events: response.events,
  };
  return encodeWatchResponseFragments(message, response.fragment ? settings.fragmentOverBytes : undefined);
}

/** False when the call is over (or a response cannot be sent, which ends the call). */
async function sendFrames(
  frames: readonly WatchResponseBytes[],
  call: ServerStreamCall<WatchResponseBytes>,
): Promise<boolean> {
  try {
    await call.sendMany(frames);
    return true;
  } catch (error) {
    // A rejection on a live call means a response cannot go (too big): end the stream with it.
    if (error instanceof GrpcError && !call.signal.aborted)
      call.end({ code: error.code, message: error.message });
    return false;
  }
}
