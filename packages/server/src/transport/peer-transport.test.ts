import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { describe, test } from 'node:test';
import tls from 'node:tls';
import type { Message } from '@synod/raft';
import { encodeRaftBatch } from './codec.js';
import { FRAME_HEADER_BYTES, FRAME_PAYLOAD_BYTES_MAX, sealFrame } from './frame.js';
import { append, binaryData, heartbeat, oneOfEveryType } from './messages.fixture.js';
import {
  fakePeer,
  freePort,
  HOST,
  helloAnswer,
  rawPeer,
  seededRandom,
  startCluster,
  startNode,
  stopAll,
  type TestNode,
  waitFor,
} from './transport.fixture.js';
import type { PeerEndpoint } from './transport-options.js';
import { ByteWriter } from './wire-bytes.js';

/** Messages of `oneOfEveryType` re-addressed from `from` to `to`. */
function everyTypeBetween(from: string, to: string): Message[] {
  return oneOfEveryType().map((message) => ({ ...message, from, to }));
}

function ticksFrom(node: TestNode, from: string): number[] {
  return node.received
    .filter((entry) => entry.from === from && entry.message.type === 'heartbeat')
    .map((entry) => (entry.message.type === 'heartbeat' ? entry.message.sentTick : -1));
}

describe('exchanging messages', () => {
  test('two transports exchange a batch of every message type intact, both ways', async (t) => {
    const nodes = await startCluster(['a', 'b']);
    t.after(() => stopAll(nodes));
    const [a, b] = nodes as [TestNode, TestNode];
    a.transport.send(everyTypeBetween('a', 'b'));
    b.transport.send(everyTypeBetween('b', 'a'));
    await waitFor(() => b.received.length === 14 && a.received.length === 14, 'both batches');
    assert.deepEqual(
      b.received.map((entry) => entry.message),
      everyTypeBetween('a', 'b'),
    );
    assert.deepEqual(
      a.received.map((entry) => entry.message),
      everyTypeBetween('b', 'a'),
    );
    assert.ok(b.received.every((entry) => entry.from === 'a'));
    const stats = a.transport.stats().peers.get('b')!;
    assert.equal(stats.sentMessages, 14);
    assert.equal(stats.receivedMessages, 14);
    assert.equal(stats.connected, true);
  });

  test('three transports deliver every message, in order per sender, across many batches', async (t) => {
    const nodes = await startCluster(['a', 'b', 'c']);
    t.after(() => stopAll(nodes));
    const perPair = 3_000;
    for (let tick = 0; tick < perPair; tick++) {
      for (const node of nodes) {
        const others = nodes.filter((other) => other !== node);
        node.transport.send(
          others.map((other) => heartbeat(node.nodeId, other.nodeId, `g${tick % 5}`, tick)),
        );
      }
      if (tick % 500 === 0) await new Promise((resolve) => setImmediate(resolve)); // several batches
    }
    await waitFor(() => nodes.every((node) => node.received.length === 2 * perPair), 'all heartbeats');
    const expected = Array.from({ length: perPair }, (_, tick) => tick);
    for (const node of nodes) {
      for (const sender of nodes)
        if (sender !== node) assert.deepEqual(ticksFrom(node, sender.nodeId), expected);
    }
    assert.ok(nodes[0]!.transport.stats().peers.get('b')!.sentBatches > 1);
  });

  test('large appends with 4 KiB entries and a 512 KiB snapshot chunk arrive byte for byte', async (t) => {
    const nodes = await startCluster(['a', 'b']);
    t.after(() => stopAll(nodes));
    const [a, b] = nodes as [TestNode, TestNode];
    const snapshot = everyTypeBetween('a', 'b').find((message) => message.type === 'snapshot')!;
    assert.ok(snapshot.type === 'snapshot');
    const chunk = binaryData(512 * 1024, 9);
    const messages: Message[] = [
      append('a', 'b', 1, 256, 4096),
      { ...snapshot, offset: 0, totalBytes: chunk.byteLength, chunk, done: true },
      append('a', 'b', 257, 256, 4096),
    ];
    a.transport.send(messages);
    await waitFor(() => b.received.length === 3, 'three large messages');
    assert.deepEqual(
      b.received.map((entry) => entry.message),
      messages,
    );
  });
});

describe('connections', () => {
  test('a peer that is down at first is reached once it starts, with what was queued', async (t) => {
    const port = await freePort();
    const a = await startNode('a', { peers: new Map([['b', { host: HOST, port }]]) });
    t.after(() => a.transport.stop());
    a.transport.send([heartbeat('a', 'b', 'g', 1), heartbeat('a', 'b', 'g', 2)]);
    await waitFor(() => a.transport.stats().peers.get('b')!.reconnects >= 2, 'a few failed attempts');
    assert.equal(a.transport.stats().peers.get('b')!.queuedMessages, 2);
    const b = await startNode('b', {
      listen: { host: HOST, port },
      peers: new Map([['a', { host: HOST, port: a.port }]]),
    });
    t.after(() => b.transport.stop());
    await waitFor(() => b.received.length === 2, 'the queued heartbeats');
    assert.deepEqual(ticksFrom(b, 'a'), [1, 2]);
    assert.equal(a.transport.stats().peers.get('b')!.connected, true);
  });

  test('a restarted peer is reconnected and receives what is sent afterwards', async (t) => {
    const nodes = await startCluster(['a', 'b']);
    const [a, b] = nodes as [TestNode, TestNode];
    t.after(() => a.transport.stop());
    a.transport.send([heartbeat('a', 'b', 'g', 1)]);
    await waitFor(() => b.received.length === 1, 'first heartbeat');
    await b.transport.stop();
    await waitFor(() => !a.transport.stats().peers.get('b')!.connected, 'a to notice');
    const reconnectsBefore = a.transport.stats().peers.get('b')!.reconnects;
    const b2 = await startNode('b', {
      listen: { host: HOST, port: b.port },
      peers: new Map([['a', { host: HOST, port: a.port }]]),
    });
    t.after(() => b2.transport.stop());
    await waitFor(() => a.transport.stats().peers.get('b')!.connected, 'a to reconnect');
    a.transport.send([heartbeat('a', 'b', 'g', 2)]);
    await waitFor(() => b2.received.length === 1, 'heartbeat after restart');
    assert.deepEqual(ticksFrom(b2, 'a'), [2]);
    assert.ok(a.transport.stats().peers.get('b')!.reconnects > reconnectsBefore);
  });

  test('an unreachable peer’s queue stays within its bounds and counts what it drops', async (t) => {
    const port = await freePort();
    const limits = { queueMessagesMax: 100, queueBytesMax: 64 * 1024, reconnectDelayInitialMs: 10 };
    const a = await startNode('a', { peers: new Map([['b', { host: HOST, port }]]), limits });
    t.after(() => a.transport.stop());
    for (let tick = 0; tick < 1_000; tick++) a.transport.send([heartbeat('a', 'b', 'g', tick)]);
    let stats = a.transport.stats().peers.get('b')!;
    assert.equal(stats.queuedMessages, 100);
    assert.equal(stats.droppedMessages, 900);
    for (let i = 0; i < 10; i++) a.transport.send([append('a', 'b', 1, 4, 4096)]);
    stats = a.transport.stats().peers.get('b')!;
    assert.ok(stats.queuedBytes <= 64 * 1024, `queued ${stats.queuedBytes} bytes`);
    assert.equal(stats.queuedMessages + stats.droppedMessages, 1_010);
    assert.equal(stats.connected, false);
  });

  test('a slow reader applies back-pressure: the queue fills to its bound and drains when reading resumes', async (t) => {
    const b = await fakePeer('b', true);
    const limits = { queueBytesMax: 2 * 1024 * 1024, batchBytesMax: 256 * 1024, peerSilenceMsMax: 10_000 };
    const a = await startNode('a', { peers: new Map([['b', { host: HOST, port: b.port }]]), limits });
    t.after(async () => {
      await a.transport.stop();
      await b.close();
    });
    await waitFor(() => a.transport.stats().peers.get('b')!.connected, 'connection');
    // 64 MiB in all (one message object sent repeatedly): far more than socket buffers hold.
    const message = append('a', 'b', 1, 16, 4096);
    for (let i = 0; i < 1_000; i++) a.transport.send([message]);
    await waitFor(() => a.transport.stats().peers.get('b')!.droppedMessages > 0, 'drops under back-pressure');
    assert.ok(a.transport.stats().peers.get('b')!.queuedBytes <= 2 * 1024 * 1024);
    for (const socket of b.sockets) socket.resume();
    await waitFor(() => a.transport.stats().peers.get('b')!.queuedMessages === 0, 'queue drained');
    const drained = a.transport.stats().peers.get('b')!;
    assert.equal(drained.sentMessages + drained.droppedMessages, 1_000);
    await waitFor(() => b.bytesReceived >= drained.sentBytes, 'everything written arrives');
  });

  test('a connection whose peer stops answering pings is closed and redialled', async (t) => {
    const b = await fakePeer('b');
    const a = await startNode('a', {
      peers: new Map([['b', { host: HOST, port: b.port }]]),
      limits: {
        pingIntervalMs: 10,
        peerSilenceMsMax: 50,
        reconnectDelayInitialMs: 5,
        reconnectDelayMaxMs: 10,
      },
    });
    t.after(async () => {
      await a.transport.stop();
      await b.close();
    });
    await waitFor(() => b.sockets.length >= 2, 'a second connection');
    assert.ok(
      a.logger.entries.some((entry) => String(entry.object.reason).startsWith('no pong within 50 ms')),
    );
  });

  test('reconnect delays grow exponentially up to the cap, with full jitter from the injected random source', async (t) => {
    const port = await freePort();
    const draws: number[] = [];
    const random = seededRandom(42);
    const a = await startNode('a', {
      peers: new Map([['b', { host: HOST, port }]]),
      limits: { reconnectDelayInitialMs: 1, reconnectDelayMaxMs: 8 },
      random: {
        next: () => {
          const draw = random.next();
          draws.push(draw);
          return draw;
        },
      },
    });
    t.after(() => a.transport.stop());
    const delays = () =>
      a.logger.entries.filter((entry) => entry.message === 'reconnecting to peer after a delay');
    await waitFor(() => delays().length >= 6, 'six failed attempts');
    delays()
      .slice(0, 6)
      .forEach((entry, i) => {
        const ceilingMs = Math.min(8, 2 ** i); // 1, 2, 4, 8, 8, 8
        assert.equal(entry.object.attempt, i + 1);
        assert.equal(entry.object.delayMs, draws[i]! * ceilingMs);
      });
  });

  test('round-trip time is measured by pings', async (t) => {
    const nodes = await startCluster(['a', 'b']);
    t.after(() => stopAll(nodes));
    await waitFor(() => nodes[0]!.transport.stats().peers.get('b')!.rttMs !== undefined, 'a pong');
  });

  test('stop ends every connection; messages sent afterwards are counted as unroutable', async (t) => {
    const nodes = await startCluster(['a', 'b']);
    const [a, b] = nodes as [TestNode, TestNode];
    t.after(() => b.transport.stop());
    await waitFor(() => a.transport.stats().peers.get('b')!.connected, 'connection');
    await a.transport.stop();
    await waitFor(() => b.transport.stats().inboundConnections === 0, 'b to see the connection end');
    a.transport.send([heartbeat('a', 'b', 'g', 1)]);
    assert.equal(a.transport.stats().unroutableMessages, 1);
    assert.equal(a.transport.stats().peers.get('b')!.connected, false);
  });
});

describe('bad input closes only the offending connection', () => {
  const validBatch = sealFrame(
    'raft-batch',
    encodeRaftBatch([heartbeat('c', 'b', 'g', 1)], FRAME_HEADER_BYTES),
  );
  const withHeader = (edit: (frame: Buffer) => void) => {
    const frame = Buffer.from(validBatch);
    edit(frame);
    return frame;
  };
  const malformedMessage = (() => {
    const writer = new ByteWriter(64, FRAME_HEADER_BYTES);
    writer.varuint(1);
    writer.u8(99); // no such message type
    return sealFrame('raft-batch', writer.finish());
  })();
  const cases: readonly [string, boolean, Buffer, string][] = [
    ['garbage bytes instead of a hello', false, Buffer.from('GET / HTTP/1.1\r\n\r\n'), 'bad-magic'],
    ['a wrong magic', true, withHeader((f) => f.writeUInt32BE(0xdeadbeef, 0)), 'bad-magic'],
    ['a wrong version', true, withHeader((f) => f.writeUInt8(9, 4)), 'unsupported-version'],
    [
      'an oversized length',
      true,
      withHeader((f) => f.writeUInt32BE(FRAME_PAYLOAD_BYTES_MAX + 1, 8)),
      'frame-too-large',
    ],
    ['a CRC mismatch', true, withHeader((f) => f.writeUInt8(f.readUInt8(20) ^ 0xff, 20)), 'crc-mismatch'],
    ['a valid frame holding a malformed message', true, malformedMessage, 'malformed-payload'],
    ['a raft batch before the hello', false, validBatch, 'unexpected-frame'],
    [
      'a message claiming another sender',
      true,
      sealFrame('raft-batch', encodeRaftBatch([heartbeat('a', 'b', 'g', 1)], FRAME_HEADER_BYTES)),
      'claims',
    ],
  ];

  for (const [name, sayHello, bytes, expected] of cases) {
    test(`${name}: that connection is closed with a logged reason and the transport keeps working`, async (t) => {
      const nodes = await startCluster(['a', 'b', 'c']);
      t.after(() => stopAll(nodes));
      const [a, b] = nodes as [TestNode, TestNode];
      await nodes[2]!.transport.stop(); // the raw peer speaks as c
      const raw = await rawPeer(b.port, sayHello ? { nodeId: 'c' } : undefined);
      if (sayHello) await waitFor(() => helloAnswer(raw) === 'b', 'hello answer');
      raw.socket.write(bytes);
      await raw.closed;
      const closing = b.logger.entries.find(
        (entry) => entry.message === 'closing inbound peer connection' && entry.level === 'warn',
      );
      assert.ok(closing, `a logged reason in ${JSON.stringify(b.logger.entries)}`);
      const reason = `${String(closing.object.code)} ${String(closing.object.reason)}`;
      assert.ok(
        reason.includes(expected === 'claims' ? 'message from a to b on the connection of c' : expected),
        reason,
      );
      a.transport.send([heartbeat('a', 'b', 'g', 7)]);
      await waitFor(() => ticksFrom(b, 'a').includes(7), 'traffic from a');
      assert.equal(ticksFrom(b, 'c').length, 0);
    });
  }

  test('a peer from another cluster is refused and never delivers anything', async (t) => {
    const nodes = await startCluster(['a', 'b']);
    t.after(() => stopAll(nodes));
    const [a, b] = nodes as [TestNode, TestNode];
    const stranger = await startNode('a', {
      clusterId: 'other-cluster',
      peers: new Map([['b', { host: HOST, port: b.port }]]),
    });
    t.after(() => stranger.transport.stop());
    stranger.transport.send([heartbeat('a', 'b', 'g', 99)]);
    await waitFor(
      () => b.logger.entries.some((entry) => String(entry.object.reason).includes('cluster other-cluster')),
      'refusal',
    );
    assert.equal(stranger.transport.stats().peers.get('b')!.connected, false);
    a.transport.send([heartbeat('a', 'b', 'g', 1)]);
    await waitFor(() => b.received.length >= 1, 'real a');
    assert.deepEqual(ticksFrom(b, 'a'), [1]);
  });

  test('an unknown node is refused at the hello', async (t) => {
    const nodes = await startCluster(['a', 'b']);
    t.after(() => stopAll(nodes));
    const raw = await rawPeer(nodes[1]!.port, { nodeId: 'z' });
    await raw.closed;
    assert.equal(helloAnswer(raw), undefined);
    assert.ok(nodes[1]!.logger.entries.some((entry) => String(entry.object.reason).includes('not a member')));
  });

  test('a dialled node that turns out to be someone else is not sent anything', async (t) => {
    const nodes = await startCluster(['a', 'b']);
    t.after(() => stopAll(nodes));
    const [a, b] = nodes as [TestNode, TestNode];
    // a believes c lives at b's address.
    a.transport.updatePeers(
      new Map([
        ['b', { host: HOST, port: b.port }],
        ['c', { host: HOST, port: b.port }],
      ]),
    );
    a.transport.send([heartbeat('a', 'c', 'g', 1)]);
    await waitFor(
      () => a.logger.entries.some((entry) => String(entry.object.reason).includes('is b, expected c')),
      'refusal',
    );
    assert.equal(b.received.length, 0);
  });
});

describe('membership and fault injection', () => {
  test('a blocked link drops traffic both ways until it is unblocked', async (t) => {
    const nodes = await startCluster(['a', 'b', 'c']);
    t.after(() => stopAll(nodes));
    const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
    a.transport.setLinkBlocked('b', true);
    a.transport.send([heartbeat('a', 'b', 'g', 1), heartbeat('a', 'c', 'g', 1)]);
    b.transport.send([heartbeat('b', 'a', 'g', 1)]);
    c.transport.send([heartbeat('c', 'a', 'g', 1)]);
    await waitFor(() => c.received.length === 1 && ticksFrom(a, 'c').length === 1, 'c traffic');
    await waitFor(() => a.transport.stats().peers.get('b')!.blockedMessages === 2, 'both directions counted');
    assert.equal(ticksFrom(a, 'b').length, 0);
    assert.equal(b.received.length, 0);
    assert.equal(a.transport.stats().peers.get('b')!.linkBlocked, true);
    a.transport.setLinkBlocked('b', false);
    a.transport.send([heartbeat('a', 'b', 'g', 2)]);
    b.transport.send([heartbeat('b', 'a', 'g', 2)]);
    await waitFor(
      () => b.received.length === 1 && ticksFrom(a, 'b').length === 1,
      'traffic after unblocking',
    );
    assert.deepEqual(ticksFrom(b, 'a'), [2]);
  });

  test('setBlockedPeers blocks exactly the peers named and heals the rest', async (t) => {
    const nodes = await startCluster(['a', 'b', 'c']);
    t.after(() => stopAll(nodes));
    const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
    a.transport.setBlockedPeers(['b', 'c']);
    assert.deepEqual(a.transport.blockedPeerIds().sort(), ['b', 'c']);
    a.transport.setBlockedPeers(['c']);
    assert.deepEqual(a.transport.blockedPeerIds(), ['c']);
    a.transport.send([heartbeat('a', 'b', 'g', 1), heartbeat('a', 'c', 'g', 1)]);
    await waitFor(() => b.received.length === 1, 'b healed');
    await waitFor(() => a.transport.stats().peers.get('c')!.blockedMessages === 1, 'c still blocked');
    assert.equal(c.received.length, 0);
    a.transport.setBlockedPeers([]);
    assert.deepEqual(a.transport.blockedPeerIds(), []);
  });

  test('updatePeers connects to added peers and drops removed ones', async (t) => {
    const nodes = await startCluster(['a', 'b']);
    t.after(() => stopAll(nodes));
    const [a, b] = nodes as [TestNode, TestNode];
    const c = await startNode('c', { peers: new Map([['a', { host: HOST, port: a.port }]]) });
    t.after(() => c.transport.stop());
    await waitFor(() => b.transport.stats().peers.get('a')!.connected, 'b connected to a');
    a.transport.updatePeers(
      new Map([
        ['a', { host: HOST, port: a.port }],
        ['c', { host: HOST, port: c.port }],
      ]),
    );
    a.transport.send([heartbeat('a', 'c', 'g', 1), heartbeat('a', 'b', 'g', 1)]);
    await waitFor(() => c.received.length === 1, 'a to reach c');
    assert.equal(a.transport.stats().unroutableMessages, 1);
    assert.deepEqual([...a.transport.stats().peers.keys()], ['c']);
    b.transport.send([heartbeat('b', 'a', 'g', 1)]); // b's connection to a is refused now
    await waitFor(
      () => a.logger.entries.some((entry) => String(entry.object.reason).includes('peer was removed')),
      'close',
    );
    await waitFor(
      () => a.logger.entries.some((entry) => String(entry.object.reason).includes('not a member')),
      'refusal',
    );
    assert.equal(ticksFrom(a, 'b').length, 0);
  });

  test('updatePeers follows a peer to its new address', async (t) => {
    const nodes = await startCluster(['a', 'b']);
    const [a, b] = nodes as [TestNode, TestNode];
    t.after(() => a.transport.stop());
    await waitFor(() => a.transport.stats().peers.get('b')!.connected, 'first connection');
    await b.transport.stop();
    const moved = await startNode('b', { peers: new Map([['a', { host: HOST, port: a.port }]]) });
    t.after(() => moved.transport.stop());
    assert.notEqual(moved.port, b.port);
    a.transport.updatePeers(new Map([['b', { host: HOST, port: moved.port }]]));
    await waitFor(() => a.transport.stats().peers.get('b')!.connected, 'connection to the new address');
    a.transport.send([heartbeat('a', 'b', 'g', 1)]);
    await waitFor(() => moved.received.length === 1, 'heartbeat at the new address');
  });

  test('inbound connections beyond the limit are refused with a logged reason', async (t) => {
    const b = await startNode('b', { limits: { inboundConnectionsMax: 2 } });
    t.after(() => b.transport.stop());
    const held = [await rawPeer(b.port), await rawPeer(b.port)];
    await waitFor(() => b.transport.stats().inboundConnections === 2, 'two connections held');
    const third = await rawPeer(b.port);
    await third.closed;
    assert.ok(b.logger.entries.some((entry) => entry.message.startsWith('refusing inbound peer connection')));
    for (const peer of held) peer.socket.destroy();
  });

  test('a message from another node is a bug in the caller and throws', async (t) => {
    const nodes = await startCluster(['a', 'b']);
    t.after(() => stopAll(nodes));
    assert.throws(
      () => nodes[0]!.transport.send([heartbeat('b', 'a', 'g', 1)]),
      /sending a message from b as a/,
    );
  });
});

describe('TLS', () => {
  test('with TLS factories injected, peers authenticate each other and exchange messages', async (t) => {
    const credentials = await selfSignedCertificate();
    if (credentials === undefined) {
      t.skip('openssl is not available to make a certificate');
      return;
    }
    const { key, cert } = credentials;
    const tlsOptions = {
      connect: (peer: PeerEndpoint) => tls.connect({ host: peer.host, port: peer.port, key, cert, ca: cert }),
      server: (onConnection: (socket: Duplex) => void) =>
        tls.createServer({ key, cert, ca: cert, requestCert: true, rejectUnauthorized: true }, onConnection),
    };
    const nodes = await startCluster(['a', 'b'], tlsOptions);
    t.after(() => stopAll(nodes));
    const [a, b] = nodes as [TestNode, TestNode];
    a.transport.send(everyTypeBetween('a', 'b'));
    await waitFor(() => b.received.length === 14, 'messages over TLS');
    assert.deepEqual(
      b.received.map((entry) => entry.message),
      everyTypeBetween('a', 'b'),
    );
    // A plain TCP client cannot even get its hello through.
    const plain = await rawPeer(b.port, { nodeId: 'a' });
    await plain.closed;
    assert.equal(helloAnswer(plain), undefined);
  });
});

async function selfSignedCertificate(): Promise<{ key: Buffer; cert: Buffer } | undefined> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'synod-transport-tls-'));
  try {
    const keyPath = path.join(directory, 'key.pem');
    const certPath = path.join(directory, 'cert.pem');
    const request = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    const subject = ['-days', '1', '-subj', '/CN=synod-test', '-addext', 'subjectAltName=IP:127.0.0.1'];
    execFileSync('openssl', [...request, ...subject, '-keyout', keyPath, '-out', certPath], {
      stdio: 'ignore',
    });
    return { key: await readFile(keyPath), cert: await readFile(certPath) };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // no openssl binary
    throw error;
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
