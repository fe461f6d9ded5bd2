// The admin HTTP/1.1 server every member runs (by default on its client port + 2): Prometheus
// metrics, health checks, the NodeView API and its event stream, a key browser, a watch tail, the
// simulator's traces for the replay view, the dashboard's static files, and — only under
// `synod dev` — fault controls. Plain node:http; every resource it hands out is bounded
// (connections, event streams, request bodies, unsent event bytes, concurrent simulations).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  AdminBackend,
  FaultsResult,
  KeysResult,
  RouteFailure,
  SimTraceResult,
} from './admin-backend.js';
import { readinessOf } from './admin-backend.js';
import { keysPageJson, watchEventJson } from './kv-json.js';
import { type NodeEventIntervals, NodeViewBroadcaster } from './node-stream.js';
import { SseStream } from './sse.js';
import { lookupStatic, resolveDashboardPublicDir, sendStatic } from './static-files.js';

export interface AdminLimits {
  /** Open TCP connections; more are refused at accept. */
  readonly connectionsMax: number;
  /** Open event streams (`/api/node/stream` and `/api/watch` together); more get 503. */
  readonly eventStreamsMax: number;
  /** Bytes of a POST body; larger ones get 413. */
  readonly postBodyBytesMax: number;
  /** Unsent bytes per event stream before it counts as behind (watch tails are then dropped). */
  readonly eventStreamBufferBytesMax: number;
  /** Largest `limit` of `/api/keys`. */
  readonly keysLimitMax: number;
  /** How long a forwarded dev control request may take. */
  readonly devForwardTimeoutMs: number;
}

export const DEFAULT_ADMIN_LIMITS: AdminLimits = {
  connectionsMax: 256,
  eventStreamsMax: 64,
  postBodyBytesMax: 64 * 1024,
  eventStreamBufferBytesMax: 1024 * 1024,
  keysLimitMax: 1_000,
  devForwardTimeoutMs: 10_000,
};

/** `/api/keys` without a `limit`. */
export const KEYS_LIMIT_DEFAULT = 100;
/** Blocked peers one `/api/dev/faults` call may name. */
export const FAULT_PEERS_MAX = 64;
/** Comment lines keep idle watch streams open through proxies. */
const WATCH_KEEPALIVE_MS = 15_000;
/** Headers must arrive within this; whole requests (not responses) within REQUEST_TIMEOUT_MS. */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;
const RAFT_ID = /^[0-9a-f]{1,16}$/;
const DEV_FORWARDED = new Set(['/api/dev/kill', '/api/dev/restart', '/api/dev/partition', '/api/dev/heal']);

export interface AdminLogger {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

/** The member's metrics, as `/metrics` serves them. */
export interface MetricsExposition {
  scrape(): Promise<{ contentType: string; body: string }>;
}

export interface AdminServerOptions {
  readonly backend: AdminBackend;
  readonly metrics: MetricsExposition;
  readonly logger: AdminLogger;
  /** The dashboard's `public/` folder; default: `@synod/dashboard`'s, if installed; null: serve none. */
  readonly staticDir?: string | null;
  /** `synod dev`'s control server: turns on `/api/dev/*` (forwarded there, or applied here for faults). */
  readonly devControlUrl?: string | undefined;
  readonly limits?: Partial<AdminLimits>;
  /** How often `/api/node/stream` may and must send (default: at most 10/s, at least 1/s). */
  readonly nodeEventIntervals?: NodeEventIntervals;
  /** etcd's health check, the one the client port's /health runs too; without it /health is not served. */
  readonly etcdHealth?: () => Promise<{ readonly healthy: boolean; readonly reason: string }>;
}

const CORS = { 'access-control-allow-origin': '*' } as const;

/**
 * @example
 * const admin = new AdminServer({ backend, metrics, logger });
 * const port = await admin.listen('127.0.0.1', 2381);
 * // GET http://127.0.0.1:2381/api/node → NodeView
 * await admin.close();
 */
export class AdminServer {
  private readonly options: AdminServerOptions;
  private readonly limits: AdminLimits;
  private readonly http: Server;
  private readonly nodeStreams: NodeViewBroadcaster;
  private readonly watchStreams = new Set<SseStream>();
  private keepaliveTimer: ReturnType<typeof setInterval> | undefined;
  private staticDir: Promise<string | undefined>;
  private simulationRunning = false;

  constructor(options: AdminServerOptions) {
    this.options = options;
    this.limits = { ...DEFAULT_ADMIN_LIMITS, ...options.limits };
    this.nodeStreams = new NodeViewBroadcaster(options.backend, options.nodeEventIntervals);
    this.staticDir =
      options.staticDir === null
        ? Promise.resolve(undefined)
        : options.staticDir !== undefined
          ? Promise.resolve(options.staticDir)
          : resolveDashboardPublicDir();
    this.http = createServer(
      { headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS },
      (request, response) => this.handle(request, response),
    );
    this.http.maxConnections = this.limits.connectionsMax;
    this.http.on('clientError', (_error, socket) => socket.destroy());
  }

  /** Starts listening; resolves to the port bound (useful with port 0). */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(port, host, () => {
        this.http.off('error', reject);
        this.keepaliveTimer = setInterval(() => {
          for (const stream of this.watchStreams) stream.comment('keepalive');
        }, WATCH_KEEPALIVE_MS);
        this.keepaliveTimer.unref();
        resolve((this.http.address() as AddressInfo).port);
      });
    });
  }

  /** Ends every event stream and connection. */
  async close(): Promise<void> {
    clearInterval(this.keepaliveTimer);
    this.nodeStreams.closeAll();
    for (const stream of [...this.watchStreams]) stream.close();
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    this.http.closeAllConnections();
    await closed;
  }

  private get eventStreams(): number {
    return this.nodeStreams.size + this.watchStreams.size;
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    this.route(request, response).catch((error: unknown) => {
      this.options.logger.error({ err: error, url: request.url }, 'admin request failed');
      if (!response.headersSent)
        sendJson(response, 500, { error: 'internal error (details are in the member log)' });
      else response.destroy();
    });
  }

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://admin.invalid');
    const path = url.pathname;
    const method = request.method ?? 'GET';
    if (method === 'OPTIONS' && path.startsWith('/api/')) return preflight(response);
    if (path.startsWith('/api/dev/')) return this.routeDev(request, response, url);
    if (method !== 'GET' && method !== 'HEAD') {
      return sendJson(response, 405, { error: `${method} is not allowed here` }, { allow: 'GET, HEAD' });
    }
    switch (path) {
      case '/metrics':
        return this.serveMetrics(response);
      case '/health/live':
        return sendJson(response, 200, { status: 'ok' }, CORS);
      case '/health/ready':
        return this.serveReadiness(response);
      case '/health':
        if (this.options.etcdHealth) return this.serveEtcdHealth(response, this.options.etcdHealth);
        break;
      case '/api/node':
        return sendJson(response, 200, this.options.backend.nodeView(), CORS);
      case '/api/node/stream':
        return this.serveNodeStream(request, response);
      case '/api/keys':
        return this.serveKeys(response, url.searchParams);
      case '/api/watch':
        return this.serveWatch(request, response, url.searchParams);
      case '/api/sim/trace':
        return this.serveSimTrace(response, url.searchParams);
    }
    if (path.startsWith('/api/')) return sendJson(response, 404, { error: `no such API: ${path}` }, CORS);
    return this.serveStatic(response, path, method === 'HEAD');
  }

  private async serveMetrics(response: ServerResponse): Promise<void> {
    const { contentType, body } = await this.options.metrics.scrape();
    response.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
    response.end(body);
  }

  private serveReadiness(response: ServerResponse): void {
    const readiness = readinessOf(this.options.backend.nodeView());
    if (readiness.ready) sendJson(response, 200, { status: 'ok' }, CORS);
    else sendJson(response, 503, { status: 'not ready', reason: readiness.reason }, CORS);
  }

  /** etcd's /health on its metrics listener: {"health":"true"}, or "false" with the reason and 503. */
  private async serveEtcdHealth(
    response: ServerResponse,
    check: NonNullable<AdminServerOptions['etcdHealth']>,
  ): Promise<void> {
    const health = await check();
    sendJson(
      response,
      health.healthy ? 200 : 503,
      { health: String(health.healthy), reason: health.reason },
      CORS,
    );
  }

  private serveNodeStream(request: IncomingMessage, response: ServerResponse): void {
    if (!this.admitEventStream(response)) return;
    const stream: SseStream = new SseStream(request, response, {
      bufferBytesMax: this.limits.eventStreamBufferBytesMax,
      headers: CORS,
      onClose: () => this.nodeStreams.remove(stream),
    });
    this.nodeStreams.add(stream);
  }

  private async serveKeys(response: ServerResponse, query: URLSearchParams): Promise<void> {
    const limit = parseLimit(query.get('limit'), this.limits.keysLimitMax);
    if (typeof limit === 'string') return sendJson(response, 400, { error: limit }, CORS);
    const prefix = Buffer.from(query.get('prefix') ?? '', 'utf8');
    const result: KeysResult = await this.options.backend.keys(prefix, limit);
    if (!result.ok) return sendFailure(response, result);
    sendJson(response, 200, keysPageJson(result.page), CORS);
  }

  private serveWatch(request: IncomingMessage, response: ServerResponse, query: URLSearchParams): void {
    const watchTail = this.options.backend.watchTail;
    if (watchTail === undefined) {
      sendJson(response, 501, { error: 'this member cannot tail changes (no watch source wired)' }, CORS);
      return;
    }
    if (!this.admitEventStream(response)) return;
    let unsubscribe: (() => void) | undefined;
    let dropped = false;
    const drop = () => {
      if (dropped) return;
      dropped = true;
      this.watchStreams.delete(stream);
      unsubscribe?.();
    };
    const stream: SseStream = new SseStream(request, response, {
      bufferBytesMax: this.limits.eventStreamBufferBytesMax,
      headers: CORS,
      onClose: drop,
    });
    this.watchStreams.add(stream);
    stream.comment('watching');
    unsubscribe = watchTail(Buffer.from(query.get('prefix') ?? '', 'utf8'), (event) => {
      if (dropped || stream.send('kv', JSON.stringify(watchEventJson(event)))) return;
      // Events are a log: a subscriber that fell behind would miss some silently. Drop it, and say so.
      drop();
      stream.close({ event: 'overflow', data: JSON.stringify({ reason: 'the client fell behind' }) });
    });
    if (dropped) unsubscribe();
  }

  private async serveSimTrace(response: ServerResponse, query: URLSearchParams): Promise<void> {
    if (this.simulationRunning) {
      return sendJson(
        response,
        429,
        { error: 'a simulation is already running here; retry when it ends' },
        CORS,
      );
    }
    this.simulationRunning = true;
    let result: SimTraceResult;
    try {
      result = await this.options.backend.simTrace(query);
    } finally {
      this.simulationRunning = false;
    }
    if (!result.ok) return sendFailure(response, result);
    response.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(result.json),
      'cache-control': 'no-store',
      ...CORS,
    });
    response.end(result.json);
  }

  private async serveStatic(response: ServerResponse, path: string, headOnly: boolean): Promise<void> {
    const root = await this.staticDir;
    if (root === undefined) {
      return sendJson(response, 404, {
        error: 'this member serves no dashboard (@synod/dashboard is not installed)',
      });
    }
    const file = await lookupStatic(root, path);
    if (!file.found) return sendJson(response, file.status, { error: file.message });
    sendStatic(response, file, headOnly);
  }

  /** 503 (and false) when the event stream limit is reached. */
  private admitEventStream(response: ServerResponse): boolean {
    if (this.eventStreams < this.limits.eventStreamsMax) return true;
    sendJson(
      response,
      503,
      { error: `too many event streams open on this member (limit ${this.limits.eventStreamsMax})` },
      CORS,
    );
    return false;
  }

  // ─── dev fault controls ────────────────────────────────────────────────────

  private async routeDev(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const devControlUrl = this.options.devControlUrl;
    if (devControlUrl === undefined) {
      return sendJson(
        response,
        404,
        { error: 'dev controls are off: they exist only under `synod dev`' },
        CORS,
      );
    }
    if (request.method !== 'POST') {
      return sendJson(
        response,
        405,
        { error: 'dev controls take POST' },
        { ...CORS, allow: 'POST, OPTIONS' },
      );
    }
    const body = await readBody(request, this.limits.postBodyBytesMax);
    if (body === undefined) {
      response.setHeader('connection', 'close');
      return sendJson(
        response,
        413,
        { error: `request body over ${this.limits.postBodyBytesMax} bytes` },
        CORS,
      );
    }
    if (url.pathname === '/api/dev/faults') return this.applyFaults(response, body);
    if (!DEV_FORWARDED.has(url.pathname)) {
      return sendJson(response, 404, { error: `no such dev control: ${url.pathname}` }, CORS);
    }
    await this.forwardToSupervisor(response, new URL(url.pathname + url.search, devControlUrl), body);
  }

  private applyFaults(response: ServerResponse, body: Buffer): void {
    const blockedPeers = parseBlockedPeers(body);
    if (typeof blockedPeers === 'string') {
      sendJson(response, 400, { error: blockedPeers }, CORS);
      return;
    }
    const result: FaultsResult = this.options.backend.applyFaults(blockedPeers);
    if (!result.ok) {
      sendFailure(response, result);
      return;
    }
    this.options.logger.warn(
      { blockedPeers: result.blockedPeers },
      result.blockedPeers.length > 0
        ? 'dev fault controls: traffic to and from these peers is dropped'
        : 'dev fault controls: healed',
    );
    sendJson(response, 200, { blockedPeers: result.blockedPeers }, CORS);
  }

  private async forwardToSupervisor(response: ServerResponse, target: URL, body: Buffer): Promise<void> {
    let answer: Response;
    try {
      answer = await fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        ...(body.length > 0 ? { body } : {}),
        signal: AbortSignal.timeout(this.limits.devForwardTimeoutMs),
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return sendJson(
        response,
        502,
        { error: `the dev supervisor at ${target.origin} did not answer: ${reason}` },
        CORS,
      );
    }
    const text = await answer.text();
    response.writeHead(answer.status, {
      'content-type': answer.headers.get('content-type') ?? 'application/json; charset=utf-8',
      ...CORS,
    });
    response.end(text);
  }
}

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  response.end(text);
}

function sendFailure(response: ServerResponse, failure: RouteFailure): void {
  sendJson(response, failure.status, { error: failure.message }, CORS);
}

function preflight(response: ServerResponse): void {
  response.writeHead(204, {
    ...CORS,
    'access-control-allow-methods': 'GET, POST, OPTIONS',
    'access-control-allow-headers': 'content-type',
    'access-control-max-age': '600',
  });
  response.end();
}

/** The request body, or undefined when it is over `bytesMax` (checked as it arrives, not trusted from headers). */
async function readBody(request: IncomingMessage, bytesMax: number): Promise<Buffer | undefined> {
  if (Number(request.headers['content-length'] ?? 0) > bytesMax) return undefined;
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > bytesMax) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, bytes);
}

function parseLimit(text: string | null, limitMax: number): number | string {
  if (text === null) return Math.min(KEYS_LIMIT_DEFAULT, limitMax);
  const limit = Number(text);
  if (!Number.isInteger(limit) || limit < 1 || limit > limitMax) {
    return `limit must be an integer from 1 to ${limitMax}`;
  }
  return limit;
}

function parseBlockedPeers(body: Buffer): string[] | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return 'the body must be JSON like {"blockedPeers":["<raft id>"]}';
  }
  const peers = (parsed as { blockedPeers?: unknown } | null)?.blockedPeers;
  if (!Array.isArray(peers) || peers.length > FAULT_PEERS_MAX) {
    return `blockedPeers must be an array of at most ${FAULT_PEERS_MAX} raft ids`;
  }
  for (const peer of peers) {
    if (typeof peer !== 'string' || !RAFT_ID.test(peer))
      return `blockedPeers holds ${JSON.stringify(peer)}, not a raft id`;
  }
  return peers as string[];
}
