// Requests only the leader can answer (lease keep-alives and time-to-live, membership changes,
// leadership moves), sent by a follower to the leader's client endpoint as a plain gRPC call —
// etcd does the same over its peer HTTP API. The leader's client URL comes from the replicated
// member list (members publish their client URLs when they start).
import http2 from 'node:http2';
import type { SecureContextOptions } from 'node:tls';
import type { EtcdError } from '@synod/state';
import { ETCD_ERRORS } from '@synod/state';
import { currentToken } from './auth-guard.js';

/** Sessions to leaders kept open, at most (leaders change rarely; old ones are closed). */
const MAX_SESSIONS = 4;
/** gRPC status names by number, for errors relayed from the leader. */
const RELAYED_CODES: Record<number, EtcdError['code']> = {
  1: 'Canceled',
  3: 'InvalidArgument',
  5: 'NotFound',
  7: 'PermissionDenied',
  8: 'ResourceExhausted',
  9: 'FailedPrecondition',
  11: 'OutOfRange',
  14: 'Unavailable',
  15: 'DataLoss',
  16: 'Unauthenticated',
};

export type ForwardResult =
  | { readonly ok: true; readonly body: Uint8Array }
  | { readonly ok: false; readonly error: EtcdError };

export interface LeaderForwarderOptions {
  /** The leader's client URL, or undefined while no leader (or its URL) is known. */
  readonly leaderUrl: () => string | undefined;
  /** For https endpoints: our client certificate and the CA (etcd's client TLS flags). */
  readonly tls?: SecureContextOptions;
}

export class LeaderForwarder {
  private readonly options: LeaderForwarderOptions;
  private readonly sessions = new Map<string, http2.ClientHttp2Session>();

  constructor(options: LeaderForwarderOptions) {
    this.options = options;
  }

  /** One request message, one response message (unary, or a bidi call used for one exchange). */
  /** Relays a request to the leader, with the caller's auth token when auth is on. */
  async call(
    path: string,
    request: Uint8Array,
    timeoutMs: number,
    token = currentToken(),
  ): Promise<ForwardResult> {
    const url = this.options.leaderUrl();
    if (!url) return { ok: false, error: ETCD_ERRORS.noLeader };
    let session: http2.ClientHttp2Session;
    try {
      session = this.session(url);
    } catch {
      return { ok: false, error: ETCD_ERRORS.noLeader };
    }
    return new Promise((resolve) => {
      const headers: http2.OutgoingHttpHeaders = {
        ':method': 'POST',
        ':path': path,
        'content-type': 'application/grpc',
        te: 'trailers',
      };
      if (token) headers.token = token;
      const stream = session.request(headers);
      const chunks: Buffer[] = [];
      let status = -1;
      let message = '';
      const timer = setTimeout(() => {
        stream.close(http2.constants.NGHTTP2_CANCEL);
        resolve({ ok: false, error: ETCD_ERRORS.timeout });
      }, timeoutMs);
      const readStatus = (fields: http2.IncomingHttpHeaders) => {
        if (fields['grpc-status'] !== undefined) status = Number(fields['grpc-status']);
        if (fields['grpc-message'] !== undefined)
          message = decodeURIComponent(String(fields['grpc-message']));
      };
      stream.on('response', readStatus);
      stream.on('trailers', readStatus);
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', () => {});
      stream.on('close', () => {
        clearTimeout(timer);
        const data = Buffer.concat(chunks);
        if (status === 0 && data.byteLength >= 5) {
          resolve({ ok: true, body: data.subarray(5, 5 + data.readUInt32BE(1)) });
        } else if (status > 0) {
          resolve({ ok: false, error: { code: RELAYED_CODES[status] ?? 'Unavailable', message } });
        } else {
          resolve({ ok: false, error: ETCD_ERRORS.noLeader });
        }
      });
      const frame = Buffer.alloc(5 + request.byteLength);
      frame.writeUInt32BE(request.byteLength, 1);
      frame.set(request, 5);
      stream.end(frame);
    });
  }

  /** The HTTP/2 session to `url`, opened on first use and shared (the keep-alive relay uses it too). */
  session(url: string): http2.ClientHttp2Session {
    const existing = this.sessions.get(url);
    if (existing && !existing.closed && !existing.destroyed) return existing;
    if (this.sessions.size >= MAX_SESSIONS) this.closeAll();
    const session = http2.connect(url, this.options.tls ?? {});
    session.on('error', () => this.sessions.delete(url));
    session.on('close', () => this.sessions.delete(url));
    session.unref();
    this.sessions.set(url, session);
    return session;
  }

  closeAll(): void {
    for (const session of this.sessions.values()) session.close();
    this.sessions.clear();
  }
}
