// A member's observability, wired to its parts: the metrics registry reading Raft, WAL and
// transport state at scrape time; the gRPC call observer (RED metrics, request spans); the Raft
// observer (leader changes, elections, snapshots); log lines tagged with group and term; and the
// admin HTTP server with its backend. synod-server.ts creates one and starts/stops it.
import type { KvEvent } from '@synod/state';
import type { WatchTail } from '../admin/admin-backend.js';
import { AdminServer } from '../admin/admin-server.js';
import { type AdminMember, type KnownMember, SynodAdminBackend } from '../admin/synod-admin-backend.js';
import { raftIdOf } from '../config/server-config.js';
import type { DynamicLogFields, Logger } from '../node/logger.js';
import type { SynodServer } from '../node/synod-server.js';
import { GrpcObserver } from './grpc-observer.js';
import { DEFAULT_RAFT_GROUP_LABEL, type RaftGaugeState, type RaftRoleName, SynodMetrics } from './metrics.js';
import { RaftObserver } from './raft-observer.js';

/** A logger that can tag every line with live fields (createLogger's SynodLogger can). */
type ContextLogger = Logger & { bindContext?: (source: DynamicLogFields) => void };

export interface ServerObservabilityOptions {
  readonly logger: ContextLogger;
  /** The dashboard's public folder; default: `@synod/dashboard`'s if installed; null: none. */
  readonly staticDir?: string | null;
}

/**
 * @example
 * // in SynodServer's constructor, once driver, transport and storage exist:
 * this.observability = new ServerObservability(this, { logger });
 * this.grpc = new GrpcServer({ observer: this.observability.grpcObserver, … });
 * // in start(), after the client port listens:
 * await server.observability.startAdmin();
 */
export class ServerObservability {
  readonly metrics: SynodMetrics;
  readonly grpcObserver: GrpcObserver;
  readonly raftObserver: RaftObserver;
  private readonly server: SynodServer;
  private readonly options: ServerObservabilityOptions;
  private readonly backend: SynodAdminBackend;
  private admin: AdminServer | undefined;
  private adminUrlBound: string;

  constructor(server: SynodServer, options: ServerObservabilityOptions) {
    this.server = server;
    this.options = options;
    const group = DEFAULT_RAFT_GROUP_LABEL;
    this.metrics = new SynodMetrics({
      group,
      sources: {
        raft: () => raftGaugeState(server),
        walBytesWritten: () => server.storage.stats.bytesWritten,
        peers: () => server.transport.stats().peers,
      },
    });
    this.grpcObserver = new GrpcObserver({ metrics: this.metrics.grpc });
    this.raftObserver = new RaftObserver({
      onLeaderChange: () => this.metrics.raft.onLeaderChange(),
      onSnapshot: () => this.metrics.raft.onSnapshot(),
    });
    const listen = server.config.listenAdminUrl;
    this.adminUrlBound = `http://${hostForUrl(listen.host)}:${listen.port}`;
    this.backend = new SynodAdminBackend({
      member: adminMemberOf(server),
      adminUrl: () => this.adminUrlBound,
      elections: () => this.raftObserver.elections(),
      dev: server.config.devControlUrl !== undefined,
      watchTail: watchTailOf(server),
    });
    server.storage.stats.observer = this.metrics.wal;
    server.driver.onApplied(() => this.observeRaft());
    this.bindStoreGauges();
    options.logger.bindContext?.(() => ({ group, term: server.driver.node.raft.term }));
  }

  /** The admin server's URL (its real port once it listens). */
  get adminUrl(): string {
    return this.adminUrlBound;
  }

  /** Starts the admin HTTP server on --listen-admin-urls (default: client port + 2). */
  async startAdmin(): Promise<string> {
    const listen = this.server.config.listenAdminUrl;
    const admin = new AdminServer({
      backend: this.backend,
      metrics: this.metrics,
      logger: this.options.logger,
      devControlUrl: this.server.config.devControlUrl,
      etcdHealth: () => this.server.etcdHealth(),
      ...(this.options.staticDir !== undefined ? { staticDir: this.options.staticDir } : {}),
    });
    const port = await admin.listen(listen.host, listen.port);
    this.admin = admin;
    this.adminUrlBound = `http://${hostForUrl(advertisedHost(listen.host, this.server))}:${port}`;
    return this.adminUrlBound;
  }

  async close(): Promise<void> {
    await this.admin?.close();
    this.admin = undefined;
  }

  private observeRaft(): void {
    const raft = this.server.driver.node.raft;
    this.raftObserver.observe({
      term: raft.term,
      leader: raft.lead,
      snapshotIndex: this.server.storage.memory.snapshot().metadata.index,
    });
  }

  private bindStoreGauges(): void {
    const state = () => this.server.state.state;
    this.metrics.setStoreSource('mvccKeys', () => this.backend.keyCount());
    this.metrics.setStoreSource('mvccDbSizeBytes', () => state().kv.stats.bytes);
    this.metrics.setStoreSource('leases', () => state().leases.stats.leases);
    this.metrics.setStoreSource('watchers', () => this.server.watches.stats.watchers);
  }
}

function raftGaugeState(server: SynodServer): RaftGaugeState {
  const raft = server.driver.node.raft;
  return {
    term: raft.term,
    commitIndex: raft.log.committed,
    appliedIndex: server.driver.appliedIndex,
    lastIndex: raft.log.lastIndex(),
    role: roleName(raft.role, raft.confState.learners.includes(server.self.raftId)),
    leader: raft.lead,
  };
}

function roleName(
  role: 'follower' | 'preCandidate' | 'candidate' | 'leader',
  learner: boolean,
): RaftRoleName {
  if (learner) return 'learner';
  return role === 'preCandidate' ? 'pre-candidate' : role;
}

/** The member as the admin backend reads it. */
function adminMemberOf(server: SynodServer): AdminMember {
  return {
    name: server.self.name,
    memberId: server.self.id,
    raftId: server.self.raftId,
    clusterId: server.clusterId,
    clientUrl: server.config.advertiseClientUrls[0] ?? '',
    members: () => knownMembers(server),
    raft: () => server.driver.node.raft,
    appliedIndex: () => server.driver.appliedIndex,
    onApplied: (listener) => server.driver.onApplied(listener),
    peerStats: () => server.transport.stats().peers,
    setBlockedPeers: (raftIds) => server.transport.setBlockedPeers(raftIds),
    revision: () => server.state.revision,
    range: (request) => server.state.range(request),
  };
}

/** The replicated member list (with published client URLs), or the founding members before it exists. */
function knownMembers(server: SynodServer): KnownMember[] {
  const replicated = server.state.state.members.list();
  if (replicated.length === 0) {
    return [...server.members.values()].map((member) => ({ ...member, memberId: member.id }));
  }
  return replicated.map((member) => ({
    name: member.name,
    memberId: member.id,
    raftId: raftIdOf(member.id),
    peerUrls: member.peerUrls,
    clientUrls: member.clientUrls,
  }));
}

/** `/api/watch` from the server's applied KV events (SynodServer.onKvEvents). */
function watchTailOf(server: SynodServer): WatchTail {
  return (prefix, onEvent) =>
    server.onKvEvents((events: readonly KvEvent[]) => {
      for (const event of events) {
        if (!startsWith(event.kv.key, prefix)) continue;
        onEvent({
          type: event.type,
          key: event.kv.key,
          value: event.kv.value,
          modRevision: event.kv.modRevision,
        });
      }
    });
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

/** A wildcard listen address is not where a browser should go: use the advertised client host. */
function advertisedHost(listenHost: string, server: SynodServer): string {
  if (listenHost !== '0.0.0.0' && listenHost !== '::') return listenHost;
  const advertised = server.config.advertiseClientUrls[0];
  return advertised === undefined ? '127.0.0.1' : new URL(advertised).hostname.replace(/^\[|\]$/g, '');
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
