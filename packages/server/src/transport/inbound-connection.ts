// The accepting half: a connection a peer opened to us. It must introduce itself with a hello
// (right cluster, known node) before anything else; after that it may only carry raft batches
// from that node to us, and pings. Anything else closes this connection, and only this one.
import type { Duplex } from 'node:stream';
import type { Clock } from '@synod/core';
import type { Message, NodeId } from '@synod/raft';
import { decodeHello, decodeRaftBatch, encodeHello, type Hello } from './codec.js';
import { encodeFrame, type Frame, FrameDecoder } from './frame.js';
import { FrameError } from './frame-error.js';
import type { TransportLimits, TransportLogger } from './transport-options.js';

/** How the transport answers for the connections it accepted. */
export interface InboundContext {
  readonly self: Hello;
  readonly limits: TransportLimits;
  readonly logger: TransportLogger;
  readonly clock: Clock;
  /** Why this peer may not connect, or undefined to admit it. */
  refusalOf(hello: Hello): string | undefined;
  /** The connection has identified its peer. */
  identified(connection: InboundConnection): void;
  /** Validated messages from the identified peer, addressed to us. */
  deliver(from: NodeId, messages: readonly Message[]): void;
  closed(connection: InboundConnection): void;
}

export class InboundConnection {
  private readonly socket: Duplex;
  private readonly context: InboundContext;
  private readonly decoder: FrameDecoder;
  readonly remoteAddress: string;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private lastActivityMs: number;
  private isClosed = false;
  /** The node on the other end, once its hello was accepted. */
  peer: NodeId | undefined;

  constructor(socket: Duplex, remoteAddress: string, context: InboundContext) {
    this.socket = socket;
    this.remoteAddress = remoteAddress;
    this.context = context;
    this.lastActivityMs = context.clock.now();
    // Until the hello, only a hello (≤ 1 KiB) is accepted: a stranger cannot make us buffer more.
    this.decoder = new FrameDecoder({
      accept: ['hello'],
      raftBatchBytesMax: context.limits.framePayloadBytesMax,
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error: Error) => this.close(`socket error: ${error.message}`, 'debug'));
    socket.on('close', () => this.onClose());
    const timeoutMs = context.limits.handshakeTimeoutMs;
    this.handshakeTimer = setTimeout(() => this.close(`no hello within ${timeoutMs} ms`, 'warn'), timeoutMs);
    this.handshakeTimer.unref();
  }

  /** Closes the connection if nothing arrived for longer than the silence limit (the dialer pings). */
  checkLiveness(): void {
    const silentMs = this.context.clock.now() - this.lastActivityMs;
    if (silentMs > this.context.limits.peerSilenceMsMax)
      this.close(`silent for ${Math.round(silentMs)} ms`, 'warn');
  }

  /** Closes at once with a logged reason; the peer will reconnect if it still has business here. */
  close(reason: string, level: 'debug' | 'info' | 'warn', code?: string): void {
    if (this.isClosed) return;
    this.isClosed = true;
    clearTimeout(this.handshakeTimer);
    this.context.logger[level](
      { peer: this.peer, remoteAddress: this.remoteAddress, reason, code },
      'closing inbound peer connection',
    );
    this.socket.destroy();
  }

  /** Ends the connection cleanly (on stop), destroying it if it does not close within the grace period. */
  end(): Promise<void> {
    this.isClosed = true;
    clearTimeout(this.handshakeTimer);
    if (this.socket.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const grace = setTimeout(() => this.socket.destroy(), this.context.limits.stopGraceMs);
      this.socket.once('close', () => {
        clearTimeout(grace);
        resolve();
      });
      this.socket.end();
    });
  }

  private onData(chunk: Buffer): void {
    if (this.isClosed) return;
    this.lastActivityMs = this.context.clock.now();
    const error = this.decoder.push(chunk, (frame) => this.onFrame(frame));
    if (error) this.close(`bad frame: ${error.message}`, 'warn', error.code);
  }

  private onFrame(frame: Frame): void {
    if (this.isClosed) return;
    switch (frame.type) {
      case 'hello':
        this.onHello(frame.payload);
        return;
      case 'raft-batch':
        this.onRaftBatch(frame.payload);
        return;
      case 'ping':
        this.socket.write(encodeFrame('pong', frame.payload));
        return;
      case 'pong':
        return; // the decoder never accepts pongs here
    }
  }

  private onHello(payload: Uint8Array): void {
    const hello = decodeHello(payload);
    if (hello instanceof FrameError) {
      this.close(`bad hello: ${hello.message}`, 'warn', hello.code);
      return;
    }
    const refusal = this.context.refusalOf(hello);
    if (refusal !== undefined) {
      this.close(`refused node ${hello.nodeId}: ${refusal}`, 'warn');
      return;
    }
    clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
    this.peer = hello.nodeId;
    this.decoder.accept(['raft-batch', 'ping']);
    this.socket.write(encodeFrame('hello', encodeHello(this.context.self)));
    this.context.identified(this);
  }

  private onRaftBatch(payload: Uint8Array): void {
    const peer = this.peer!;
    const messages = decodeRaftBatch(payload);
    if (messages instanceof FrameError) {
      this.close(`bad raft batch: ${messages.message}`, 'warn', messages.code);
      return;
    }
    const self = this.context.self.nodeId;
    for (const message of messages) {
      // Raft trusts `from` and `to`; a connection speaks only for the node that said hello.
      if (message.from !== peer || message.to !== self) {
        this.close(
          `message from ${message.from} to ${message.to} on the connection of ${peer} to ${self}`,
          'warn',
        );
        return;
      }
    }
    if (messages.length > 0) this.context.deliver(peer, messages);
  }

  private onClose(): void {
    this.isClosed = true;
    clearTimeout(this.handshakeTimer);
    this.context.closed(this);
  }
}
