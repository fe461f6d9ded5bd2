// etcd's HTTP/1.1 endpoints on the client port: the JSON gateway (`POST /v3/kv/put` with a JSON
// body, as grpc-gateway serves it for etcd), `GET /health`, `GET /version` and `GET /metrics`. A
// gateway call is the gRPC call itself: the JSON becomes the request's protobuf encoding, the
// registered handler runs behind the same authorization guard, and its response is rendered as
// JSON with the .proto field names, 64-bit integers as strings and bytes in base64.
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { GATEWAY_TOKEN_METADATA_KEY } from '../etcd-api/auth/authorizer.js';
import { Metadata } from '../grpc/metadata.js';
import type { CallContext } from '../grpc/methods.js';
import type { GrpcServer } from '../grpc/server.js';
import { GrpcError, GrpcStatus, type GrpcStatusCode } from '../grpc/status.js';
import { jsonToProto, ProtoJsonError, type ProtoSchema, protoToJson } from './proto-json.js';

/**
 * Largest JSON body taken: etcd's 1.5 MiB request limit, grown by base64 (4/3) and JSON syntax.
 * The decoded request still meets the gRPC limit the handler enforces.
 */
export const GATEWAY_BODY_BYTES_MAX = 4 * 1024 * 1024;

/** HTTP path → gRPC service and method, as etcd's .proto files bind them (`google.api.http`). */
export const GATEWAY_ROUTES: ReadonlyMap<string, { readonly service: string; readonly method: string }> =
  new Map(
    (
      [
        ['/v3/kv/range', 'etcdserverpb.KV', 'Range'],
        ['/v3/kv/put', 'etcdserverpb.KV', 'Put'],
        ['/v3/kv/deleterange', 'etcdserverpb.KV', 'DeleteRange'],
        ['/v3/kv/txn', 'etcdserverpb.KV', 'Txn'],
        ['/v3/kv/compaction', 'etcdserverpb.KV', 'Compact'],
        ['/v3/watch', 'etcdserverpb.Watch', 'Watch'],
        ['/v3/lease/grant', 'etcdserverpb.Lease', 'LeaseGrant'],
        ['/v3/lease/revoke', 'etcdserverpb.Lease', 'LeaseRevoke'],
        ['/v3/kv/lease/revoke', 'etcdserverpb.Lease', 'LeaseRevoke'],
        ['/v3/lease/keepalive', 'etcdserverpb.Lease', 'LeaseKeepAlive'],
        ['/v3/lease/timetolive', 'etcdserverpb.Lease', 'LeaseTimeToLive'],
        ['/v3/kv/lease/timetolive', 'etcdserverpb.Lease', 'LeaseTimeToLive'],
        ['/v3/lease/leases', 'etcdserverpb.Lease', 'LeaseLeases'],
        ['/v3/kv/lease/leases', 'etcdserverpb.Lease', 'LeaseLeases'],
        ['/v3/cluster/member/add', 'etcdserverpb.Cluster', 'MemberAdd'],
        ['/v3/cluster/member/remove', 'etcdserverpb.Cluster', 'MemberRemove'],
        ['/v3/cluster/member/update', 'etcdserverpb.Cluster', 'MemberUpdate'],
        ['/v3/cluster/member/list', 'etcdserverpb.Cluster', 'MemberList'],
        ['/v3/cluster/member/promote', 'etcdserverpb.Cluster', 'MemberPromote'],
        ['/v3/maintenance/alarm', 'etcdserverpb.Maintenance', 'Alarm'],
        ['/v3/maintenance/status', 'etcdserverpb.Maintenance', 'Status'],
        ['/v3/maintenance/defragment', 'etcdserverpb.Maintenance', 'Defragment'],
        ['/v3/maintenance/hash', 'etcdserverpb.Maintenance', 'Hash'],
        ['/v3/maintenance/hashkv', 'etcdserverpb.Maintenance', 'HashKV'],
        ['/v3/maintenance/snapshot', 'etcdserverpb.Maintenance', 'Snapshot'],
        ['/v3/maintenance/transfer-leadership', 'etcdserverpb.Maintenance', 'MoveLeader'],
        ['/v3/auth/enable', 'etcdserverpb.Auth', 'AuthEnable'],
        ['/v3/auth/disable', 'etcdserverpb.Auth', 'AuthDisable'],
        ['/v3/auth/status', 'etcdserverpb.Auth', 'AuthStatus'],
        ['/v3/auth/authenticate', 'etcdserverpb.Auth', 'Authenticate'],
        ['/v3/auth/user/add', 'etcdserverpb.Auth', 'UserAdd'],
        ['/v3/auth/user/get', 'etcdserverpb.Auth', 'UserGet'],
        ['/v3/auth/user/list', 'etcdserverpb.Auth', 'UserList'],
        ['/v3/auth/user/delete', 'etcdserverpb.Auth', 'UserDelete'],
        ['/v3/auth/user/changepw', 'etcdserverpb.Auth', 'UserChangePassword'],
        ['/v3/auth/user/grant', 'etcdserverpb.Auth', 'UserGrantRole'],
        ['/v3/auth/user/revoke', 'etcdserverpb.Auth', 'UserRevokeRole'],
        ['/v3/auth/role/add', 'etcdserverpb.Auth', 'RoleAdd'],
        ['/v3/auth/role/get', 'etcdserverpb.Auth', 'RoleGet'],
        ['/v3/auth/role/list', 'etcdserverpb.Auth', 'RoleList'],
        ['/v3/auth/role/delete', 'etcdserverpb.Auth', 'RoleDelete'],
        ['/v3/auth/role/grant', 'etcdserverpb.Auth', 'RoleGrantPermission'],
        ['/v3/auth/role/revoke', 'etcdserverpb.Auth', 'RoleRevokePermission'],
        ['/v3/lock/lock', 'v3lockpb.Lock', 'Lock'],
        ['/v3/lock/unlock', 'v3lockpb.Lock', 'Unlock'],
        ['/v3/election/campaign', 'v3electionpb.Election', 'Campaign'],
        ['/v3/election/proclaim', 'v3electionpb.Election', 'Proclaim'],
        ['/v3/election/leader', 'v3electionpb.Election', 'Leader'],
        ['/v3/election/observe', 'v3electionpb.Election', 'Observe'],
        ['/v3/election/resign', 'v3electionpb.Election', 'Resign'],
      ] as const
    ).map(([path, service, method]) => [path, { service, method }]),
  );

/** grpc-gateway's HTTP status for each gRPC code. */
const HTTP_STATUS_OF_GRPC: Readonly<Record<GrpcStatusCode, number>> = {
  0: 200,
  1: 408,
  2: 500,
  3: 400,
  4: 504,
  5: 404,
  6: 409,
  7: 403,
  8: 429,
  9: 400,
  10: 409,
  11: 400,
  12: 501,
  13: 500,
  14: 503,
  15: 500,
  16: 401,
};

export interface MemberHealth {
  readonly healthy: boolean;
  /** Why not, in etcd's words (e.g. "RAFT NO LEADER", "ALARM NOSPACE"); empty when healthy. */
  readonly reason: string;
}

export interface HttpGatewayOptions {
  readonly grpc: GrpcServer;
  readonly schema: ProtoSchema;
  /** etcd's /health: a leader is known, no alarm is raised, and a linearizable read succeeds. */
  readonly health: () => Promise<MemberHealth>;
  /** What /version reports. */
  readonly version: { readonly server: string; readonly cluster: string };
  /** Prometheus text for /metrics; undefined when metrics are off. */
  readonly metrics: (() => Promise<{ contentType: string; body: string }>) | undefined;
  readonly logger: { warn(object: object, message: string): void };
}

/** The HTTP/1.1 request handler of the client port. */
export function createHttpGateway(
  options: HttpGatewayOptions,
): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    serve(options, request, response).catch((error: unknown) => {
      options.logger.warn({ err: error, path: request.url }, 'HTTP gateway request failed');
      if (!response.headersSent) sendJson(response, 500, gatewayError(GrpcStatus.INTERNAL, 'internal error'));
      else response.destroy();
    });
  };
}

async function serve(
  options: HttpGatewayOptions,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://gateway').pathname;
  const method = request.method ?? 'GET';
  if (method === 'GET' || method === 'HEAD') {
    if (path === '/health') {
      const health = await options.health();
      return sendJson(response, health.healthy ? 200 : 503, {
        health: String(health.healthy),
        reason: health.reason,
      });
    }
    // etcd 3.6's probes (Kubernetes uses them): plain text, "ok" or why not.
    if (path === '/livez') return sendText(response, 200, 'ok');
    if (path === '/readyz') {
      const health = await options.health();
      return sendText(
        response,
        health.healthy ? 200 : 503,
        health.healthy ? 'ok' : `failed: ${health.reason}`,
      );
    }
    if (path === '/version')
      return sendJson(response, 200, {
        etcdserver: options.version.server,
        etcdcluster: options.version.cluster,
      });
    if (path === '/metrics' && options.metrics) {
      const { contentType, body } = await options.metrics();
      response.writeHead(200, { 'content-type': contentType });
      response.end(body);
      return;
    }
  }
  const route = GATEWAY_ROUTES.get(path);
  if (route === undefined) return sendJson(response, 404, gatewayError(GrpcStatus.NOT_FOUND, 'Not Found'));
  if (method !== 'POST') {
    response.setHeader('allow', 'POST');
    return sendJson(response, 405, gatewayError(GrpcStatus.UNIMPLEMENTED, 'Method Not Allowed'));
  }
  const signature = options.schema.services[route.service]?.[route.method];
  if (signature === undefined)
    return sendJson(
      response,
      501,
      gatewayError(GrpcStatus.UNIMPLEMENTED, `${route.service}.${route.method} is not served`),
    );
  if (signature.clientStreaming && !signature.serverStreaming) {
    const message = `${route.service}.${route.method} takes a stream of requests and answers once: use gRPC for it`;
    return sendJson(response, 501, gatewayError(GrpcStatus.UNIMPLEMENTED, message));
  }
  if (signature.serverStreaming) return serveStream(options, route, signature, request, response);
  const body = await readBody(request, GATEWAY_BODY_BYTES_MAX);
  if (body === undefined) {
    const message = `request body larger than ${GATEWAY_BODY_BYTES_MAX} bytes`;
    return sendJson(response, 413, gatewayError(GrpcStatus.RESOURCE_EXHAUSTED, message), {
      connection: 'close',
    });
  }
  let requestBytes: Uint8Array;
  try {
    const json: unknown = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
    requestBytes = jsonToProto(options.schema, signature.input, json);
  } catch (error) {
    if (!(error instanceof SyntaxError) && !(error instanceof ProtoJsonError)) throw error;
    return sendJson(response, 400, gatewayError(GrpcStatus.INVALID_ARGUMENT, error.message));
  }
  const abort = new AbortController();
  response.once('close', () => {
    if (!response.writableFinished)
      abort.abort(new GrpcError(GrpcStatus.CANCELLED, 'the HTTP client went away'));
  });
  let responseBytes: Uint8Array;
  try {
    responseBytes = await options.grpc.invokeUnary(
      `/${route.service}/${route.method}`,
      requestBytes,
      callContextOf(request, `/${route.service}/${route.method}`, abort.signal),
    );
  } catch (error) {
    if (!(error instanceof GrpcError)) throw error;
    return sendJson(
      response,
      HTTP_STATUS_OF_GRPC[error.code] ?? 500,
      gatewayError(error.code, error.message),
    );
  }
  sendJson(response, 200, protoToJson(options.schema, signature.output, responseBytes));
}

/**
 * A streaming call as grpc-gateway serves it: the body is a sequence of JSON requests (one for a
 * server-streaming method; a bidi one reads them as they arrive and keeps answering after the body
 * ends, as after a gRPC half-close), and each response is a line `{"result":…}`. A failure ends
 * the stream with a line `{"error":{…}}`. The response stays open until the call ends or the
 * client goes away.
 */
async function serveStream(
  options: HttpGatewayOptions,
  route: { readonly service: string; readonly method: string },
  signature: { readonly input: string; readonly output: string },
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const path = `/${route.service}/${route.method}`;
  const abort = new AbortController();
  response.once('close', () => {
    if (!response.writableFinished)
      abort.abort(new GrpcError(GrpcStatus.CANCELLED, 'the HTTP client went away'));
  });
  response.writeHead(200, { 'content-type': 'application/json' });
  response.flushHeaders();
  const requests = (async function* () {
    for await (const text of jsonValues(request, GATEWAY_BODY_BYTES_MAX)) {
      try {
        yield jsonToProto(options.schema, signature.input, JSON.parse(text));
      } catch (error) {
        if (!(error instanceof SyntaxError) && !(error instanceof ProtoJsonError)) throw error;
        throw new GrpcError(GrpcStatus.INVALID_ARGUMENT, error.message);
      }
    }
  })();
  const sink = async (encoded: readonly Uint8Array[]): Promise<void> => {
    const lines = encoded.map(
      (bytes) => `${JSON.stringify({ result: protoToJson(options.schema, signature.output, bytes) })}\n`,
    );
    if (!response.write(lines.join(''))) await waitForDrain(response, abort.signal);
  };
  const status = await options.grpc.invokeStreaming(
    path,
    requests,
    sink,
    callContextOf(request, path, abort.signal),
  );
  if (response.destroyed) return;
  if (status.code !== GrpcStatus.OK) {
    const httpCode = HTTP_STATUS_OF_GRPC[status.code] ?? 500;
    response.write(
      `${JSON.stringify({ error: { grpc_code: status.code, http_code: httpCode, message: status.message, http_status: STATUS_CODES[httpCode] ?? '' } })}\n`,
    );
  }
  response.end();
}

function waitForDrain(response: ServerResponse, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      response.off('drain', done);
      signal.removeEventListener('abort', done);
      if (signal.aborted) reject(signal.reason);
      else resolve();
    };
    response.once('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * The JSON objects of a body that holds several, one after another (whitespace between them, as
 * Go's json.Decoder reads a stream). Each may be at most `limitBytes`; anything but an object at
 * the top level is refused.
 */
export async function* jsonValues(
  body: AsyncIterable<Buffer | string>,
  limitBytes: number,
): AsyncGenerator<string> {
  let pending = '';
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = -1;
  for await (const chunk of body) {
    const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    const offset = pending.length;
    pending += text;
    for (let i = offset; i < pending.length; i++) {
      const char = pending[i]!;
      if (inString) {
        if (escaped) escaped = false;
        else if (char === '\\') escaped = true;
        else if (char === '"') inString = false;
        continue;
      }
      if (depth === 0) {
        if (char === ' ' || char === '\n' || char === '\r' || char === '\t') continue;
        if (char !== '{')
          throw new GrpcError(
            GrpcStatus.INVALID_ARGUMENT,
            `expected a JSON object in the request body, found ${JSON.stringify(char)}`,
          );
        start = i;
      }
      if (char === '"') inString = true;
      else if (char === '{' || char === '[') depth++;
      else if (char === '}' || char === ']') {
        depth--;
        if (depth === 0) {
          if (i + 1 - start > limitBytes) throw tooLarge(limitBytes);
          yield pending.slice(start, i + 1);
          pending = pending.slice(i + 1);
          i = -1;
          start = -1;
        }
      }
    }
    if (depth === 0) pending = '';
    if (pending.length > limitBytes) throw tooLarge(limitBytes);
  }
  if (depth !== 0 || inString)
    throw new GrpcError(GrpcStatus.INVALID_ARGUMENT, 'the request body ends inside a JSON object');
}

function tooLarge(limitBytes: number): GrpcError {
  return new GrpcError(
    GrpcStatus.RESOURCE_EXHAUSTED,
    `a request in the body is larger than ${limitBytes} bytes`,
  );
}

function callContextOf(request: IncomingMessage, method: string, signal: AbortSignal): CallContext {
  const metadata = new Metadata();
  // etcd's gateway passes the token of Authenticate in the Authorization header.
  const token = request.headers.authorization;
  if (token !== undefined && token !== '') metadata.set(GATEWAY_TOKEN_METADATA_KEY, token);
  const socket = request.socket as Partial<TLSSocket>;
  const presented = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
  return {
    method,
    metadata,
    peer: {
      address: request.socket.remoteAddress ?? '',
      port: request.socket.remotePort ?? 0,
      certificate: presented !== undefined && Object.keys(presented).length > 0 ? presented : undefined,
    },
    signal,
    deadlineMs: undefined,
    responseMetadata: new Metadata(),
    responseTrailers: new Metadata(),
  };
}

/** The body, or undefined once it passes `limit` bytes (the rest is not read). */
function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer): void => {
      length += chunk.length;
      if (length > limit) {
        request.off('data', onData);
        request.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.once('end', () => resolve(Buffer.concat(chunks, length)));
    request.once('error', reject);
  });
}

/** grpc-gateway's error body. */
function gatewayError(
  code: GrpcStatusCode,
  message: string,
): { error: string; code: number; message: string } {
  return { error: message, code, message };
}

function sendText(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}
