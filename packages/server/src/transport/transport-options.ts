// The knobs of the peer transport, their defaults, and the shapes it shares with its parts.
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { NodeId } from '@synod/raft';
import { FRAME_PAYLOAD_BYTES_MAX } from './frame.js';

export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

export interface PeerEndpoint extends PeerAddress {
  readonly nodeId: NodeId;
}

/** The subset of a pino logger the transport uses. */
export interface TransportLogger {
  debug(object: object, message: string): void;
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
}

/** Opens the byte stream to a peer: plain TCP by default, TLS when the server injects it. */
export type ConnectToPeer = (peer: PeerEndpoint) => Duplex;

/** Creates the listening server: `net.createServer` by default, `tls.createServer` for TLS. */
export type CreatePeerServer = (onConnection: (socket: Duplex) => void) => net.Server;

export interface TransportLimits {
  /** Largest raft-batch payload sent or accepted. */
  readonly framePayloadBytesMax: number;
  /** A batch is flushed once this many (estimated) bytes are queued; one batch is one write. */
  readonly batchBytesMax: number;
  /** Per peer: estimated bytes waiting to be written, beyond which messages are dropped. */
  readonly queueBytesMax: number;
  /** Per peer: messages waiting to be written, beyond which messages are dropped. */
  readonly queueMessagesMax: number;
  /** First reconnect delay (before full jitter). */
  readonly reconnectDelayInitialMs: number;
  /** Reconnect delays never exceed this. */
  readonly reconnectDelayMaxMs: number;
  /** Connect plus hello exchange must finish within this, or the attempt is abandoned. */
  readonly handshakeTimeoutMs: number;
  /** A connected link pings its peer this often (liveness and round-trip time). */
  readonly pingIntervalMs: number;
  /** A connection silent this long (no pong, no progress) is presumed dead and closed. */
  readonly peerSilenceMsMax: number;
  /** Inbound connections held at once (including ones still in their handshake). */
  readonly inboundConnectionsMax: number;
  /** stop() waits this long for connections to close cleanly before destroying them. */
  readonly stopGraceMs: number;
}

export const DEFAULT_TRANSPORT_LIMITS: TransportLimits = {
  framePayloadBytesMax: FRAME_PAYLOAD_BYTES_MAX,
  batchBytesMax: 1024 * 1024,
  queueBytesMax: 32 * 1024 * 1024,
  queueMessagesMax: 65_536,
  reconnectDelayInitialMs: 100,
  reconnectDelayMaxMs: 5_000,
  handshakeTimeoutMs: 5_000,
  pingIntervalMs: 1_000,
  peerSilenceMsMax: 10_000,
  inboundConnectionsMax: 256,
  stopGraceMs: 1_000,
};

/** Plain TCP with Nagle off: the transport batches by itself and wants each batch sent at once. */
export const connectTcp: ConnectToPeer = (peer) => {
  const socket = net.connect({ host: peer.host, port: peer.port });
  socket.setNoDelay(true);
  return socket;
};

export const createTcpServer: CreatePeerServer = (onConnection) => net.createServer(onConnection);

/** Per-peer counters for metrics and the dashboard. */
export interface PeerStats {
  readonly nodeId: NodeId;
  /** The outbound connection finished its handshake and is usable. */
  readonly connected: boolean;
  /** setLinkBlocked is in force. */
  readonly linkBlocked: boolean;
  readonly queuedBytes: number;
  readonly queuedMessages: number;
  readonly sentMessages: number;
  readonly sentBatches: number;
  readonly sentBytes: number;
  readonly receivedMessages: number;
  /** Dropped for lack of room (queue full) or size (larger than a frame). */
  readonly droppedMessages: number;
  /** Dropped because the link is blocked (both directions). */
  readonly blockedMessages: number;
  /** Connection attempts after the first. */
  readonly reconnects: number;
  /** Round-trip time of the last answered ping; undefined before the first. */
  readonly rttMs: number | undefined;
}
