// A minimal etcd KV client over raw node:http2, for tests that must know exactly what was sent:
// one attempt per call, no hidden retries, a deadline that makes the outcome indeterminate.
import http2 from 'node:http2';
import type { PutRequest, RangeRequest, TxnRequest } from '@synod/state';
import {
  decodeRangeResponse,
  decodeStatusResponse,
  decodeTxnResponse,
  encodePutRequest,
  encodeRangeRequest,
  encodeTxnRequest,
} from '../etcd-api/proto/messages.js';

export class CallError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** The call did not complete in time: it may or may not have taken effect. */
export class CallTimeout extends Error {}

export class RawEtcdClient {
  private session: http2.ClientHttp2Session | undefined;
  readonly url: string;

  constructor(url: string) {
    this.url = url;
  }

  private connect(): http2.ClientHttp2Session {
    if (!this.session || this.session.closed || this.session.destroyed) {
      this.session = http2.connect(this.url);
      this.session.on('error', () => {});
    }
    return this.session;
  }

  call(path: string, body: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      let stream: http2.ClientHttp2Stream;
      try {
        stream = this.connect().request({
          ':method': 'POST',
          ':path': path,
          'content-type': 'application/grpc',
          te: 'trailers',
        });
      } catch (error) {
        reject(new CallError(14, (error as Error).message));
        return;
      }
      const chunks: Buffer[] = [];
      let status = -1;
      let message = '';
      const timer = setTimeout(() => {
        stream.close(http2.constants.NGHTTP2_CANCEL);
        reject(new CallTimeout(`${path} timed out`));
      }, timeoutMs);
      stream.on('response', (headers) => {
        if (headers['grpc-status'] !== undefined) status = Number(headers['grpc-status']);
        if (headers['grpc-message'] !== undefined)
          message = decodeURIComponent(String(headers['grpc-message']));
      });
      stream.on('trailers', (trailers) => {
        status = Number(trailers['grpc-status']);
        message = decodeURIComponent(String(trailers['grpc-message'] ?? ''));
      });
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', () => {});
      stream.on('close', () => {
        clearTimeout(timer);
        if (status === 0) {
          const data = Buffer.concat(chunks);
          resolve(data.subarray(5, 5 + data.readUInt32BE(1)));
        } else if (status > 0) reject(new CallError(status, message));
        else reject(new CallTimeout(`${path}: connection closed without a status`));
      });
      const frame = Buffer.alloc(5 + body.byteLength);
      frame.writeUInt32BE(body.byteLength, 1);
      frame.set(body, 5);
      stream.end(frame);
    });
  }

  async put(request: PutRequest, timeoutMs: number): Promise<void> {
    await this.call('/etcdserverpb.KV/Put', encodePutRequest(request), timeoutMs);
  }

  async range(request: RangeRequest, timeoutMs: number) {
    return decodeRangeResponse(
      await this.call('/etcdserverpb.KV/Range', encodeRangeRequest(request), timeoutMs),
    );
  }

  async txn(request: TxnRequest, timeoutMs: number) {
    return decodeTxnResponse(await this.call('/etcdserverpb.KV/Txn', encodeTxnRequest(request), timeoutMs));
  }

  async status(timeoutMs: number) {
    return decodeStatusResponse(
      await this.call('/etcdserverpb.Maintenance/Status', new Uint8Array(0), timeoutMs),
    );
  }

  close(): void {
    this.session?.close();
  }
}
