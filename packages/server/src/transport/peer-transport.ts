// The peer transport of a Synod node: carries Raft messages of every group between nodes, batched
// per peer, over one outbound connection per peer (see peer-link.ts) and the inbound connections
// peers open to us (see inbound-connection.ts). Bad input from a peer closes that peer's
// connection and nothing else; the node never crashes on what arrives from the network.
import { type AddressInfo, type Server, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type Clock, exponentialBackoff, mathRandom, type RandomSource, systemClock } from '@synod/core';
import type { Message, NodeId } from '@synod/raft';
import { type Hello, messageBytesEstimate } from './codec.js';
import { PROTOCOL_VERSION } from './frame.js';
import { invariant } from './frame-error.js';
import { InboundConnection, type InboundContext } from './inbound-connection.js';
import { type LinkContext, PeerLink } from './peer-link.js';
import {
  type ConnectToPeer,
  type CreatePeerServer,
  connectTcp,
  createTcpServer,
  DEFAULT_TRANSPORT_LIMITS,
  type PeerAddress,
  type PeerStats,
  type TransportLimits,
  type TransportLogger,
} from './transport-options.js';

export interface PeerTransportOptions {
  readonly nodeId: NodeId;
  /** Peers must present the same cluster id in their hello. */
  /** '' for a member joining an existing cluster: it learns the id from its first peer. */
  readonly clusterId: string;
  /** Called once when a joining member learned the cluster id (to persist it). */
  readonly onClusterIdLearned?: (clusterId: string) => void;
  readonly listen: PeerAddress;
  /** Every other member (an entry for this node itself is ignored). */
  readonly peers: ReadonlyMap<NodeId, PeerAddress>;
  /** Validated messages from `from`, addressed to this node, in the order `from` sent them. */
  readonly onMessages: (from: NodeId, messages: readonly Message[]) => void;
  /** A connection to a peer that was up closed (the peer died, restarted or the link broke). */
  readonly onPeerDisconnected?: (peer: NodeId) => void;
  readonly logger: TransportLogger;
  /** Socket factory for outbound connections (default: TCP). Inject TLS here. */
  readonly connect?: ConnectToPeer;
  /** Server factory for inbound connections (default: TCP). Inject TLS here. */
  readonly server?: CreatePeerServer;
  readonly limits?: Partial<TransportLimits>;
  /** Drives reconnect jitter (default Math.random). */
  readonly random?: RandomSource;
  readonly clock?: Clock;
}

export interface TransportStats {
  readonly peers: ReadonlyMap<NodeId, PeerStats>;
  /** Messages addressed to nodes that are not peers (or sent after stop). */
  readonly unroutableMessages: number;
  readonly inboundConnections: number;
}

type TransportState = 'new' | 'started' | 'stopped';

/**
 * Exchanges Raft messages with the other members of the cluster.
 *
 * @example
 * const transport = new PeerTransport({
 *   nodeId: 'a', clusterId: 'c1', listen: { host: '127.0.0.1', port: 2380 },
 *   peers: new Map([['b', { host: '127.0.0.1', port: 22380 }]]),
 *   onMessages: (from, messages) => { for (const m of messages) node.step(m); },
 *   logger,
 * });
 * await transport.start();
 * transport.send(ready.messages);
 */
export class PeerTransport {
  private readonly options: PeerTransportOptions;
  private readonly limits: TransportLimits;
  /** Mutable only in its cluster id, which a joining member learns from its first peer. */
  private readonly self: { protocolVersion: number; nodeId: NodeId; clusterId: string };
  private readonly clock: Clock;
  private readonly links = new Map<NodeId, PeerLink>();
  private readonly inbound = new Set<InboundConnection>();
  private readonly blockedPeers = new Set<NodeId>();
  private readonly linkContext: LinkContext;
  private readonly inboundContext: InboundContext;
  private server: Server | undefined;
  private livenessTimer: NodeJS.Timeout | undefined;
  private state: TransportState = 'new';
  private unroutableMessages = 0;

  constructor(options: PeerTransportOptions) {
    invariant(options.nodeId !== '', 'a transport needs a node id');
    this.options = options;
    this.limits = { ...DEFAULT_TRANSPORT_LIMITS, ...options.limits };
    this.self = { protocolVersion: PROTOCOL_VERSION, nodeId: options.nodeId, clusterId: options.clusterId };
    this.clock = options.clock ?? systemClock;
    this.linkContext = {
      self: this.self,
      adoptClusterId: (clusterId: string) => this.adoptClusterId(clusterId),
      peerDisconnected: (peer: NodeId) => this.options.onPeerDisconnected?.(peer),
      limits: this.limits,
      logger: options.logger,
      connect: options.connect ?? connectTcp,
      backoff: exponentialBackoff({
        initialDelayMs: this.limits.reconnectDelayInitialMs,
        maxDelayMs: this.limits.reconnectDelayMaxMs,
        jitter: 'full',
      }),
      random: options.random ?? mathRandom,
      clock: this.clock,
    };
    this.inboundContext = {
      self: this.self,
      limits: this.limits,
      logger: options.logger,
      clock: this.clock,
      refusalOf: (hello) => this.refusalOf(hello),
      identified: (connection) => this.onIdentified(connection),
      deliver: (from, messages) => this.deliver(from, messages),
      closed: (connection) => this.inbound.delete(connection),
    };
    for (const [nodeId, address] of options.peers) this.addLink(nodeId, address);
  }

  /** Listens for peers and starts connecting to them. Resolves with the port bound (useful with port 0). */
  async start(): Promise<number> {
    invariant(this.state === 'new', 'a transport starts once');
    const server = (this.options.server ?? createTcpServer)((socket) => this.onInboundSocket(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.listen.port, this.options.listen.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (error) => this.options.logger.warn({ error: error.message }, 'peer server error'));
    this.state = 'started';
    for (const link of this.links.values()) link.start();
    this.livenessTimer = setInterval(() => this.checkLiveness(), this.limits.pingIntervalMs);
    this.livenessTimer.unref();
    return (server.address() as AddressInfo).port;
  }

  /**
   * Queues messages for their destinations; each peer's messages leave as batches, one socket
   * write per batch, after the current turn of the event loop. Never blocks and never throws
   * for network reasons: when a peer's queue is full the newest messages are dropped (and counted).
   */
  send(messages: readonly Message[]): void {
    for (const message of messages) {
      invariant(
        message.from === this.self.nodeId,
        `sending a message from ${message.from} as ${this.self.nodeId}`,
      );
      const link = this.state === 'stopped' ? undefined : this.links.get(message.to);
      if (link === undefined) {
        this.unroutableMessages++;
        continue;
      }
      if (this.blockedPeers.has(message.to)) link.countBlocked(1);
      else link.enqueue(message, messageBytesEstimate(message));
    }
  }

  /** Applies a membership change: connects to new peers, moves changed ones, drops removed ones. */
  updatePeers(peers: ReadonlyMap<NodeId, PeerAddress>): void {
    if (this.state === 'stopped') return;
    for (const [nodeId, link] of this.links) {
      if (peers.has(nodeId)) continue;
      this.links.delete(nodeId);
      void link.stop();
      for (const connection of this.inbound) {
        if (connection.peer === nodeId) connection.close('the peer was removed from the cluster', 'info');
      }
    }
    for (const [nodeId, address] of peers) {
      const link = this.links.get(nodeId);
      if (link) link.updateAddress(address);
      else if (this.addLink(nodeId, address) && this.state === 'started') this.links.get(nodeId)!.start();
    }
  }

  /**
   * Fault injection for tests and the dashboard: while blocked, every message to or from `peer`
   * is dropped (connections stay open, as in a partition that has not yet timed anything out).
   */
  setLinkBlocked(peer: NodeId, blocked: boolean): void {
    if (!blocked) {
      this.blockedPeers.delete(peer);
      return;
    }
    this.blockedPeers.add(peer);
    this.links.get(peer)?.dropQueuedAsBlocked();
  }

  /**
   * Blocks exactly `peers` (as setLinkBlocked) and unblocks every other: the admin server's
   * dev fault control (`POST /api/dev/faults`); an empty list heals.
   */
  setBlockedPeers(peers: Iterable<NodeId>): void {
    const wanted = new Set(peers);
    for (const peer of [...this.blockedPeers]) if (!wanted.has(peer)) this.setLinkBlocked(peer, false);
    for (const peer of wanted) this.setLinkBlocked(peer, true);
  }

  /** The peers setLinkBlocked / setBlockedPeers block now. */
  blockedPeerIds(): NodeId[] {
    return [...this.blockedPeers];
  }

  stats(): TransportStats {
    const peers = new Map<NodeId, PeerStats>();
    for (const [nodeId, link] of this.links) peers.set(nodeId, link.stats(this.blockedPeers.has(nodeId)));
    return { peers, unroutableMessages: this.unroutableMessages, inboundConnections: this.inbound.size };
  }

  /** Stops accepting and connecting, ends every connection (destroying stragglers after a grace period). */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    const wasStarted = this.state === 'started';
    this.state = 'stopped';
    clearInterval(this.livenessTimer);
    const closing: Promise<void>[] = [];
    for (const link of this.links.values()) closing.push(link.stop());
    for (const connection of this.inbound) closing.push(connection.end());
    const server = this.server;
    if (wasStarted && server) closing.push(new Promise((resolve) => server.close(() => resolve())));
    await Promise.all(closing);
  }

  /** Returns false for this node itself, which needs no link. */
  private addLink(nodeId: NodeId, address: PeerAddress): boolean {
    if (nodeId === this.self.nodeId) return false;
    this.links.set(nodeId, new PeerLink(nodeId, address, this.linkContext));
    return true;
  }

  private onInboundSocket(socket: Duplex): void {
    // TLS sockets are net.Sockets too; another injected Duplex may not know its address.
    const tcp = socket instanceof Socket ? socket : undefined;
    const remoteAddress = tcp ? `${tcp.remoteAddress}:${tcp.remotePort}` : 'unknown';
    if (this.state !== 'started' || this.inbound.size >= this.limits.inboundConnectionsMax) {
      this.options.logger.warn(
        { remoteAddress, inboundConnections: this.inbound.size, limit: this.limits.inboundConnectionsMax },
        'refusing inbound peer connection: too many connections or stopping',
      );
      socket.destroy();
      return;
    }
    tcp?.setNoDelay(true);
    this.inbound.add(new InboundConnection(socket, remoteAddress, this.inboundContext));
  }

  /**
   * A member joining an existing cluster (started with an empty cluster id) takes the id of the
   * first peer that greets it — a member that was told of it by MemberAdd — and keeps it.
   */
  private adoptClusterId(clusterId: string): void {
    if (this.self.clusterId !== '' || clusterId === '') return;
    this.self.clusterId = clusterId;
    this.options.logger.info({ clusterId }, 'joined the cluster');
    this.options.onClusterIdLearned?.(clusterId);
  }

  private refusalOf(hello: Hello): string | undefined {
    if (hello.protocolVersion !== PROTOCOL_VERSION) {
      return `it speaks protocol version ${hello.protocolVersion}, this node speaks ${PROTOCOL_VERSION}`;
    }
    if (this.self.clusterId === '') this.adoptClusterId(hello.clusterId);
    if (hello.clusterId !== this.self.clusterId) {
      return `it belongs to cluster ${hello.clusterId}, this node to ${this.self.clusterId}`;
    }
    if (hello.nodeId === this.self.nodeId) return 'it claims to be this node';
    if (!this.links.has(hello.nodeId)) return 'it is not a member of this cluster';
    return undefined;
  }

  /** One inbound connection per peer: a newer one (the peer restarted or reconnected) replaces the old. */
  private onIdentified(connection: InboundConnection): void {
    for (const other of this.inbound) {
      if (other !== connection && other.peer === connection.peer) {
        other.close('replaced by a newer connection from the same peer', 'debug');
      }
    }
    this.options.logger.debug(
      { peer: connection.peer, remoteAddress: connection.remoteAddress },
      'accepted inbound peer connection',
    );
  }

  private deliver(from: NodeId, messages: readonly Message[]): void {
    const link = this.links.get(from);
    if (link === undefined) return; // removed while the batch was in flight
    if (this.blockedPeers.has(from)) {
      link.countBlocked(messages.length);
      return;
    }
    link.countReceived(messages.length);
    this.options.onMessages(from, messages);
  }

  private checkLiveness(): void {
    for (const link of this.links.values()) link.checkLiveness();
    for (const connection of this.inbound) connection.checkLiveness();
  }
}
