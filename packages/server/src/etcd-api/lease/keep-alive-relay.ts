// A follower relays its clients' lease keep-alives to the leader over ONE LeaseKeepAlive stream
// kept open, instead of a new HTTP/2 stream per keep-alive: 10,000 leases kept alive is a few
// thousand keep-alives a second, most of them arriving at followers. The leader answers a
// keep-alive stream's requests in order, so answers are matched to waiters first in, first out.
import http2 from 'node:http2';
import type { EtcdError } from '@synod/state';
import { ETCD_ERRORS } from '@synod/state';
import { frameMessage, MessageDeframer } from '../../grpc/framing.js';
import { decodeLeaseKeepAliveResponse, encodeLeaseKeepAliveRequest } from './lease-messages.js';

/** Keep-alives waiting for the leader's answer on the relay stream, at most. */
export const RELAYED_KEEP_ALIVES_MAX = 10_000;
/** Largest answer accepted on the relay stream (a keep-alive answer is a few dozen bytes). */
const ANSWER_BYTES_MAX = 64 * 1024;
const KEEP_ALIVE_PATH = '/etcdserverpb.Lease/LeaseKeepAlive';

type RelayResult =
  | { readonly ok: true; readonly ttl: number }
  | { readonly ok: false; readonly error: EtcdError };

interface Waiter {
  readonly resolve: (result: RelayResult) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

export interface KeepAliveRelayOptions {
  readonly leaderUrl: () => string | undefined;
  /** The HTTP/2 session to a member's client URL (the LeaderForwarder's, shared). */
  readonly session: (url: string) => http2.ClientHttp2Session;
  readonly timeoutMs: number;
}

export class KeepAliveRelay {
  private readonly options: KeepAliveRelayOptions;
  private stream: http2.ClientHttp2Stream | undefined;
  private url: string | undefined;
  private readonly waiters: Waiter[] = [];

  constructor(options: KeepAliveRelayOptions) {
    this.options = options;
  }

  /** Renews lease `id` on the leader: its TTL (0 when the leader does not know it), or an error. */
  renew(id: bigint): Promise<RelayResult> {
    const stream = this.openStream();
    if (stream === undefined) return Promise.resolve({ ok: false, error: ETCD_ERRORS.noLeader });
    if (this.waiters.length >= RELAYED_KEEP_ALIVES_MAX)
      return Promise.resolve({ ok: false, error: ETCD_ERRORS.tooManyRequests });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        // An answer that never came leaves the stream's order unknown: start a fresh stream.
        this.reset({ ok: false, error: ETCD_ERRORS.timeout });
      }, this.options.timeoutMs);
      timer.unref();
      this.waiters.push({ resolve, timer });
      stream.write(frameMessage(encodeLeaseKeepAliveRequest({ id })));
    });
  }

  close(): void {
    this.reset({ ok: false, error: ETCD_ERRORS.stopped });
  }

  private openStream(): http2.ClientHttp2Stream | undefined {
    const url = this.options.leaderUrl();
    if (url === undefined) return undefined;
    if (url !== this.url) {
      this.reset({ ok: false, error: ETCD_ERRORS.leaderChanged });
      this.url = url;
    }
    if (this.stream !== undefined && !this.stream.closed && !this.stream.destroyed) return this.stream;
    try {
      const stream = this.options.session(url).request({
        ':method': 'POST',
        ':path': KEEP_ALIVE_PATH,
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      const deframer = new MessageDeframer(ANSWER_BYTES_MAX, (message) => this.answer(message));
      stream.on('data', (chunk: Buffer) => {
        if (deframer.push(chunk) !== undefined) this.reset({ ok: false, error: ETCD_ERRORS.noLeader });
      });
      stream.on('error', () => {});
      stream.on('close', () => {
        if (this.stream === stream) this.reset({ ok: false, error: ETCD_ERRORS.leaderChanged });
      });
      this.stream = stream;
      return stream;
    } catch {
      return undefined;
    }
  }

  private answer(message: Uint8Array): void {
    const waiter = this.waiters.shift();
    if (waiter === undefined) return;
    clearTimeout(waiter.timer);
    let ttl: number;
    try {
      ttl = decodeLeaseKeepAliveResponse(message).ttl;
    } catch {
      waiter.resolve({ ok: false, error: ETCD_ERRORS.noLeader });
      return;
    }
    waiter.resolve({ ok: true, ttl });
  }

  /** Fails every waiting keep-alive and drops the stream (the next renew opens a new one). */
  private reset(result: RelayResult): void {
    const stream = this.stream;
    this.stream = undefined;
    stream?.close(http2.constants.NGHTTP2_CANCEL);
    for (const waiter of this.waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.resolve(result);
    }
  }
}
