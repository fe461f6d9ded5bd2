// Helpers for transport tests and the benchmark: transports on 127.0.0.1 with ephemeral ports,
// a recording logger, a hand-driven "raw" peer for sending bad frames, and waitFor.
import net from 'node:net';
import type { Message, NodeId } from '@synod/raft';
import { decodeHello, encodeHello } from './codec.js';
import { encodeFrame, type Frame, FrameDecoder, PROTOCOL_VERSION } from './frame.js';
import { PeerTransport, type PeerTransportOptions } from './peer-transport.js';
import type { PeerAddress, TransportLimits, TransportLogger } from './transport-options.js';

export const HOST = '127.0.0.1';
export const CLUSTER_ID = 'test-cluster';

/** Small delays so reconnects and liveness checks happen within a test's few seconds. */
export const FAST_LIMITS: Partial<TransportLimits> = {
  reconnectDelayInitialMs: 10,
  reconnectDelayMaxMs: 50,
  handshakeTimeoutMs: 1_000,
  pingIntervalMs: 20,
  peerSilenceMsMax: 2_000,
  stopGraceMs: 200,
};

export interface LogEntry {
  readonly level: 'debug' | 'info' | 'warn';
  readonly object: Record<string, unknown>;
  readonly message: string;
}

export function recordingLogger(): TransportLogger & { readonly entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const record = (level: LogEntry['level']) => (object: object, message: string) =>
    entries.push({ level, object: object as Record<string, unknown>, message });
  return { entries, debug: record('debug'), info: record('info'), warn: record('warn') };
}

/** A seeded uniform source (Park–Miller), so reconnect jitter is reproducible. */
export function seededRandom(seed: number): { next(): number } {
  let state = seed % 2147483647 || 1;
  return {
    next: () => {
      state = (state * 48271) % 2147483647;
      return state / 2147483647;
    },
  };
}

export interface TestNode {
  readonly nodeId: NodeId;
  readonly transport: PeerTransport;
  readonly port: number;
  readonly received: { from: NodeId; message: Message }[];
  readonly logger: ReturnType<typeof recordingLogger>;
}

export async function startNode(
  nodeId: NodeId,
  options: Partial<Omit<PeerTransportOptions, 'nodeId' | 'onMessages' | 'logger'>> = {},
): Promise<TestNode> {
  const received: { from: NodeId; message: Message }[] = [];
  const logger = recordingLogger();
  const transport = new PeerTransport({
    nodeId,
    clusterId: CLUSTER_ID,
    listen: { host: HOST, port: 0 },
    peers: new Map(),
    limits: FAST_LIMITS,
    random: seededRandom(nodeId.length * 7919 + nodeId.charCodeAt(0)),
    ...options,
    onMessages: (from, messages) => {
      for (const message of messages) received.push({ from, message });
    },
    logger,
  });
  const port = await transport.start();
  return { nodeId, transport, port, received, logger };
}

/** Starts nodes and tells each about all the others. */
export async function startCluster(ids: readonly NodeId[], options: Parameters<typeof startNode>[1] = {}) {
  const nodes = await Promise.all(ids.map((id) => startNode(id, options)));
  const peers = new Map<NodeId, PeerAddress>(
    nodes.map((node) => [node.nodeId, { host: HOST, port: node.port }]),
  );
  for (const node of nodes) node.transport.updatePeers(peers);
  return nodes;
}

export async function stopAll(nodes: readonly { transport: PeerTransport }[]): Promise<void> {
  await Promise.all(nodes.map((node) => node.transport.stop()));
}

/** Polls until `condition` holds; fails after `timeoutMs` (a bound on a hang, not a timing assertion). */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A port that was free a moment ago (for a peer that is not up yet). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface RawPeer {
  readonly socket: net.Socket;
  /** Frames the transport sent back (hello, pongs). */
  readonly frames: Frame[];
  readonly closed: Promise<void>;
}

/** A hand-driven peer: connects, optionally says hello, and lets the test write any bytes. */
export async function rawPeer(
  port: number,
  hello?: { nodeId: NodeId; clusterId?: string },
): Promise<RawPeer> {
  const socket = net.connect({ host: HOST, port });
  const frames: Frame[] = [];
  const decoder = new FrameDecoder({ accept: ['hello', 'pong'] });
  socket.on('data', (chunk) =>
    decoder.push(chunk, (frame) => frames.push({ ...frame, payload: Buffer.from(frame.payload) })),
  );
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  if (hello) {
    const payload = encodeHello({
      protocolVersion: PROTOCOL_VERSION,
      nodeId: hello.nodeId,
      clusterId: hello.clusterId ?? CLUSTER_ID,
    });
    socket.write(encodeFrame('hello', payload));
  }
  return { socket, frames, closed };
}

/** The node id a raw peer's hello answer names, once it arrived. */
export function helloAnswer(peer: RawPeer): string | undefined {
  const frame = peer.frames.find((candidate) => candidate.type === 'hello');
  if (frame === undefined) return undefined;
  const hello = decodeHello(frame.payload);
  return hello instanceof Error ? undefined : hello.nodeId;
}

export interface FakePeer {
  readonly port: number;
  readonly sockets: net.Socket[];
  /** Bytes received on all connections. */
  bytesReceived: number;
  close(): Promise<void>;
}

/**
 * A listener that completes the handshake as `nodeId` and then only counts bytes: it never
 * answers a ping. `pauseAfterHello` makes it stop reading, like a peer that stalls.
 */
export async function fakePeer(nodeId: NodeId, pauseAfterHello = false): Promise<FakePeer> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    socket.once('data', () => {
      const payload = encodeHello({ protocolVersion: PROTOCOL_VERSION, nodeId, clusterId: CLUSTER_ID });
      socket.write(encodeFrame('hello', payload));
      if (pauseAfterHello) socket.pause();
    });
    socket.on('data', (chunk) => {
      peer.bytesReceived += chunk.length;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const peer: FakePeer = {
    port: (server.address() as net.AddressInfo).port,
    sockets,
    bytesReceived: 0,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  return peer;
}
