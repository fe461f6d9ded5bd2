// Differential check against a real etcd (not part of the unit tests): starts `etcd` on
// 127.0.0.1 with a temporary data directory, sends the same random requests to it (through the
// etcd3 npm client) and to an MvccStore, and compares every answer, error and header revision.
//
//   node --import tsx packages/state/src/mvcc/etcd-differential.ts [--seed N] [--sequences N] [--commands N]
//
// Exits 0 when every answer matched (or when no etcd binary is on PATH: skipped), 1 on the first
// mismatch, printing the seed, the request and both answers.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  Etcd3,
  type IEvent,
  type IKeyValue,
  type IRangeRequest,
  type IRequestOp,
  type IResponseOp,
  type ITxnRequest,
  Range,
  type Watcher,
} from 'etcd3';
import fc from 'fast-check';
import type {
  Compare,
  DeleteRangeRequest,
  KeyValue,
  KvEvent,
  KvWriteRequest,
  PutRequest,
  RangeRequest,
  RequestOp,
  TxnRequest,
} from './etcd-types.js';
import { type Command, commandArb } from './mvcc-arbitraries.fixture.js';
import { MvccStore } from './store.js';

const STARTUP_TIMEOUT_MS = 15_000;
const STARTUP_POLL_MS = 100;
const STOP_GRACE_MS = 3_000;
/** etcd's log lines kept for a failure report. */
const LOG_TAIL_BYTES = 16_384;
/** Leases the generated requests name (1 and 2), granted with those ids so both sides agree. */
const LEASE_IDS = [1, 2] as const;
const LEASE_TTL_SECONDS = 3_600;
/** How long etcd's watch may lag the writes it reports. */
const WATCH_CATCH_UP_MS = 5_000;

const SORT_ORDER = { NONE: 0, ASCEND: 1, DESCEND: 2 } as const;
const SORT_TARGET = { KEY: 0, VERSION: 1, CREATE: 2, MOD: 3, VALUE: 4 } as const;
const COMPARE_RESULT = { EQUAL: 0, GREATER: 1, LESS: 2, NOT_EQUAL: 3 } as const;
const COMPARE_TARGET = { VERSION: 0, CREATE: 1, MOD: 2, VALUE: 3, LEASE: 4 } as const;

interface RunningEtcd {
  readonly client: Etcd3;
  readonly process: ChildProcess;
  readonly dataDir: string;
  readonly log: () => string;
  /** Events etcd's watch on every key (with prev_kv) delivered and not yet compared. */
  readonly watched: Plain[];
  watcher?: Watcher;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function startEtcd(): Promise<RunningEtcd> {
  const dataDir = mkdtempSync(join(tmpdir(), 'synod-etcd-differential-'));
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const child = spawn(
    'etcd',
    [
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${clientUrl}`,
      `--advertise-client-urls=${clientUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=default=${peerUrl}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-LOG_TAIL_BYTES);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const client = new Etcd3({ hosts: clientUrl });
  const running: RunningEtcd = { client, process: child, dataDir, log: () => log, watched: [] };
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    try {
      await client.kv.range({ key: Buffer.from('probe') });
      break;
    } catch (error) {
      if (Date.now() > deadline || child.exitCode !== null) {
        await stopEtcd(running);
        throw new Error(`etcd did not start: ${String(error)}\n${log}`);
      }
      await new Promise((resolve) => setTimeout(resolve, STARTUP_POLL_MS));
    }
  }
  try {
    for (const id of LEASE_IDS) await client.leaseClient.leaseGrant({ TTL: LEASE_TTL_SECONDS, ID: id });
    const watcher = await client
      .watch()
      .inRange(new Range(Buffer.from([0]), Buffer.from([0])))
      .withPreviousKV()
      .create();
    watcher.on('data', (response) => {
      for (const event of response.events ?? []) running.watched.push(plainEtcdEvent(event));
    });
    running.watcher = watcher;
  } catch (error) {
    await stopEtcd(running);
    throw error;
  }
  return running;
}

async function stopEtcd(etcd: RunningEtcd): Promise<void> {
  // A live watcher would keep reconnecting (and the process alive) once etcd is gone.
  await etcd.watcher?.cancel().catch(() => undefined);
  etcd.client.close();
  if (etcd.process.exitCode === null) {
    const exited = new Promise((resolve) => etcd.process.once('exit', resolve));
    etcd.process.kill('SIGTERM');
    const timer = setTimeout(() => etcd.process.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }
  rmSync(etcd.dataDir, { recursive: true, force: true });
}

// ---- requests: ours → etcd's wire form --------------------------------------------------------

const buffer = (bytes: Uint8Array) => Buffer.from(bytes);
/**
 * A range end as Go clients send it: absent when empty. etcd decodes an explicitly encoded empty
 * range_end as a non-nil empty slice, which its index reads as "every key from key on".
 */
const rangeEndField = (rangeEnd: Uint8Array) =>
  rangeEnd.length === 0 ? {} : { range_end: buffer(rangeEnd) };

function etcdRange(request: RangeRequest): IRangeRequest {
  return {
    key: buffer(request.key),
    ...rangeEndField(request.rangeEnd),
    limit: request.limit,
    revision: request.revision,
    sort_order: SORT_ORDER[request.sortOrder],
    sort_target: SORT_TARGET[request.sortTarget],
    serializable: request.serializable,
    keys_only: request.keysOnly,
    count_only: request.countOnly,
    min_mod_revision: request.minModRevision,
    max_mod_revision: request.maxModRevision,
    min_create_revision: request.minCreateRevision,
    max_create_revision: request.maxCreateRevision,
  };
}

function etcdPut(request: PutRequest) {
  return {
    key: buffer(request.key),
    value: buffer(request.value),
    lease: request.lease.toString(),
    prev_kv: request.prevKv,
    ignore_value: request.ignoreValue,
    ignore_lease: request.ignoreLease,
  };
}

function etcdDeleteRange(request: DeleteRangeRequest) {
  return { key: buffer(request.key), ...rangeEndField(request.rangeEnd), prev_kv: request.prevKv };
}

/** Only the operand the target names: etcd's compare operand is a oneof. */
function etcdCompare(compare: Compare) {
  const operand = {
    VERSION: { version: compare.version },
    CREATE: { create_revision: compare.createRevision },
    MOD: { mod_revision: compare.modRevision },
    VALUE: { value: buffer(compare.value) },
    LEASE: { lease: compare.lease.toString() },
  }[compare.target];
  return {
    key: buffer(compare.key),
    ...rangeEndField(compare.rangeEnd),
    target: COMPARE_TARGET[compare.target],
    result: COMPARE_RESULT[compare.result],
    ...operand,
  };
}

function etcdTxn(request: TxnRequest): ITxnRequest {
  return {
    compare: request.compare.map(etcdCompare),
    success: request.success.map(etcdRequestOp),
    failure: request.failure.map(etcdRequestOp),
  };
}

function etcdRequestOp(op: RequestOp): IRequestOp {
  switch (op.kind) {
    case 'range':
      return { request_range: etcdRange(op.request) };
    case 'put':
      return { request_put: etcdPut(op.request) };
    case 'deleteRange':
      return { request_delete_range: etcdDeleteRange(op.request) };
    case 'txn':
      return { request_txn: etcdTxn(op.request) };
  }
}

// ---- answers: both sides → one comparable form -----------------------------------------------

type Plain = string | number | boolean | null | Plain[] | { [field: string]: Plain };

const hex = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('hex');

function plainKv(kv: KeyValue | undefined): Plain {
  if (kv === undefined) return null;
  return {
    key: hex(kv.key),
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    version: kv.version,
    value: hex(kv.value),
    lease: kv.lease.toString(),
  };
}

function plainEtcdKv(kv: IKeyValue | null | undefined): Plain {
  if (kv === null || kv === undefined) return null;
  return {
    key: hex(kv.key),
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
    version: Number(kv.version),
    value: hex(kv.value),
    lease: String(kv.lease ?? '0'),
  };
}

function plainEvent(event: KvEvent): Plain {
  return { type: event.type, kv: plainKv(event.kv), prevKv: plainKv(event.prevKv) };
}

/** etcd's DELETE kv has only key and mod_revision; absent fields decode as zero, as in ours. */
function plainEtcdEvent(event: IEvent): Plain {
  const type = String(event.type).toUpperCase() === 'DELETE' || Number(event.type) === 1 ? 'DELETE' : 'PUT';
  return { type, kv: plainEtcdKv(event.kv), prevKv: plainEtcdKv(event.prev_kv) };
}

// biome-ignore lint/suspicious/noExplicitAny: etcd3's response unions are loosely typed
type EtcdAnswer = any;

function plainEtcdResponse(kind: string, response: EtcdAnswer): Plain {
  switch (kind) {
    case 'range':
      return {
        kvs: (response.kvs ?? []).map(plainEtcdKv),
        more: Boolean(response.more),
        count: Number(response.count),
      };
    case 'put':
      return { prevKv: plainEtcdKv(response.prev_kv) };
    case 'deleteRange':
      return { deleted: Number(response.deleted), prevKvs: (response.prev_kvs ?? []).map(plainEtcdKv) };
    case 'txn':
      return {
        succeeded: Boolean(response.succeeded),
        responses: (response.responses ?? []).map((op: IResponseOp) => {
          if (op.response_range) return { range: plainEtcdResponse('range', op.response_range) };
          if (op.response_put) return { put: plainEtcdResponse('put', op.response_put) };
          if (op.response_delete_range)
            return { deleteRange: plainEtcdResponse('deleteRange', op.response_delete_range) };
          return { txn: plainEtcdResponse('txn', op.response_txn) };
        }),
      };
    default:
      return {};
  }
}

// biome-ignore lint/suspicious/noExplicitAny: our response unions, walked generically
function plainResponse(kind: string, response: any): Plain {
  switch (kind) {
    case 'range':
      return { kvs: response.kvs.map(plainKv), more: response.more, count: response.count };
    case 'put':
      return { prevKv: plainKv(response.prevKv) };
    case 'deleteRange':
      return { deleted: response.deleted, prevKvs: response.prevKvs.map(plainKv) };
    case 'txn':
      return {
        succeeded: response.succeeded,
        // biome-ignore lint/suspicious/noExplicitAny: as above
        responses: response.responses.map((op: any) => ({ [op.kind]: plainResponse(op.kind, op.response) })),
      };
    default:
      return {};
  }
}

// ---- one command on both sides ----------------------------------------------------------------

interface Outcome {
  readonly answer: Plain;
  readonly revision: number | null;
  /** Compared through `answer`; kept apart to recognise etcd's text inside the client's message. */
  readonly error?: string;
}

function errorOutcome(message: string): Outcome {
  return { answer: { error: message }, revision: null, error: message };
}

function ourOutcome(store: MvccStore, command: Command, events: Plain[]): Outcome {
  if (command.kind === 'read') {
    const result = store.range(command.request);
    if ('error' in result) return errorOutcome(result.error.message);
    return { answer: plainResponse('range', result), revision: store.currentRevision };
  }
  const result = store.apply(command.request);
  if ('error' in result) return errorOutcome(result.error.message);
  events.push(...result.events.map(plainEvent));
  const response = result.response;
  return {
    answer: response.kind === 'compact' ? {} : plainResponse(response.kind, response.response),
    revision: result.revision,
  };
}

async function etcdOutcome(client: Etcd3, command: Command, ourError: string | undefined): Promise<Outcome> {
  try {
    const [kind, response] = await sendToEtcd(client, command);
    return { answer: plainEtcdResponse(kind, response), revision: Number(response.header.revision) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // The client prefixes gRPC's status; etcd's own text is what clients match on.
    return errorOutcome(ourError !== undefined && message.includes(ourError) ? ourError : message);
  }
}

async function sendToEtcd(client: Etcd3, command: Command): Promise<[string, EtcdAnswer]> {
  if (command.kind === 'read') return ['range', await client.kv.range(etcdRange(command.request))];
  const write = command.request;
  switch (write.kind) {
    case 'put':
      return ['put', await client.kv.put(etcdPut(write.request))];
    case 'deleteRange':
      return ['deleteRange', await client.kv.deleteRange(etcdDeleteRange(write.request))];
    case 'txn':
      return ['txn', await client.kv.txn(etcdTxn(write.request))];
    case 'compact':
      return ['compact', await client.kv.compact({ revision: write.request.revision, physical: false })];
  }
}

/**
 * Txns that make etcd 3.4 panic (a put with ignore flags after a delete of its key in the same
 * txn, which etcd's duplicate check misses): never sent, or the run would end in a crashed etcd.
 */
function mayCrashEtcd(request: KvWriteRequest): boolean {
  if (request.kind !== 'txn') return false;
  let ignoringPut = false;
  let deletes = false;
  const walk = (txn: TxnRequest) => {
    for (const op of [...txn.success, ...txn.failure]) {
      if (op.kind === 'put' && (op.request.ignoreValue || op.request.ignoreLease)) ignoringPut = true;
      if (op.kind === 'deleteRange') deletes = true;
      if (op.kind === 'txn') walk(op.request);
    }
  };
  walk(request.request);
  return ignoringPut && deletes;
}

// ---- revisions: generated ones are small; shift them to where this sequence starts ------------

const shift = (revision: number, base: number) => (revision > 0 ? revision + base : revision);

function shiftRange(request: RangeRequest, base: number): RangeRequest {
  return {
    ...request,
    revision: shift(request.revision, base),
    minModRevision: shift(request.minModRevision, base),
    maxModRevision: shift(request.maxModRevision, base),
    minCreateRevision: shift(request.minCreateRevision, base),
    maxCreateRevision: shift(request.maxCreateRevision, base),
  };
}

function shiftTxn(txn: TxnRequest, base: number): TxnRequest {
  const shiftOp = (op: RequestOp): RequestOp => {
    if (op.kind === 'range') return { kind: 'range', request: shiftRange(op.request, base) };
    if (op.kind === 'txn') return { kind: 'txn', request: shiftTxn(op.request, base) };
    return op;
  };
  return {
    compare: txn.compare.map((c) => ({
      ...c,
      createRevision: shift(c.createRevision, base),
      modRevision: shift(c.modRevision, base),
    })),
    success: txn.success.map(shiftOp),
    failure: txn.failure.map(shiftOp),
  };
}

function shiftCommand(command: Command, base: number): Command {
  if (command.kind === 'read') return { kind: 'read', request: shiftRange(command.request, base) };
  const write = command.request;
  if (write.kind === 'txn')
    return { kind: 'write', request: { kind: 'txn', request: shiftTxn(write.request, base) } };
  if (write.kind === 'compact') {
    return {
      kind: 'write',
      request: {
        kind: 'compact',
        request: { ...write.request, revision: shift(write.request.revision, base) },
      },
    };
  }
  return command;
}

// ---- driver ----------------------------------------------------------------------------------

function describeCommand(command: Command): string {
  return JSON.stringify(command, (_, value) =>
    value instanceof Uint8Array ? `0x${hex(value)}` : typeof value === 'bigint' ? `${value}n` : value,
  );
}

interface Totals {
  events: number;
  compared: number;
  errors: number;
  skipped: number;
}

async function runSequence(
  etcd: RunningEtcd,
  store: MvccStore,
  commands: readonly Command[],
  totals: Totals,
): Promise<string | undefined> {
  const base = store.currentRevision - 1;
  const expectedEvents: Plain[] = [];
  for (const generated of commands) {
    const command = shiftCommand(generated, base);
    if (command.kind === 'write' && mayCrashEtcd(command.request)) {
      const probe = MvccStore.restore(store.snapshot()).apply(command.request);
      if ('error' in probe && probe.error.message === 'etcdserver: key not found') {
        totals.skipped++;
        continue;
      }
    }
    const ours = ourOutcome(store, command, expectedEvents);
    const theirs = await etcdOutcome(etcd.client, command, ours.error);
    totals.compared++;
    if (ours.error !== undefined) totals.errors++;
    if (JSON.stringify(ours) !== JSON.stringify(theirs)) {
      return [
        `request:  ${describeCommand(command)}`,
        `synod:    ${JSON.stringify(ours)}`,
        `etcd:     ${JSON.stringify(theirs)}`,
      ].join('\n');
    }
  }
  return compareEvents(etcd, expectedEvents, totals);
}

/** Waits for etcd's watch to catch up, then compares every event of the sequence. */
async function compareEvents(
  etcd: RunningEtcd,
  expected: Plain[],
  totals: Totals,
): Promise<string | undefined> {
  const deadline = Date.now() + WATCH_CATCH_UP_MS;
  while (etcd.watched.length < expected.length && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, STARTUP_POLL_MS / 10));
  }
  const watched = etcd.watched.splice(0);
  totals.events += expected.length;
  for (let i = 0; i < Math.max(expected.length, watched.length); i++) {
    if (JSON.stringify(expected[i]) !== JSON.stringify(watched[i])) {
      return `event ${i} of the sequence:\nsynod:    ${JSON.stringify(expected[i])}\netcd:     ${JSON.stringify(watched[i])}`;
    }
  }
  return undefined;
}

/** Stops etcd and removes its data directory even when the run is interrupted. */
function stopOnSignals(etcd: RunningEtcd): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void stopEtcd(etcd).finally(() => process.exit(130));
    });
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string', default: String(Date.now() % 1_000_000) },
      sequences: { type: 'string', default: '20' },
      commands: { type: 'string', default: '40' },
    },
  });
  if (spawnSync('etcd', ['--version']).error !== undefined) {
    console.log('etcd is not on PATH: differential check skipped');
    return 0;
  }
  const seed = Number(values.seed);
  const sequences = fc.sample(
    fc.array(commandArb, { minLength: Number(values.commands), maxLength: Number(values.commands) }),
    {
      seed,
      numRuns: Number(values.sequences),
    },
  );
  console.log(`seed ${seed}: ${sequences.length} sequences of ${values.commands} commands against etcd`);
  const etcd = await startEtcd();
  stopOnSignals(etcd);
  const store = new MvccStore();
  const totals: Totals = { events: 0, compared: 0, errors: 0, skipped: 0 };
  const started = performance.now();
  try {
    for (const [index, commands] of sequences.entries()) {
      const mismatch = await runSequence(etcd, store, commands, totals);
      if (mismatch !== undefined) {
        console.error(
          `MISMATCH (seed ${seed}, sequence ${index}):\n${mismatch}\n--- etcd log tail ---\n${etcd.log()}`,
        );
        return 1;
      }
    }
  } finally {
    await stopEtcd(etcd);
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `${totals.compared} requests matched (${totals.errors} of them errors) and ${totals.events} watch events, ${totals.skipped} not sent (they might crash etcd), in ${seconds}s; final revision ${store.currentRevision}`,
  );
  return 0;
}

process.exitCode = await main();
