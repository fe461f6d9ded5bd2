// A stand-in for a synod cluster's admin servers, following the admin HTTP contract (NodeView,
// SSE streams, keys, watch, dev fault routes, static dashboard files), so the dashboard's browser
// tests run without real members. Elections are scripted: when the leader dies or is cut off, the
// next reachable member in name order wins after `electionDelayMs`.
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { dashboardPublicDir } from './index.js';

/** How often every stream gets an event even when nothing changed (the contract: ≥ 1/s). */
const STREAM_HEARTBEAT_MS = 1_000;
/** Elections each member remembers (the contract: the last 20). */
const ELECTIONS_KEPT = 20;
/** Heartbeat rate the fake reports on each live leader↔follower link. */
const HEARTBEATS_PER_SECOND = 10;
/** Largest POST body the fake reads. */
const MAX_BODY_BYTES = 64 * 1024;

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

interface FakeMember {
  readonly name: string;
  readonly raftId: string;
  port: number;
  server: Server | undefined;
  readonly streams: Set<ServerResponse>;
  readonly watchers: Set<{ prefix: string; response: ServerResponse }>;
  role: 'leader' | 'follower' | 'candidate';
  term: number;
  appliedIndex: number;
  blockedPeers: Set<string>;
  readonly elections: { term: number; leader: string; atMs: number }[];
  readonly startedAtMs: number;
}

interface FakeKey {
  value: string;
  createRevision: number;
  modRevision: number;
  version: number;
}

export interface FakeClusterOptions {
  readonly size?: number;
  /** Whether the members say they were started by `synod dev` (fault controls shown). */
  readonly dev?: boolean;
  readonly electionDelayMs?: number;
  /** Peers list n2 without a name until this long after start (as before it publishes one). */
  readonly n2NamelessForMs?: number;
}

/** One dev request the fake received, for tests to check what the page sent. */
export interface DevRequest {
  readonly via: string;
  readonly path: string;
  readonly body: string;
}

export class FakeAdminCluster {
  readonly members: FakeMember[];
  readonly devRequests: DevRequest[] = [];
  private readonly dev: boolean;
  private readonly electionDelayMs: number;
  private readonly n2NamedAtMs: number;
  private readonly keys = new Map<string, FakeKey>();
  private commitIndex = 1;
  private revision = 1;
  private electionTimer: NodeJS.Timeout | undefined;
  private readonly heartbeat: NodeJS.Timeout;

  private constructor(options: FakeClusterOptions) {
    const size = options.size ?? 3;
    this.dev = options.dev ?? true;
    this.electionDelayMs = options.electionDelayMs ?? 300;
    this.n2NamedAtMs = Date.now() + (options.n2NamelessForMs ?? 0);
    this.members = Array.from({ length: size }, (_, i) => ({
      name: `n${i + 1}`,
      raftId: (0xa1 + i).toString(16),
      port: 0,
      server: undefined,
      streams: new Set(),
      watchers: new Set(),
      role: 'follower',
      term: 1,
      appliedIndex: 1,
      blockedPeers: new Set(),
      elections: [],
      startedAtMs: Date.now(),
    }));
    this.heartbeat = setInterval(() => this.broadcast(), STREAM_HEARTBEAT_MS);
  }

  /** Starts every member's admin server on an ephemeral port; n1 leads term 2. */
  static async start(options: FakeClusterOptions = {}): Promise<FakeAdminCluster> {
    const cluster = new FakeAdminCluster(options);
    for (const member of cluster.members) await cluster.listen(member);
    cluster.elect(cluster.members[0]!);
    return cluster;
  }

  adminUrl(name: string): string {
    return `http://127.0.0.1:${this.member(name).port}`;
  }

  get leaderName(): string | undefined {
    const term = Math.max(...this.members.map((member) => member.term));
    return this.members.find((member) => member.server && member.role === 'leader' && member.term === term)
      ?.name;
  }

  /** Writes a key (committed everywhere reachable at once) and tells watchers. */
  put(key: string, value: string): void {
    this.revision++;
    this.commitIndex++;
    const previous = this.keys.get(key);
    this.keys.set(key, {
      value,
      createRevision: previous?.createRevision ?? this.revision,
      modRevision: this.revision,
      version: (previous?.version ?? 0) + 1,
    });
    for (const member of this.members) {
      if (!member.server) continue;
      member.appliedIndex = this.commitIndex;
      for (const watcher of member.watchers) {
        if (!key.startsWith(watcher.prefix)) continue;
        const change = { type: 'PUT', key, value, modRevision: this.revision };
        watcher.response.write(`event: kv\ndata: ${JSON.stringify(change)}\n\n`);
      }
    }
    this.broadcast();
  }

  async kill(name: string): Promise<void> {
    const member = this.member(name);
    const server = member.server;
    if (!server) return;
    member.server = undefined;
    for (const response of member.streams) response.destroy();
    for (const watcher of member.watchers) watcher.response.destroy();
    member.streams.clear();
    member.watchers.clear();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (member.role === 'leader') this.scheduleElection();
    this.broadcast();
  }

  async restart(name: string): Promise<void> {
    const member = this.member(name);
    if (member.server) return;
    member.role = 'follower';
    member.appliedIndex = this.commitIndex;
    await this.listen(member);
    const leader = this.leaderName;
    if (leader) member.term = this.member(leader).term;
    else this.scheduleElection();
    this.broadcast();
  }

  /** Blocks peers between groups; a leader left without a majority keeps its (stale) role. */
  partition(groups: readonly (readonly string[])[]): void {
    for (const member of this.members) {
      const group = groups.find((names) => names.includes(member.name)) ?? [member.name];
      member.blockedPeers = new Set(
        this.members.filter((other) => !group.includes(other.name)).map((other) => other.raftId),
      );
    }
    this.scheduleElection();
    this.broadcast();
  }

  heal(): void {
    for (const member of this.members) member.blockedPeers.clear();
    const term = Math.max(...this.members.map((member) => member.term));
    for (const member of this.members) {
      if (member.term < term) {
        member.term = term;
        member.role = 'follower';
      }
    }
    this.broadcast();
  }

  async stop(): Promise<void> {
    clearInterval(this.heartbeat);
    clearTimeout(this.electionTimer);
    for (const member of this.members) await this.kill(member.name);
  }

  private member(name: string): FakeMember {
    const member = this.members.find((candidate) => candidate.name === name);
    if (!member) throw new Error(`no member ${name}`);
    return member;
  }

  /** Members that can reach `member` over the (fake) peer network, itself included. */
  private reachableFrom(member: FakeMember): FakeMember[] {
    return this.members.filter(
      (other) =>
        other.server && !member.blockedPeers.has(other.raftId) && !other.blockedPeers.has(member.raftId),
    );
  }

  private scheduleElection(): void {
    clearTimeout(this.electionTimer);
    this.electionTimer = setTimeout(() => this.runElection(), this.electionDelayMs);
  }

  private runElection(): void {
    const current = this.leaderName ? this.member(this.leaderName) : undefined;
    const quorum = Math.floor(this.members.length / 2) + 1;
    if (current && this.reachableFrom(current).length >= quorum) return;
    const start = current ? this.members.indexOf(current) + 1 : 0;
    for (let offset = 0; offset < this.members.length; offset++) {
      const candidate = this.members[(start + offset) % this.members.length]!;
      if (candidate === current || !candidate.server) continue;
      if (this.reachableFrom(candidate).length >= quorum) {
        this.elect(candidate);
        return;
      }
    }
  }

  private elect(winner: FakeMember): void {
    const term = Math.max(...this.members.map((member) => member.term)) + 1;
    const election = { term, leader: winner.raftId, atMs: Date.now() };
    for (const member of this.reachableFrom(winner)) {
      member.term = term;
      member.role = member === winner ? 'leader' : 'follower';
      member.elections.push(election);
      if (member.elections.length > ELECTIONS_KEPT) member.elections.shift();
    }
    this.broadcast();
  }

  private nodeView(member: FakeMember): unknown {
    const peers = this.reachableFrom(member);
    const leader = this.members.find(
      (other) => other.role === 'leader' && other.term === member.term && peers.includes(other),
    );
    const rates = this.members
      .filter((other) => other !== member && peers.includes(other))
      .filter((other) => member.role === 'leader' || other === leader)
      .map((other) => ({ to: other.raftId, perSecond: HEARTBEATS_PER_SECOND, queueDepth: 0 }));
    return {
      name: member.name,
      memberId: `${member.raftId}00`,
      raftId: member.raftId,
      clusterId: 'c0ffee',
      clientUrl: `http://127.0.0.1:${member.port - 2}`,
      adminUrl: `http://127.0.0.1:${member.port}`,
      role: member.role,
      term: member.term,
      leader: leader?.raftId ?? '',
      commitIndex: peers.includes(member) && leader ? this.commitIndex : member.appliedIndex,
      appliedIndex: member.appliedIndex,
      lastIndex: this.commitIndex,
      revision: this.revision,
      keys: this.keys.size,
      members: this.members.map((other) => ({
        name: other.name === 'n2' && Date.now() < this.n2NamedAtMs ? '' : other.name,
        raftId: other.raftId,
        memberId: `${other.raftId}00`,
        clientUrl: `http://127.0.0.1:${other.port - 2}`,
        adminUrl: `http://127.0.0.1:${other.port}`,
        isLearner: false,
        matchIndex: member.role === 'leader' ? other.appliedIndex : null,
        connected: peers.includes(other),
      })),
      messageRates: rates,
      elections: member.elections,
      dev: this.dev,
      uptimeMs: Date.now() - member.startedAtMs,
    };
  }

  private broadcast(): void {
    for (const member of this.members) {
      const event = `event: node\ndata: ${JSON.stringify(this.nodeView(member))}\n\n`;
      for (const response of member.streams) response.write(event);
    }
  }

  private async listen(member: FakeMember): Promise<void> {
    const server = createServer((request, response) => {
      this.handle(member, request, response).catch((error: unknown) => {
        response.writeHead(500).end(String(error));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(member.port, '127.0.0.1', () => resolve());
    });
    member.port = (server.address() as AddressInfo).port;
    member.server = server;
  }

  private async handle(
    member: FakeMember,
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://fake');
    response.setHeader('access-control-allow-origin', '*');
    if (request.method === 'OPTIONS') {
      response.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
      response.setHeader('access-control-allow-headers', 'content-type');
      response.writeHead(204).end();
      return;
    }
    if (request.method === 'POST' && url.pathname.startsWith('/api/dev/')) {
      await this.handleDev(member, url, await readBody(request), response);
      return;
    }
    if (url.pathname === '/api/node') return sendJson(response, 200, this.nodeView(member));
    if (url.pathname === '/api/node/stream') return this.openStream(member, response);
    if (url.pathname === '/api/keys') return sendJson(response, 200, this.range(url));
    if (url.pathname === '/api/watch') return this.openWatch(member, url, response);
    await serveStatic(url.pathname, response);
  }

  private async handleDev(
    member: FakeMember,
    url: URL,
    body: string,
    response: ServerResponse,
  ): Promise<void> {
    if (!this.dev) return sendJson(response, 404, { error: 'not a synod dev cluster' });
    const action = url.pathname.slice('/api/dev/'.length);
    this.devRequests.push({ via: member.name, path: `${action}${url.search}`, body });
    const target = url.searchParams.get('member') ?? '';
    if (action === 'kill') await this.kill(target);
    else if (action === 'restart') await this.restart(target);
    else if (action === 'partition') this.partition((JSON.parse(body) as { groups: string[][] }).groups);
    else if (action === 'heal') this.heal();
    else return sendJson(response, 404, { error: `unknown dev action ${action}` });
    sendJson(response, 200, { message: `fake: ${action} ${target}`.trim() });
  }

  private openStream(member: FakeMember, response: ServerResponse): void {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    response.write(`event: node\ndata: ${JSON.stringify(this.nodeView(member))}\n\n`);
    member.streams.add(response);
    response.on('close', () => member.streams.delete(response));
  }

  private openWatch(member: FakeMember, url: URL, response: ServerResponse): void {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    response.write(': watching\n\n');
    const watcher = { prefix: url.searchParams.get('prefix') ?? '', response };
    member.watchers.add(watcher);
    response.on('close', () => member.watchers.delete(watcher));
  }

  private range(url: URL): unknown {
    const prefix = url.searchParams.get('prefix') ?? '';
    const limit = Number(url.searchParams.get('limit') ?? '1000');
    const matching = [...this.keys.entries()].filter(([key]) => key.startsWith(prefix)).sort();
    return {
      revision: this.revision,
      kvs: matching.slice(0, limit).map(([key, entry]) => ({ key, ...entry, lease: '0' })),
      more: matching.length > limit,
    };
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > MAX_BODY_BYTES) throw new Error('body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** `/` → index.html, `/assets/x` → public/assets/x; nothing outside the public folder. */
async function serveStatic(pathname: string, response: ServerResponse): Promise<void> {
  const relative = pathname === '/' ? 'index.html' : decodeURIComponent(pathname.slice(1));
  const file = normalize(join(dashboardPublicDir, relative));
  if (!file.startsWith(dashboardPublicDir.endsWith(sep) ? dashboardPublicDir : dashboardPublicDir + sep)) {
    response.writeHead(404).end();
    return;
  }
  try {
    const content = await readFile(file);
    response.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream' });
    response.end(content);
  } catch {
    response.writeHead(404).end();
  }
}
