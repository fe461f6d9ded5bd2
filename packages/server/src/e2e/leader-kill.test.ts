// A 3-process cluster under concurrent client load while its leader is SIGKILLed and restarted
// again and again. Afterwards the recorded client history must pass the simulator's
// linearizability checker: no acknowledged write lost, no stale read, no phantom cas.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { KvCall } from '@synod/sim';
import { checkKvHistory, HistoryRecorder } from '@synod/sim';
import { type Compare, type RangeRequest, rangeRequest } from '@synod/state';
import { CallError, RawEtcdClient } from './grpc-client.js';
import { ProcessCluster } from './process-cluster.js';

const KILLS = Number(process.env.SYNOD_LEADER_KILLS ?? 20);
const CLIENTS = 4;
const KEYS = 3;
/** A call still unanswered by then is indeterminate (it may yet take effect). */
const CALL_TIMEOUT_MS = 1_500;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);

function rangeOf(key: string): RangeRequest {
  return rangeRequest(encoder.encode(key));
}

function putOf(key: string, value: string) {
  return {
    key: encoder.encode(key),
    value: encoder.encode(value),
    lease: 0n,
    prevKv: false,
    ignoreValue: false,
    ignoreLease: false,
  };
}

/** cas(expected → value) as etcd clients write it: a Txn comparing the value (or version 0 for absent). */
function casOf(key: string, expected: string | null, value: string) {
  const compare: Compare = {
    result: 'EQUAL',
    target: expected === null ? 'VERSION' : 'VALUE',
    key: encoder.encode(key),
    rangeEnd: EMPTY,
    version: 0,
    createRevision: 0,
    modRevision: 0,
    value: expected === null ? EMPTY : encoder.encode(expected),
    lease: 0n,
  };
  return { compare: [compare], success: [{ kind: 'put' as const, request: putOf(key, value) }], failure: [] };
}

async function execute(client: RawEtcdClient, call: KvCall) {
  if (call.kind === 'put') {
    await client.put(putOf(call.key, call.value), CALL_TIMEOUT_MS);
    return {};
  }
  if (call.kind === 'get') {
    const response = await client.range(rangeOf(call.key), CALL_TIMEOUT_MS);
    const kv = response.kvs[0];
    return { value: kv ? decoder.decode(kv.value) : null };
  }
  const response = await client.txn(casOf(call.key, call.expected, call.value), CALL_TIMEOUT_MS);
  return { succeeded: response.succeeded };
}

describe('leader SIGKILL under load', () => {
  let cluster: ProcessCluster;
  before(async () => {
    cluster = await ProcessCluster.create(3);
    await cluster.startAll();
  });
  after(async () => {
    await cluster?.stopAll();
  });

  test(`the leader is killed and restarted ${KILLS} times; the history stays linearizable`, {
    timeout: 600_000,
  }, async (context) => {
    const recorder = new HistoryRecorder();
    let running = true;
    let nextProcess = 0;
    let written = 0;
    const lastSeen = new Map<string, string>();
    const worker = async (index: number) => {
      let process = nextProcess++;
      let counter = 0;
      while (running) {
        const member = cluster.members[(index + counter) % cluster.members.length]!;
        const client = new RawEtcdClient(member.clientUrl);
        const key = `k${(index * 7 + counter) % KEYS}`;
        const roll = (index * 31 + counter * 17) % 10;
        const value = `p${process}-${counter}`;
        const call: KvCall =
          roll < 4
            ? { kind: 'get', key }
            : roll < 8
              ? { kind: 'put', key, value }
              : { kind: 'cas', key, expected: lastSeen.get(key) ?? null, value };
        counter++;
        const id = recorder.invoke(process, call, performance.now());
        try {
          const result = await execute(client, call);
          recorder.complete(id, result, performance.now());
          if (call.kind === 'put') {
            written++;
            lastSeen.set(key, call.value);
          }
          if ('value' in result && typeof result.value === 'string') lastSeen.set(key, result.value);
        } catch (error) {
          // A refusal before proposing (no leader, connection refused) did nothing; anything else may have.
          const definite =
            error instanceof CallError && (error.status === 14 || /no leader/.test(error.message));
          if (definite && call.kind !== 'get') recorder.fail(id, performance.now());
          else {
            recorder.indeterminate(id, performance.now());
            process = nextProcess++; // the call may still be in flight: this client identity retires
          }
        } finally {
          client.close();
        }
      }
    };
    const workers = Array.from({ length: CLIENTS }, (_, index) => worker(index));
    for (let kill = 0; kill < KILLS; kill++) {
      await new Promise((resolve) => setTimeout(resolve, 800));
      const leader = await findLeader(cluster);
      await cluster.kill(leader);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await cluster.start(leader);
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    running = false;
    await Promise.all(workers);
    const history = recorder.operations();
    const report = checkKvHistory(history);
    const ok = history.filter((op) => op.outcome === 'ok').length;
    const failed = history.filter((op) => op.outcome === 'fail').length;
    context.diagnostic(
      `${history.length} operations (${ok} ok, ${failed} failed, ${written} acknowledged writes), verdict ${report.verdict}`,
    );
    assert.equal(report.verdict, 'linearizable', report.counterexample?.lines.join('\n'));
    // A liveness floor, not a throughput target: a cluster that stopped serving would ack almost none.
    assert.ok(
      written >= KILLS * 2,
      `too few acknowledged writes (${written}): the cluster did not serve under faults`,
    );
  });
});

/** Asks every live member who leads; retries while an election runs. */
async function findLeader(cluster: ProcessCluster) {
  for (let attempt = 0; attempt < 100; attempt++) {
    for (const member of cluster.members) {
      if (!member.process) continue;
      const client = new RawEtcdClient(member.clientUrl);
      try {
        const status = await client.status(1_000);
        if (status.leader !== 0n && status.header?.memberId === status.leader) return member;
      } catch {
        // not reachable right now
      } finally {
        client.close();
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('no leader found');
}
