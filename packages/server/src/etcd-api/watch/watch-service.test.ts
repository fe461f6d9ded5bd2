// etcdserverpb.Watch served by GrpcServer over a real MvccStore that the tests write to (apply,
// then publish, as the server's apply loop does), driven by real clients: the etcd3 npm client,
// @grpc/proto-loader stubs from our watch.proto, and etcdctl 3.4 when it is on PATH (required
// with SYNOD_REQUIRE_ETCDCTL=1).
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ETCD_ERRORS, type ResponseHeader } from '@synod/state';
import { Etcd3, type IKeyValue } from 'etcd3';
import { GrpcServer } from '../../grpc/server.js';
import { prefixEnd, utf8, WatchedStore } from './watch.fixture.js';
import { WATCH_CREATE_REFUSALS, WatchHub, type WatchHubLimits } from './watch-hub.js';
import { registerWatchService, type WatchServiceOptions } from './watch-service.js';

const WATCH_DIR = dirname(fileURLToPath(import.meta.url));
const PROTO_DIR = join(WATCH_DIR, '..', 'proto');
const WAIT_MS_MAX = 10_000;
const quiet = { warn: () => {}, error: () => {} };
const header = (revision: number): ResponseHeader => ({
  clusterId: 0x1234n,
  memberId: 0x5678n,
  revision,
  raftTerm: 7,
});

const etcdctlAvailable = await promisify(execFile)('etcdctl', ['version']).then(
  () => true,
  () => false,
);
if (!etcdctlAvailable && process.env.SYNOD_REQUIRE_ETCDCTL === '1') {
  throw new Error('SYNOD_REQUIRE_ETCDCTL=1 but etcdctl is not on PATH');
}

/** Polls `condition` until it holds; fails after WAIT_MS_MAX (a hang, not a timing assertion). */
async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS_MAX;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A store, its hub and a GrpcServer serving Watch from it on 127.0.0.1. */
class WatchServerFixture {
  readonly db = new WatchedStore();
  readonly hub: WatchHub;
  readonly server = new GrpcServer({ logger: quiet });
  port = 0;

  constructor(limits: Partial<WatchHubLimits> = {}, options: WatchServiceOptions = {}) {
    this.hub = new WatchHub(this.db.store, limits);
    this.db.hub = this.hub;
    registerWatchService(this.server, this.hub, header, options);
  }

  async start(): Promise<this> {
    this.port = await this.server.listen('127.0.0.1', 0);
    return this;
  }
}

type RawResponse = {
  header: { revision: string };
  watch_id: string;
  created: boolean;
  canceled: boolean;
  compact_revision: string;
  cancel_reason: string;
  fragment: boolean;
  events: { type: string; kv: { key: Buffer; value: Buffer; mod_revision: string } }[];
};

/** A raw Watch stream through stubs generated from our watch.proto. */
function openRawStream(port: number): {
  stream: grpc.ClientDuplexStream<object, RawResponse>;
  responses: RawResponse[];
  client: grpc.Client;
} {
  const definition = protoLoader.loadSync('watch.proto', {
    includeDirs: [WATCH_DIR, PROTO_DIR],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
  });
  const pkg = grpc.loadPackageDefinition(definition).etcdserverpb as grpc.GrpcObject;
  const Client = pkg.Watch as grpc.ServiceClientConstructor;
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const stream = (client.Watch as () => grpc.ClientDuplexStream<object, RawResponse>).call(client);
  const responses: RawResponse[] = [];
  stream.on('data', (response: RawResponse) => responses.push(response));
  stream.on('error', () => {});
  return { stream, responses, client };
}

describe('the Watch service with the etcd3 npm client', () => {
  let fixture: WatchServerFixture;
  let client: Etcd3;

  before(async () => {
    fixture = await new WatchServerFixture().start();
    client = new Etcd3({ hosts: `http://127.0.0.1:${fixture.port}` });
  });

  after(async () => {
    client.close();
    await fixture.server.close(0);
  });

  test('a prefix watch gets the puts and deletes of its keys, in order, with values', async () => {
    const { db } = fixture;
    const watcher = await client.watch().prefix('a/').create();
    const seen: string[] = [];
    watcher.on('put', (kv: IKeyValue) => seen.push(`put ${kv.key} ${kv.value} @${kv.mod_revision}`));
    watcher.on('delete', (kv: IKeyValue) => seen.push(`delete ${kv.key} @${kv.mod_revision}`));
    const from = db.store.currentRevision;
    db.put('a/1', 'one');
    db.put('b', 'other');
    db.put('a/2', 'two');
    db.delete('a/', prefixEnd('a/'));
    await waitFor(() => seen.length === 4, 'four events');
    assert.deepEqual(seen, [
      `put a/1 one @${from + 1}`,
      `put a/2 two @${from + 3}`,
      `delete a/1 @${from + 4}`,
      `delete a/2 @${from + 4}`,
    ]);
    await watcher.cancel();
  });

  test('a watch from a past revision replays history, then goes on live', async () => {
    const { db } = fixture;
    const first = db.store.currentRevision + 1;
    db.put('h', '1');
    db.put('h', '2');
    const watcher = await client.watch().key('h').startRevision(String(first)).withPreviousKV().create();
    const seen: string[] = [];
    watcher.on('put', (kv: IKeyValue, previous?: IKeyValue) =>
      seen.push(`${kv.value} (was ${previous?.value ?? '-'})`),
    );
    await waitFor(() => seen.length === 2, 'the history');
    db.put('h', '3');
    await waitFor(() => seen.length === 3, 'the live event');
    assert.deepEqual(seen, ['1 (was -)', '2 (was 1)', '3 (was 2)']);
    await watcher.cancel();
  });

  test('a watch from compacted history is created, then ends with the compaction error', async () => {
    const { db } = fixture;
    db.put('c', '1');
    db.put('c', '2');
    db.compact(db.store.currentRevision);
    // watcher() attaches at once, so both answers (created, then canceled) find the listeners.
    const watcher = client.watch().key('c').startRevision('2').watcher();
    const connected = new Promise<void>((resolve) => watcher.once('connected', () => resolve()));
    const error = await new Promise<Error>((resolve) => watcher.once('error', resolve));
    await connected;
    assert.match(error.message, /required revision has been compacted/);
  });
});

describe('the Watch service with stubs from our watch.proto', () => {
  let fixture: WatchServerFixture;

  before(async () => {
    fixture = await new WatchServerFixture(
      {},
      { progressNotifyIntervalMs: 100, fragmentOverBytes: 64 * 1024 },
    ).start();
  });

  after(() => fixture.server.close(0));

  test('create, events, progress_request (watch id -1), cancel; a taken watch id is refused', async () => {
    const { db, port } = fixture;
    const { stream, responses, client } = openRawStream(port);
    try {
      stream.write({ create_request: { key: Buffer.from('p'), watch_id: 5 } });
      stream.write({ create_request: { key: Buffer.from('q'), watch_id: 5 } });
      await waitFor(() => responses.length === 2, 'two create answers');
      db.put('p', 'v');
      await waitFor(() => responses.length === 3, 'the event');
      stream.write({ progress_request: {} });
      await waitFor(() => responses.length === 4, 'the progress answer');
      stream.write({ cancel_request: { watch_id: 5 } });
      await waitFor(() => responses.length === 5, 'the cancel answer');
      const [created, refused, events, progress, canceled] = responses;
      assert.deepEqual([created!.watch_id, created!.created, created!.canceled], ['5', true, false]);
      assert.deepEqual(
        [refused!.watch_id, refused!.canceled, refused!.cancel_reason],
        ['-1', true, WATCH_CREATE_REFUSALS.duplicateId],
      );
      assert.equal(events!.events[0]!.kv.value.toString(), 'v');
      assert.equal(events!.header.revision, String(db.store.currentRevision));
      assert.deepEqual(
        [progress!.watch_id, progress!.events.length, progress!.header.revision],
        ['-1', 0, String(db.store.currentRevision)],
      );
      assert.deepEqual([canceled!.watch_id, canceled!.canceled], ['5', true]);
    } finally {
      stream.end();
      client.close();
    }
  });

  test('an idle progress_notify watch gets empty responses with its id at the configured interval', async () => {
    const { port, db } = fixture;
    const { stream, responses, client } = openRawStream(port);
    try {
      stream.write({ create_request: { key: Buffer.from('idle'), progress_notify: true } });
      await waitFor(() => responses.length >= 3, 'two progress notifications');
      const [created, progress] = responses;
      assert.equal(progress!.watch_id, created!.watch_id);
      assert.equal(progress!.events.length, 0);
      assert.equal(progress!.header.revision, String(db.store.currentRevision));
    } finally {
      stream.end();
      client.close();
    }
  });

  test('a watch that asked for fragments gets a big revision split, fragment set on all but the last piece', async () => {
    const { port, db } = fixture;
    const { stream, responses, client } = openRawStream(port);
    try {
      stream.write({
        create_request: { key: Buffer.from('f/'), range_end: Buffer.from(prefixEnd('f/')), fragment: true },
      });
      await waitFor(() => responses.length === 1, 'created');
      const value = 'x'.repeat(30 * 1024);
      const success = ['f/1', 'f/2', 'f/3', 'f/4', 'f/5'].map((key) => ({
        kind: 'put' as const,
        request: {
          key: utf8(key),
          value: utf8(value),
          lease: 0n,
          prevKv: false,
          ignoreValue: false,
          ignoreLease: false,
        },
      }));
      db.write({ kind: 'txn', request: { compare: [], success, failure: [] } });
      await waitFor(() => responses.at(-1)?.fragment === false && responses.length > 2, 'the last fragment');
      const pieces = responses.slice(1);
      assert.ok(pieces.length >= 2, `${pieces.length} pieces`);
      assert.deepEqual(
        pieces.map((piece) => piece.fragment),
        [...pieces.slice(1).map(() => true), false],
      );
      assert.deepEqual(
        pieces.flatMap((piece) => piece.events.map((event) => event.kv.key.toString())),
        ['f/1', 'f/2', 'f/3', 'f/4', 'f/5'],
      );
    } finally {
      stream.end();
      client.close();
    }
  });
});

describe('the Watch service and a client that stops reading', () => {
  const limits = { watcherBufferEventsMax: 16, watcherBufferBytesMax: 64 * 1024, responseEventsMax: 32 };
  let fixture: WatchServerFixture;

  before(async () => {
    fixture = await new WatchServerFixture(limits).start();
  });

  after(() => fixture.server.close(0));

  test('the server holds only bounded buffers meanwhile, then the client gets every event once, in order', async () => {
    const { port, db, hub } = fixture;
    const { stream, responses, client } = openRawStream(port);
    try {
      stream.write({ create_request: { key: Buffer.from('s/'), range_end: Buffer.from(prefixEnd('s/')) } });
      await waitFor(() => responses.length === 1, 'created');
      stream.pause();
      const value = 'v'.repeat(8 * 1024);
      const writes = 400; // 3.2 MB of values: far beyond the HTTP/2 windows and the buffers
      let bufferedBytesMax = 0;
      for (let i = 0; i < writes; i++) {
        db.put(`s/${i % 7}`, `${i}:${value}`);
        bufferedBytesMax = Math.max(bufferedBytesMax, hub.stats.bufferedBytes);
        // A turn of the event loop after each write: a client that reads would keep up.
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.ok(
        bufferedBytesMax <= limits.watcherBufferBytesMax + 9 * 1024,
        `${bufferedBytesMax} bytes buffered`,
      );
      assert.ok(hub.stats.slowWatcherFallbacks >= 1, 'the watch never fell back to history');
      stream.resume();
      const eventCount = (): number => responses.reduce((sum, response) => sum + response.events.length, 0);
      await waitFor(() => eventCount() === writes, `${writes} events`);
      const values = responses.flatMap((response) =>
        response.events.map((event) => event.kv.value.toString().split(':')[0]),
      );
      assert.deepEqual(
        values,
        Array.from({ length: writes }, (_, i) => String(i)),
      );
      assert.equal(hub.stats.unsyncedWatchers, 0);
    } finally {
      stream.end();
      client.close();
    }
  });
});

describe('the Watch service with etcdctl 3.4', {
  skip: !etcdctlAvailable && 'etcdctl is not on PATH',
}, () => {
  let fixture: WatchServerFixture;
  const children: ChildProcess[] = [];

  before(async () => {
    fixture = await new WatchServerFixture().start();
  });

  after(async () => {
    for (const child of children) child.kill();
    await fixture.server.close(0);
  });

  /** Starts `etcdctl watch …`; its output accumulates in `output()`. */
  function etcdctlWatch(...args: string[]): {
    output: () => string;
    errors: () => string;
    exited: Promise<number | null>;
  } {
    const child = spawn('etcdctl', [`--endpoints=127.0.0.1:${fixture.port}`, 'watch', ...args], {
      env: { ...process.env, ETCDCTL_API: '3' },
    });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    return { output: () => stdout, errors: () => stderr, exited };
  }

  test('etcdctl watch --prefix prints each put and delete', async () => {
    const { db, hub } = fixture;
    const watchers = hub.stats.watchers;
    const watch = etcdctlWatch('--prefix', 'e/');
    await waitFor(() => hub.stats.watchers === watchers + 1, 'etcdctl to create its watch');
    db.put('e/1', 'one');
    db.put('x', 'unwatched');
    db.delete('e/1');
    const expected = 'PUT\ne/1\none\nDELETE\ne/1\n\n';
    await waitFor(() => watch.output() === expected, `etcdctl output ${JSON.stringify(expected)}`);
  });

  test('etcdctl watch --rev --prev-kv replays history with the previous values', async () => {
    const { db } = fixture;
    const first = db.store.currentRevision + 1;
    db.put('r', '1');
    db.put('r', '2');
    const watch = etcdctlWatch('--rev', String(first), '--prev-kv', 'r');
    const expected = 'PUT\nr\n1\nPUT\nr\n1\nr\n2\n';
    await waitFor(() => watch.output() === expected, `etcdctl output ${JSON.stringify(expected)}`);
  });

  test('etcdctl watch --rev on compacted history reports the compaction and exits', async () => {
    const { db } = fixture;
    db.put('z', '1');
    db.compact(db.store.currentRevision);
    const watch = etcdctlWatch('--rev', '1', 'z');
    await watch.exited;
    assert.match(watch.errors(), new RegExp(`watch was canceled \\(${ETCD_ERRORS.compacted.message}\\)`));
  });
});
