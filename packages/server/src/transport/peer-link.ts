// The outbound half of the conversation with one peer: a bounded send queue, one connection
// (opened eagerly, reopened with exponential backoff and full jitter), the hello handshake, batched
// writes that respect socket back-pressure, and pings that detect a silently dead connection.
// Each node dials every peer and sends only on its own outbound connection, so no two nodes ever
// race to decide which of two connections to keep.
import type { Duplex } from 'node:stream';
import type { Backoff, Clock, RandomSource } from '@synod/core';
import type { Message, NodeId } from '@synod/raft';
import { decodeHello, encodeHello, encodeRaftBatch, type Hello, MESSAGES_PER_BATCH_MAX } from './codec.js';
import {
  encodeFrame,
  FRAME_HEADER_BYTES,
  type Frame,
  FrameDecoder,
  PROTOCOL_VERSION,
  sealFrame,
} from './frame.js';
import { invariant } from './frame-error.js';
import { SendQueue } from './send-queue.js';
import type {
  ConnectToPeer,
  PeerAddress,
  PeerStats,
  TransportLimits,
  TransportLogger,
} from './transport-options.js';

/** What every link of one transport shares. */
export interface LinkContext {
  readonly self: Hello;
  /** A member joining an existing cluster learns the cluster id from its first peer (see PeerTransport). */
  adoptClusterId(clusterId: string): void;
  /** Told when an established connection to the peer closes. */
  peerDisconnected(peer: string): void;
  readonly limits: TransportLimits;
  readonly logger: TransportLogger;
  readonly connect: ConnectToPeer;
  readonly backoff: Backoff;
  readonly random: RandomSource;
  readonly clock: Clock;
}

type LinkState = 'idle' | 'handshaking' | 'connected' | 'waiting';

/** Bytes of the ping token: a sequence number. */
const PING_TOKEN_BYTES = 4;

export class PeerLink {
  readonly nodeId: NodeId;
  private address: PeerAddress;
  private readonly context: LinkContext;
  private readonly queue: SendQueue;
  private state: LinkState = 'idle';
  /** Separate from `state`: a hello that races with stop() must not bring the link back. */
  private stopped = false;
  private socket: Duplex | undefined;
  private decoder: FrameDecoder | undefined;
  private waitingForDrain = false;
  private flushScheduled = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private previousDelayMs = 0;
  private connectAttempts = 0;
  private pingSequence = 0;
  private pingOutstanding:
    | { readonly token: number; readonly sentAtMs: number; drained: boolean }
    | undefined;
  private counters = {
    sentMessages: 0,
    sentBatches: 0,
    sentBytes: 0,
    droppedMessages: 0,
    blockedMessages: 0,
  };
  private receivedMessages = 0;
  private rttMs: number | undefined;

  constructor(nodeId: NodeId, address: PeerAddress, context: LinkContext) {
    this.nodeId = nodeId;
    this.address = address;
    this.context = context;
    this.queue = new SendQueue({
      bytesMax: context.limits.queueBytesMax,
      messagesMax: context.limits.queueMessagesMax,
    });
  }

  get connected(): boolean {
    return this.state === 'connected' && !this.stopped;
  }

  /** Starts connecting (at once; later attempts back off). */
  start(): void {
    invariant(this.state === 'idle', `link to ${this.nodeId} started twice`);
    this.connectNow();
  }

  /** Queues a message costing `bytes` (estimated); flushes at once when a full batch is waiting. */
  enqueue(message: Message, bytes: number): void {
    if (this.stopped) return;
    if (bytes > this.context.limits.framePayloadBytesMax) {
      this.dropOversized(1, bytes);
      return;
    }
    this.counters.droppedMessages += this.queue.offer(message, bytes);
    if (this.queue.queuedBytes >= this.context.limits.batchBytesMax) this.flush();
    else this.scheduleFlush();
  }

  /** Drops every queued message, counting them as blocked (setLinkBlocked). */
  dropQueuedAsBlocked(): void {
    this.counters.blockedMessages += this.queue.clear();
  }

  /** Counts messages that never reached the queue because the link is blocked. */
  countBlocked(messages: number): void {
    this.counters.blockedMessages += messages;
  }

  countReceived(messages: number): void {
    this.receivedMessages += messages;
  }

  /** A membership change moved the peer: reconnect to the new address now. */
  updateAddress(address: PeerAddress): void {
    if (address.host === this.address.host && address.port === this.address.port) return;
    this.address = address;
    if (this.state === 'idle' || this.stopped) return;
    this.attempt = 0;
    if (this.socket) this.closeSocket(this.socket, 'the peer moved to a new address', 'info');
    else this.reconnectNow();
  }

  /** Called every ping interval: sends a ping, or closes a connection silent for too long. */
  checkLiveness(): void {
    const socket = this.socket;
    if (!this.connected || socket === undefined) return;
    const now = this.context.clock.now();
    const outstanding = this.pingOutstanding;
    if (outstanding === undefined) {
      this.sendPing(socket, now);
    } else if (outstanding.drained) {
      // The peer is reading (the socket drained), just slowly: not dead. Ask again.
      this.sendPing(socket, now);
    } else if (now - outstanding.sentAtMs >= this.context.limits.peerSilenceMsMax) {
      this.closeSocket(socket, `no pong within ${this.context.limits.peerSilenceMsMax} ms`, 'warn');
    }
  }

  /** Closes the connection (cleanly if it can within the grace period) and drops what is queued. */
  stop(): Promise<void> {
    this.stopped = true;
    this.clearTimers();
    this.queue.clear();
    const socket = this.socket;
    if (socket === undefined || socket.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const grace = setTimeout(() => socket.destroy(), this.context.limits.stopGraceMs);
      socket.once('close', () => {
        clearTimeout(grace);
        resolve();
      });
      socket.end();
    });
  }

  stats(linkBlocked: boolean): PeerStats {
    return {
      nodeId: this.nodeId,
      connected: this.connected,
      linkBlocked,
      queuedBytes: this.queue.queuedBytes,
      queuedMessages: this.queue.queuedMessages,
      ...this.counters,
      receivedMessages: this.receivedMessages,
      reconnects: Math.max(0, this.connectAttempts - 1),
      rttMs: this.rttMs,
    };
  }

  // --- connection lifecycle -------------------------------------------------------------------

  private connectNow(): void {
    this.reconnectTimer = undefined;
    if (this.stopped) return;
    this.connectAttempts++;
    this.state = 'handshaking';
    const socket = this.context.connect({ nodeId: this.nodeId, ...this.address });
    this.socket = socket;
    this.decoder = new FrameDecoder({ accept: ['hello'] });
    socket.on('data', (chunk: Buffer) => this.onData(socket, chunk));
    socket.on('drain', () => this.onDrain(socket));
    socket.on('error', (error: Error) => this.onSocketError(socket, error));
    socket.on('close', () => this.onClose(socket));
    // Written before the stream is even open: plain and TLS sockets both hold it until they are.
    socket.write(encodeFrame('hello', encodeHello(this.context.self)));
    const timeoutMs = this.context.limits.handshakeTimeoutMs;
    this.handshakeTimer = setTimeout(
      () => this.closeSocket(socket, `no handshake within ${timeoutMs} ms`, 'debug'),
      timeoutMs,
    );
    this.handshakeTimer.unref();
  }

  private onData(socket: Duplex, chunk: Buffer): void {
    if (socket !== this.socket || this.decoder === undefined) return;
    const error = this.decoder.push(chunk, (frame) => this.onFrame(socket, frame));
    if (error) this.closeSocket(socket, `bad frame from peer: ${error.message}`, 'warn', error.code);
  }

  private onFrame(socket: Duplex, frame: Frame): void {
    if (socket !== this.socket || this.stopped) return;
    if (frame.type === 'hello') this.onHello(socket, frame.payload);
    else if (frame.type === 'pong') this.onPong(frame.payload);
  }

  private onHello(socket: Duplex, payload: Uint8Array): void {
    const hello = decodeHello(payload);
    const refusal = hello instanceof Error ? hello.message : this.refusalOf(hello);
    if (refusal !== undefined) {
      this.closeSocket(socket, refusal, 'warn');
      return;
    }
    clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
    this.state = 'connected';
    this.attempt = 0;
    this.previousDelayMs = 0;
    this.decoder?.accept(['pong']);
    this.context.logger.info({ peer: this.nodeId, ...this.address }, 'connected to peer');
    this.flush();
  }

  /** Why the peer that answered is not the one we meant to reach, if it is not. */
  private refusalOf(hello: Hello): string | undefined {
    const self = this.context.self;
    if (hello.protocolVersion !== PROTOCOL_VERSION) {
      return `peer speaks protocol version ${hello.protocolVersion}, this node speaks ${PROTOCOL_VERSION}`;
    }
    if (self.clusterId === '') this.context.adoptClusterId(hello.clusterId);
    if (hello.clusterId !== self.clusterId) {
      return `peer belongs to cluster ${hello.clusterId}, this node to ${self.clusterId}; check --initial-cluster-token and the peer address`;
    }
    if (hello.nodeId !== this.nodeId) {
      return `the node at ${this.address.host}:${this.address.port} is ${hello.nodeId}, expected ${this.nodeId}; check the peer addresses`;
    }
    return undefined;
  }

  private onPong(payload: Uint8Array): void {
    const outstanding = this.pingOutstanding;
    if (outstanding === undefined || payload.length !== PING_TOKEN_BYTES) return;
    if (Buffer.from(payload.buffer, payload.byteOffset, payload.length).readUInt32BE(0) !== outstanding.token)
      return;
    this.rttMs = this.context.clock.now() - outstanding.sentAtMs;
    this.pingOutstanding = undefined;
  }

  private sendPing(socket: Duplex, nowMs: number): void {
    this.pingSequence = (this.pingSequence + 1) >>> 0;
    const token = this.pingSequence;
    const payload = Buffer.allocUnsafe(PING_TOKEN_BYTES);
    payload.writeUInt32BE(token, 0);
    this.pingOutstanding = { token, sentAtMs: nowMs, drained: false };
    socket.write(encodeFrame('ping', payload));
  }

  private onDrain(socket: Duplex): void {
    if (socket !== this.socket) return;
    this.waitingForDrain = false;
    if (this.pingOutstanding) this.pingOutstanding.drained = true;
    this.flush();
  }

  private onSocketError(socket: Duplex, error: Error): void {
    // 'close' follows; connection refused while a peer is down is routine, so only debug here.
    const code = (error as NodeJS.ErrnoException).code;
    this.context.logger.debug(
      { peer: this.nodeId, ...this.address, error: error.message, code },
      'peer connection error',
    );
    if (socket === this.socket) socket.destroy();
  }

  private onClose(socket: Duplex): void {
    if (socket !== this.socket) return;
    const wasConnected = this.state === 'connected';
    this.socket = undefined;
    this.decoder = undefined;
    this.waitingForDrain = false;
    this.pingOutstanding = undefined;
    clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
    if (this.stopped) return;
    if (wasConnected) {
      this.context.logger.info({ peer: this.nodeId, ...this.address }, 'lost connection to peer');
      this.context.peerDisconnected(this.nodeId);
    }
    this.scheduleReconnect();
  }

  private closeSocket(socket: Duplex, reason: string, level: 'debug' | 'info' | 'warn', code?: string): void {
    if (socket !== this.socket) return;
    this.context.logger[level](
      { peer: this.nodeId, ...this.address, reason, code },
      'closing connection to peer',
    );
    socket.destroy();
  }

  private scheduleReconnect(): void {
    this.attempt++;
    const delayMs = this.context.backoff(this.attempt, this.previousDelayMs, this.context.random);
    this.previousDelayMs = delayMs;
    this.state = 'waiting';
    this.context.logger.debug(
      { peer: this.nodeId, attempt: this.attempt, delayMs },
      'reconnecting to peer after a delay',
    );
    this.reconnectTimer = setTimeout(() => this.connectNow(), delayMs);
    this.reconnectTimer.unref();
  }

  private reconnectNow(): void {
    clearTimeout(this.reconnectTimer);
    this.connectNow();
  }

  private clearTimers(): void {
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.handshakeTimer);
    this.reconnectTimer = undefined;
    this.handshakeTimer = undefined;
    this.flushScheduled = false;
  }

  // --- batching ---------------------------------------------------------------------------------

  private scheduleFlush(): void {
    if (this.flushScheduled || !this.connected || this.waitingForDrain) return;
    // After the current callback and its microtasks: everything one Ready (or one fsync's
    // completion) sends joins one batch. setImmediate would batch a whole turn, but a send made in
    // the check phase (where Readys are processed) would then wait for the next turn's poll.
    this.flushScheduled = true;
    process.nextTick(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Writes batches until the queue is empty or the socket asks us to wait for 'drain'. */
  private flush(): void {
    const { batchBytesMax, framePayloadBytesMax } = this.context.limits;
    while (this.connected && !this.waitingForDrain && this.queue.queuedMessages > 0) {
      const socket = this.socket;
      invariant(socket !== undefined, 'connected without a socket');
      const batch = this.queue.takeBatch(batchBytesMax, MESSAGES_PER_BATCH_MAX);
      const frame = encodeRaftBatch(batch, FRAME_HEADER_BYTES);
      if (frame.length - FRAME_HEADER_BYTES > framePayloadBytesMax) {
        this.dropOversized(batch.length, frame.length - FRAME_HEADER_BYTES);
        continue;
      }
      this.counters.sentMessages += batch.length;
      this.counters.sentBatches++;
      this.counters.sentBytes += frame.length;
      if (!socket.write(sealFrame('raft-batch', frame))) this.waitingForDrain = true;
    }
  }

  private dropOversized(messages: number, bytes: number): void {
    this.counters.droppedMessages += messages;
    this.context.logger.warn(
      { peer: this.nodeId, messages, bytes, limit: this.context.limits.framePayloadBytesMax },
      'dropping messages larger than a frame; lower Raft maxBytesPerMessage or snapshotChunkBytes',
    );
  }
}
