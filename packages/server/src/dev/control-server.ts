// The `synod dev` control server (127.0.0.1, base port + 8 = 2387 by default): the HTTP face of
// the supervisor. Members' admin servers forward the dashboard's /api/dev/* requests here.
//   POST /api/dev/kill?member=n1      SIGKILL; the member stays down until restarted
//   POST /api/dev/restart?member=n1   start it again (a running member is stopped first)
//   POST /api/dev/partition           body {"groups":[["n1"],["n2","n3"]]}
//   POST /api/dev/heal
//   GET  /api/dev/members             which members run
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { MAX_PARTITION_BODY_BYTES, type PartitionGroups, parsePartition } from './partition.js';
import type { DevActionResult } from './supervisor.js';

/** What the control server needs from the supervisor (a stub in tests). */
export interface DevControl {
  readonly memberNames: readonly string[];
  kill(name: string): Promise<DevActionResult>;
  restart(name: string): Promise<DevActionResult>;
  partition(groups: PartitionGroups): Promise<DevActionResult>;
  heal(): Promise<DevActionResult>;
  status(): unknown;
}

const PREFIX = '/api/dev/';

export function createControlServer(control: DevControl): Server {
  return createServer((request, response) => {
    response.setHeader('access-control-allow-origin', '*');
    route(control, request)
      .then((result) => sendResult(response, result))
      .catch((error: unknown) => {
        // A bug in a handler must not take the supervisor (and with it the cluster) down.
        sendResult(response, {
          ok: false,
          status: 500,
          error: error instanceof Error ? error.message : String(error),
        });
      });
  });
}

/** Listens on 127.0.0.1:port; a busy port becomes an error that says what to do. */
export function listenControlServer(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`synod dev: control port ${port} is already in use; choose another with --control-port`)
          : error,
      );
    });
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

type RouteResult = DevActionResult | { readonly ok: true; readonly json: unknown; readonly status?: number };

async function route(control: DevControl, request: IncomingMessage): Promise<RouteResult> {
  const url = new URL(request.url ?? '/', 'http://control');
  const action = url.pathname.startsWith(PREFIX) ? url.pathname.slice(PREFIX.length) : '';
  if (request.method === 'OPTIONS') return { ok: true, json: null, status: 204 };
  if (action === 'members' && request.method === 'GET') return { ok: true, json: control.status() };
  if (!['kill', 'restart', 'partition', 'heal'].includes(action)) {
    return { ok: false, status: 404, error: `no such route: ${request.method} ${url.pathname}` };
  }
  if (request.method !== 'POST') return { ok: false, status: 405, error: `${url.pathname} wants POST` };
  if (action === 'heal') return control.heal();
  if (action === 'partition') {
    const body = await readBody(request, MAX_PARTITION_BODY_BYTES);
    if (body === undefined) return { ok: false, status: 413, error: 'partition request too large' };
    const parsed = parsePartition(body, control.memberNames);
    return parsed.ok ? control.partition(parsed.groups) : { ok: false, status: 400, error: parsed.error };
  }
  const member = url.searchParams.get('member');
  if (!member) return { ok: false, status: 400, error: `${url.pathname} needs ?member=<name>` };
  return action === 'kill' ? control.kill(member) : control.restart(member);
}

function sendResult(response: ServerResponse, result: RouteResult): void {
  if ('json' in result) {
    if (result.status === 204) {
      response.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
      response.setHeader('access-control-allow-headers', 'content-type');
      response.writeHead(204).end();
      return;
    }
    sendJson(response, result.status ?? 200, result.json);
    return;
  }
  if (result.ok) sendJson(response, 200, { ok: true, message: result.message });
  else sendJson(response, result.status, { ok: false, error: result.error });
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
}

/** The request body as text, or undefined when it exceeds `limitBytes`. */
async function readBody(request: IncomingMessage, limitBytes: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > limitBytes) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
