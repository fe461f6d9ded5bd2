// One Synod member: durable storage, peer transport, the Raft driver, the KV service and the
// etcd v3 gRPC front-end, wired together. Everything protocol-level lives in the pure packages;
// this is the imperative shell that owns sockets, files and timers.
import { mkdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import {
  AUTH_ERRORS,
  type AuthRequirement,
  type ClusterCommand,
  ClusterState,
  type EtcdError,
  type KvEvent,
} from '@synod/state';
import type { ServerConfig, TlsFiles } from '../config/server-config.js';
import { raftIdOf } from '../config/server-config.js';
import { AuthEdge } from '../etcd-api/auth/auth-edge.js';
import { registerAuthService } from '../etcd-api/auth/auth-service.js';
import { EtcdAuthorizer } from '../etcd-api/auth/authorizer.js';
import { ETCD_AUTH_REQUIREMENTS } from '../etcd-api/auth/method-requirements.js';
import { PasswordHasher } from '../etcd-api/auth/password.js';
import { SimpleTokenManager } from '../etcd-api/auth/simple-token-manager.js';
import { createAuthGuard, currentRequester } from '../etcd-api/auth-guard.js';
import { AutoCompactor } from '../etcd-api/auto-compactor.js';
import { LeaderForwarder } from '../etcd-api/leader-forwarder.js';
import { KeepAliveRelay } from '../etcd-api/lease/keep-alive-relay.js';
import { LeaseManager } from '../etcd-api/lease/lease-manager.js';
import {
  registerEtcdServices,
  responseHeaderOf,
  SERVED_ETCD_CLUSTER_VERSION,
  SERVED_ETCD_VERSION,
} from '../etcd-api/services.js';
import { StateService } from '../etcd-api/state-service.js';
import { WatchHub } from '../etcd-api/watch/watch-hub.js';
import { registerWatchService } from '../etcd-api/watch/watch-service.js';
import { ETCD_SCHEMA } from '../gateway/etcd-schema.generated.js';
import { createHttpGateway, type MemberHealth } from '../gateway/http-gateway.js';
import { GrpcServer } from '../grpc/server.js';
import { enableBuiltInTracing } from '../observability/built-in-tracing.js';
import { ServerObservability } from '../observability/server-observability.js';
import { DEFAULT_DRIVER_TIMING, RaftDriver } from '../raft-driver/raft-driver.js';
import { RaftDiskStorage } from '../storage/raft-storage.js';
import { PeerTransport } from '../transport/peer-transport.js';
import type { Logger } from './logger.js';
import {
  foundingConfState,
  initialMembersOf,
  loadOrCreateIdentity,
  type MemberInfo,
  saveLearnedClusterId,
  UNKNOWN_CLUSTER_ID,
} from './member-identity.js';

/** gRPC receive limit = request limit + etcd's 512 KiB allowance for framing and metadata. */
const GRPC_OVERHEAD_BYTES = 512 * 1024;
/** How long a request with a token minted on another member waits for that entry to apply here. */
const WAIT_APPLIED_MS = 5_000;
/** How long to wait before publishing this member's attributes again after a failure. */
const PUBLISH_RETRY_MS = 500;
/** How long /health waits for its linearizable read (etcd allows one second). */
const HEALTH_READ_TIMEOUT_MS = 1_000;
/** Writes waiting for their entry to apply, per member. */
const MAX_PENDING_WRITES = 10_000;

export class SynodServer {
  readonly config: ServerConfig;
  readonly self: MemberInfo;
  /** 0 while a joining member has not met a peer yet. */
  clusterId: bigint;
  /** The founding members from member.json (the live list is the replicated one: state.state.members). */
  readonly members: ReadonlyMap<string, MemberInfo>;
  readonly storage: RaftDiskStorage;
  readonly transport: PeerTransport;
  readonly driver: RaftDriver;
  readonly state: StateService;
  readonly leases: LeaseManager;
  readonly forwarder: LeaderForwarder;
  private readonly keepAliveRelay: KeepAliveRelay;
  /** Auth tokens handed out by this member (memory only, as etcd's simple tokens). */
  readonly tokens = new SimpleTokenManager();
  readonly authorizer: EtcdAuthorizer;
  /** Watchers of this member, fed by every applied write. */
  readonly watches: WatchHub;
  readonly grpc: GrpcServer;
  /** Metrics, tracing, the Raft observer and the admin HTTP server (client port + 2). */
  readonly observability: ServerObservability;
  private readonly logger: Logger;
  private readonly kvEventListeners = new Set<(events: readonly KvEvent[], revision: number) => void>();

  private constructor(parts: {
    config: ServerConfig;
    self: MemberInfo;
    clusterId: bigint;
    members: Map<string, MemberInfo>;
    storage: RaftDiskStorage;
    logger: Logger;
  }) {
    this.config = parts.config;
    this.self = parts.self;
    this.clusterId = parts.clusterId;
    this.members = parts.members;
    this.storage = parts.storage;
    this.logger = parts.logger;
    const clientTls = parts.config.clientTls ? readTlsFiles(parts.config.clientTls) : undefined;
    this.state = this.createStateService(parts.config);
    this.watches = this.createWatchHub();
    this.forwarder = this.createForwarder(clientTls);
    this.keepAliveRelay = new KeepAliveRelay({
      leaderUrl: () => this.leaderClientUrl(),
      session: (url) => this.forwarder.session(url),
      timeoutMs: requestTimeoutMsOf(parts.config),
    });
    this.leases = this.createLeaseManager(parts.config);
    this.driver = this.createDriver(parts.config);
    this.transport = this.createTransport(parts.config);
    this.authorizer = new EtcdAuthorizer({
      store: () => this.state.state.auth,
      tokens: this.tokens,
      appliedIndex: () => this.driver.appliedIndex,
      waitForApplied: (index, signal) => this.waitForApplied(index, signal),
    });
    this.observability = new ServerObservability(this, { logger: this.logger });
    this.grpc = this.createGrpcServer(parts.config, clientTls);
    this.registerServices();
  }

  private createStateService(config: ServerConfig): StateService {
    const stateOptions = { maxTxnOps: config.maxTxnOps, initialMembers: initialMembersOf(this.members) };
    return new StateService({
      nodeId: this.self.raftId,
      driver: () => this.driver,
      createState: (snapshot) =>
        snapshot ? ClusterState.restore(snapshot, stateOptions) : new ClusterState(stateOptions),
      requestTimeoutMs: requestTimeoutMsOf(config),
      maxPendingWrites: MAX_PENDING_WRITES,
      maxRequestBytes: config.maxRequestBytes,
      quotaBytes: config.quotaBackendBytes,
      onPropose: () => this.observability.metrics.raft.onProposal(),
      memberId: this.self.id,
      onApplied: (command, outcome) => {
        this.leases.onApplied(command, outcome);
        if ('error' in outcome) return;
        if (changesKeys(command.kind)) this.watches.publish(outcome.events, outcome.revision);
        const response = outcome.response;
        if (response.kind === 'auth' && response.applied.ok && response.applied.tokenEffect !== undefined)
          this.tokens.applyEffect(response.applied.tokenEffect);
      },
      onRestore: () => {
        this.watches.historyReplaced();
        this.leases.onRestore();
      },
      onEvents: (events, revision) => {
        for (const listener of this.kvEventListeners) listener(events, revision);
      },
    });
  }

  /** The hub reads history from whatever store is current (a snapshot install replaces it). */
  private createWatchHub(): WatchHub {
    const history = () => this.state.state.kv;
    return new WatchHub({
      get currentRevision() {
        return history().currentRevision;
      },
      get compactedRevision() {
        return history().compactedRevision;
      },
      eventsSince: (key, rangeEnd, fromRevision, options) =>
        history().eventsSince(key, rangeEnd, fromRevision, options),
    });
  }

  private createForwarder(clientTls: ReturnType<typeof readTlsFiles> | undefined): LeaderForwarder {
    return new LeaderForwarder({
      leaderUrl: () => this.leaderClientUrl(),
      ...(clientTls ? { tls: tlsClientOptions(clientTls) } : {}),
    });
  }

  /** The leader's client URL (from the replicated member list), unless this member leads or none does. */
  private leaderClientUrl(): string | undefined {
    const lead = this.driver.node.raft.lead;
    if (lead === '' || lead === this.self.raftId) return undefined;
    return this.state.state.members.get(this.memberIdOfRaftId(lead))?.clientUrls[0];
  }

  private createLeaseManager(config: ServerConfig): LeaseManager {
    return new LeaseManager({
      state: this.state,
      driver: () => this.driver,
      forwarder: this.forwarder,
      relay: this.keepAliveRelay,
      electionTimeoutMs: config.electionTimeoutMs,
      requestTimeoutMs: requestTimeoutMsOf(config),
      // etcd checks each keep-alive on a stream: write permission on every key of the lease.
      authorizeKeepAlive: (id) =>
        this.authorizeCaller(ETCD_AUTH_REQUIREMENTS.Lease.LeaseKeepAlive({ ID: id })),
    });
  }

  private createDriver(config: ServerConfig): RaftDriver {
    const electionTicks = Math.max(5, Math.round(config.electionTimeoutMs / config.heartbeatIntervalMs));
    return new RaftDriver({
      nodeId: this.self.raftId,
      raft: { random: { next: Math.random }, electionTicks, heartbeatTicks: 1 },
      storage: this.storage,
      stateMachine: this.state,
      onConfChange: () => this.updatePeers(),
      send: (messages) => this.transport.send([...messages]),
      logger: this.logger,
      tickMs: config.heartbeatIntervalMs,
      snapshotEveryEntries: config.snapshotCount,
      entriesKeptAfterSnapshot: Math.min(
        DEFAULT_DRIVER_TIMING.entriesKeptAfterSnapshot,
        config.snapshotCount,
      ),
    });
  }

  private createTransport(config: ServerConfig): PeerTransport {
    const listen = config.listenPeerUrls[0]!;
    const peers = new Map<string, { host: string; port: number }>();
    for (const member of this.members.values()) {
      if (member.raftId === this.self.raftId) continue;
      const url = new URL(member.peerUrls[0]!);
      peers.set(member.raftId, { host: url.hostname, port: Number(url.port) });
    }
    return new PeerTransport({
      nodeId: this.self.raftId,
      clusterId: this.clusterId === 0n ? UNKNOWN_CLUSTER_ID : this.clusterId.toString(16),
      onClusterIdLearned: (clusterId) => {
        this.clusterId = BigInt(`0x${clusterId}`);
        saveLearnedClusterId(this.config.dataDir, clusterId);
      },
      listen: { host: listen.host, port: listen.port },
      peers,
      onMessages: (_from, messages) => this.driver.receive(messages),
      onPeerDisconnected: (peer) => this.driver.peerDisconnected(peer),
      logger: this.logger,
      ...peerTlsFactories(config.peerTls),
    });
  }

  private createGrpcServer(
    config: ServerConfig,
    clientTls: ReturnType<typeof readTlsFiles> | undefined,
  ): GrpcServer {
    const clientCertAuth = config.clientTls?.clientCertAuth ?? false;
    let gateway: ((request: IncomingMessage, response: ServerResponse) => void) | undefined;
    const server = new GrpcServer({
      // HTTP/1.1 on the client port: etcd's JSON gateway, /health, /version, /metrics.
      http1: (request, response) => gateway?.(request, response),
      // --metrics off: the request path is not counted (and without an observer, not traced).
      ...(config.metrics === 'off' ? {} : { observer: this.observability.grpcObserver }),
      guard: createAuthGuard({
        authorizer: this.authorizer,
        enabled: () => this.state.state.auth.enabled,
        leaseKeys: (id) => this.state.state.leases.get(id)?.keys ?? [],
      }),
      logger: this.logger,
      maxReceiveMessageBytes: config.maxRequestBytes + GRPC_OVERHEAD_BYTES,
      ...(clientTls
        ? {
            tls: {
              cert: clientTls.cert,
              key: clientTls.key,
              ...(clientTls.ca ? { ca: clientTls.ca } : {}),
              // etcd's --client-cert-auth: clients must present a certificate the trusted CA signed.
              requestCert: clientCertAuth,
              rejectUnauthorized: clientCertAuth,
            },
          }
        : {}),
    });
    gateway = createHttpGateway({
      grpc: server,
      schema: ETCD_SCHEMA,
      health: () => this.etcdHealth(),
      version: { server: SERVED_ETCD_VERSION, cluster: SERVED_ETCD_CLUSTER_VERSION },
      metrics: config.metrics === 'off' ? undefined : () => this.observability.metrics.scrape(),
      logger: this.logger,
    });
    return server;
  }

  /**
   * etcd's /health (client port and admin port alike): a leader is known, no alarm is raised, and
   * a linearizable read completes in time.
   */
  async etcdHealth(): Promise<MemberHealth> {
    if (this.driver.node.raft.lead === '') return { healthy: false, reason: 'RAFT NO LEADER' };
    const alarm = this.state.state.alarms[0];
    if (alarm !== undefined) return { healthy: false, reason: `ALARM ${alarm.alarm}` };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), HEALTH_READ_TIMEOUT_MS);
    });
    try {
      const read = await Promise.race([this.state.linearizableBarrier(), timedOut]);
      return read === undefined ? { healthy: true, reason: '' } : { healthy: false, reason: 'QGET ERROR' };
    } finally {
      clearTimeout(timer);
    }
  }

  private registerServices(): void {
    registerEtcdServices(this.grpc, this);
    registerWatchService(this.grpc, this.watches, responseHeaderOf(this), {
      // etcd checks read permission on every watch a stream creates, not once per stream.
      authorizeCreate: (request) =>
        this.authorizeCaller(ETCD_AUTH_REQUIREMENTS.Watch.Create(request))?.message,
    });
    registerAuthService(
      this.grpc,
      new AuthEdge({
        store: () => this.state.state.auth,
        authorizer: this.authorizer,
        hasher: new PasswordHasher(),
        propose: async (proposal) => {
          const result = await this.state.propose({ kind: 'auth', proposal });
          if (!result.ok) return result;
          const response = result.value.response;
          if (response.kind !== 'auth') throw new Error(`an auth proposal answered ${response.kind}`);
          return { ok: true, applied: response.applied, revision: result.revision };
        },
      }),
      responseHeaderOf(this),
    );
  }

  /** Checks the current request's caller (auth on) against `requirement`; undefined when allowed. */
  private authorizeCaller(requirement: AuthRequirement): EtcdError | undefined {
    const { auth, leases } = this.state.state;
    if (!auth.enabled) return undefined;
    const requester = currentRequester();
    if (requester === undefined) return AUTH_ERRORS.userEmpty;
    return auth.checkRequirement(requester, requirement, (lease) => leases.get(lease)?.keys ?? []);
  }

  static async start(config: ServerConfig, logger: Logger): Promise<SynodServer> {
    if (config.traceRequests === 'all') {
      const recorder = enableBuiltInTracing();
      logger.info(
        { tracing: recorder ? 'built-in recorder' : 'the registered OpenTelemetry SDK' },
        'tracing every request',
      );
    }
    mkdirSync(config.dataDir, { recursive: true });
    const identity = loadOrCreateIdentity(config);
    const storage = await RaftDiskStorage.open(config.dataDir, { logger });
    if (storage.isEmpty() && config.initialClusterState === 'existing') {
      // Joining a running cluster (after MemberAdd): the leader sends a snapshot with the
      // configuration and state; until then this member has no configuration and cannot vote.
      logger.info({}, 'joining an existing cluster; waiting for the leader to send a snapshot');
    } else if (storage.isEmpty()) {
      const confState = foundingConfState(identity.members);
      const initial = new ClusterState({ initialMembers: initialMembersOf(identity.members) });
      await storage.bootstrap(confState, initial.snapshot());
      logger.info({ voters: confState.voters }, 'bootstrapped a new member');
    }
    const server = new SynodServer({ config, ...identity, storage, logger });
    await server.transport.start();
    server.driver.start();
    server.leases.start();
    server.startAutoCompaction();
    const client = config.listenClientUrls[0]!;
    await server.grpc.listen(client.host, client.port);
    try {
      await server.observability.startAdmin();
    } catch (error) {
      await server.stop();
      throw error;
    }
    void server.publishAttributes();
    return server;
  }

  private autoCompactionTimer: ReturnType<typeof setInterval> | undefined;

  /** --auto-compaction-retention: the leader compacts old history on its own. */
  private startAutoCompaction(): void {
    const policy = this.config.autoCompaction;
    if (policy === undefined) return;
    const compactor = new AutoCompactor({
      policy,
      currentRevision: () => this.state.state.kv.currentRevision,
      compactedRevision: () => this.state.state.kv.compactedRevision,
      isLeader: () => this.driver.node.raft.role === 'leader',
      compact: async (revision) => {
        const result = await this.state.write({ kind: 'compact', request: { revision, physical: false } });
        if (!result.ok) throw new Error(result.error.message);
      },
      nowMs: () => Date.now(),
      logger: this.logger,
    });
    this.autoCompactionTimer = setInterval(() => void compactor.check(), compactor.checkIntervalMs);
    this.autoCompactionTimer.unref();
  }

  private publishing = true;

  /**
   * etcd's publish: once a leader exists, replicate this member's name and client URLs so every
   * member's MemberList shows them (and followers can find the leader's client endpoint).
   * Retried until it is applied; done again on every start, since the URLs may have changed.
   */
  private async publishAttributes(): Promise<void> {
    while (this.publishing) {
      const known = this.state.state.members.get(this.self.id);
      if (
        known &&
        known.name === this.self.name &&
        known.clientUrls.join(',') === this.self.clientUrls.join(',')
      )
        return;
      const result = await this.state.propose({
        kind: 'publishMember',
        memberId: this.self.id,
        name: this.self.name,
        clientUrls: this.self.clientUrls,
      });
      if (result.ok) return;
      await new Promise((resolve) => setTimeout(resolve, PUBLISH_RETRY_MS));
    }
  }

  /** The transport follows the replicated member list (members added, moved or removed). */
  private updatePeers(): void {
    const peers = new Map<string, { host: string; port: number }>();
    for (const member of this.state.state.members.list()) {
      const raftId = raftIdOf(member.id);
      if (raftId === this.self.raftId || member.peerUrls.length === 0) continue;
      const url = new URL(member.peerUrls[0]!);
      peers.set(raftId, { host: url.hostname, port: Number(url.port) });
    }
    this.transport.updatePeers(peers);
  }

  /** Resolves once this member applied `index` (a token minted on another member names its entry). */
  private waitForApplied(index: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.driver.appliedIndex >= index) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => done(new Error('timed out waiting for the log to be applied')),
        WAIT_APPLIED_MS,
      );
      const unsubscribe = this.driver.onApplied(() => {
        if (this.driver.appliedIndex >= index) done(undefined);
      });
      const onAbort = () => done(new Error('aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
      function done(error: Error | undefined) {
        clearTimeout(timer);
        unsubscribe();
        signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve();
      }
    });
  }

  /** Raft id (hex) → etcd member id. */
  memberIdOfRaftId(raftId: string): bigint {
    return raftId === '' ? 0n : BigInt(`0x${raftId}`);
  }

  /** Calls `listener` with the events of every applied write, in log order; returns the unsubscribe function. */
  onKvEvents(listener: (events: readonly KvEvent[], revision: number) => void): () => void {
    this.kvEventListeners.add(listener);
    return () => this.kvEventListeners.delete(listener);
  }

  async stop(): Promise<void> {
    await this.observability.close();
    await this.grpc.close();
    this.publishing = false;
    this.state.close();
    this.leases.stop();
    clearInterval(this.autoCompactionTimer);
    this.forwarder.closeAll();
    this.keepAliveRelay.close();
    this.driver.stop();
    await this.transport.stop();
    await this.storage.close();
  }
}

function readTlsFiles(files: TlsFiles): { cert: Buffer; key: Buffer; ca: Buffer | undefined } {
  const read = (path: string, what: string) => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new Error(`cannot read the ${what} file ${path}: ${(error as Error).message}`);
    }
  };
  return {
    cert: read(files.certFile, 'certificate'),
    key: read(files.keyFile, 'key'),
    ca: files.trustedCaFile ? read(files.trustedCaFile, 'trusted CA') : undefined,
  };
}

/** Peer TLS (etcd's --peer-* flags): dialling checks the peer against the CA; accepting may require a client certificate. */
function peerTlsFactories(files: TlsFiles | undefined) {
  if (!files) return {};
  const { cert, key, ca } = readTlsFiles(files);
  const caOption = ca ? { ca } : {};
  return {
    connect: (peer: { host: string; port: number }) =>
      tls.connect({
        host: peer.host,
        port: peer.port,
        cert,
        key,
        ...caOption,
        rejectUnauthorized: ca !== undefined,
      }),
    server: (onConnection: (socket: Duplex) => void) =>
      tls.createServer(
        {
          cert,
          key,
          ...caOption,
          requestCert: files.clientCertAuth,
          rejectUnauthorized: files.clientCertAuth,
        },
        onConnection,
      ),
  };
}

/** Commands whose application changes keys (or compacts their history): watchers must hear of them. */
function changesKeys(kind: ClusterCommand['kind']): boolean {
  return (
    kind === 'put' || kind === 'deleteRange' || kind === 'txn' || kind === 'compact' || kind === 'leaseRevoke'
  );
}

/** etcd answers "request timed out" after 5 s plus two election timeouts. */
function requestTimeoutMsOf(config: ServerConfig): number {
  return 5_000 + 2 * config.electionTimeoutMs;
}

/** Our client certificate and the CA, for calls to another member's client endpoint. */
function tlsClientOptions(files: ReturnType<typeof readTlsFiles>) {
  return { cert: files.cert, key: files.key, ...(files.ca ? { ca: files.ca } : {}) };
}
