// Property test: random grant/put/delete/revoke/checkpoint/restore sequences, applied to a real
// MvccStore and a LeaseStore as the apply path would, against a model of two maps. fast-check
// prints the seed and the shrunk sequence of any failure; rerun one with LEASE_PROPERTY_SEED=<seed>.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { bytes, rangeRequest, text, write } from '../mvcc/mvcc.fixture.js';
import { MvccStore } from '../mvcc/store.js';
import { LeaseStore } from './lease-store.js';
import { NO_LEASE } from './lease-types.js';
import { leaseRevokeWrite } from './revoke-write.js';

const SEED = Number(process.env.LEASE_PROPERTY_SEED ?? 20_250_301);
const RUNS = 300;
const KEYS = ['a', 'ab', 'b', 'c\u00ff', 'd'] as const;
const LEASE_IDS = [1n, 2n, 3n, -4n] as const;
const MIN_TTL_SECONDS = 3;

type Command =
  | { readonly kind: 'grant'; readonly id: bigint; readonly ttl: number }
  | { readonly kind: 'put'; readonly key: string; readonly lease: bigint; readonly ignoreLease: boolean }
  | { readonly kind: 'delete'; readonly key: string; readonly prefix: boolean }
  | { readonly kind: 'revoke'; readonly id: bigint }
  | { readonly kind: 'checkpoint'; readonly id: bigint; readonly remaining: number }
  | { readonly kind: 'restore' };

const leaseArb = fc.constantFrom(...LEASE_IDS);
const keyArb = fc.constantFrom(...KEYS);
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ kind: fc.constant('grant' as const), id: leaseArb, ttl: fc.integer({ min: -5, max: 20 }) }),
  {
    arbitrary: fc.record({
      kind: fc.constant('put' as const),
      key: keyArb,
      lease: fc.constantFrom(NO_LEASE, ...LEASE_IDS),
      ignoreLease: fc.boolean(),
    }),
    weight: 4,
  },
  fc.record({ kind: fc.constant('delete' as const), key: keyArb, prefix: fc.boolean() }),
  fc.record({ kind: fc.constant('revoke' as const), id: leaseArb }),
  fc.record({
    kind: fc.constant('checkpoint' as const),
    id: leaseArb,
    remaining: fc.integer({ min: 0, max: 20 }),
  }),
  fc.constant({ kind: 'restore' as const }),
);

/** The model: which leases exist (with their TTLs) and which lease each live key is on. */
class Model {
  readonly leases = new Map<bigint, { grantedTtl: number; remainingTtl: number }>();
  readonly leaseOfKey = new Map<string, bigint>();
  readonly liveKeys = new Set<string>();

  keysOf(id: bigint): string[] {
    return [...this.leaseOfKey].filter(([, lease]) => lease === id).map(([key]) => key);
  }
}

class System {
  readonly mvcc = new MvccStore();
  leases = new LeaseStore({ minTtlSeconds: MIN_TTL_SECONDS });

  applyWrite(request: Parameters<MvccStore['apply']>[0]): void {
    const applied = this.mvcc.apply(request);
    assert.ok(!('error' in applied), 'error' in applied ? applied.error.message : '');
    assert.equal(this.leases.observe(applied.events), 0);
  }
}

function run(system: System, model: Model, command: Command): void {
  switch (command.kind) {
    case 'grant': {
      const result = system.leases.grant(command.id, command.ttl);
      assert.equal('lease' in result, !model.leases.has(command.id));
      if (!model.leases.has(command.id)) {
        model.leases.set(command.id, { grantedTtl: Math.max(command.ttl, MIN_TTL_SECONDS), remainingTtl: 0 });
      }
      return;
    }
    case 'put':
      put(system, model, command);
      return;
    case 'delete': {
      const end = command.prefix ? String.fromCharCode(command.key.charCodeAt(0) + 1) : '';
      system.applyWrite(write.delete(command.key, end));
      for (const key of [...model.liveKeys]) {
        const inRange = byBytes(key, command.key) >= 0 && byBytes(key, end) < 0;
        if (key === command.key || (command.prefix && inRange)) {
          model.liveKeys.delete(key);
          model.leaseOfKey.delete(key);
        }
      }
      return;
    }
    case 'revoke': {
      const result = system.leases.revoke(command.id);
      if (!('keys' in result)) {
        assert.equal(model.leases.has(command.id), false);
        return;
      }
      assert.deepEqual(result.keys.map(text), model.keysOf(command.id).sort(byBytes));
      const deletion = leaseRevokeWrite(result.keys);
      if (deletion !== undefined) system.applyWrite(deletion);
      for (const key of model.keysOf(command.id)) {
        model.liveKeys.delete(key);
        model.leaseOfKey.delete(key);
      }
      model.leases.delete(command.id);
      return;
    }
    case 'checkpoint': {
      const lease = model.leases.get(command.id);
      assert.equal(system.leases.checkpoint(command.id, command.remaining), lease !== undefined);
      if (lease !== undefined) lease.remainingTtl = command.remaining;
      return;
    }
    case 'restore':
      system.leases = LeaseStore.restore(system.leases.snapshot(), { minTtlSeconds: MIN_TTL_SECONDS });
      return;
  }
}

/** As the apply path: a put naming a lease that does not exist is refused before MVCC sees it. */
function put(system: System, model: Model, command: Extract<Command, { kind: 'put' }>): void {
  if (command.ignoreLease) {
    if (!model.liveKeys.has(command.key)) return;
    system.applyWrite(write.put(command.key, 'kept', { ignoreLease: true }));
    return;
  }
  if (command.lease !== NO_LEASE && !system.leases.has(command.lease)) {
    assert.equal(model.leases.has(command.lease), false);
    return;
  }
  system.applyWrite(write.put(command.key, 'v', { lease: command.lease }));
  model.liveKeys.add(command.key);
  if (command.lease === NO_LEASE) model.leaseOfKey.delete(command.key);
  else model.leaseOfKey.set(command.key, command.lease);
}

function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(bytes(a)), Buffer.from(bytes(b)));
}

function check(system: System, model: Model): void {
  const ids = [...model.leases.keys()].sort((a, b) => (a < b ? -1 : 1));
  assert.deepEqual(
    system.leases.list(),
    ids.map((id) => ({ id, ...model.leases.get(id)!, keyCount: model.keysOf(id).length })),
  );
  for (const id of ids)
    assert.deepEqual(system.leases.get(id)?.keys.map(text), model.keysOf(id).sort(byBytes));
  for (const key of KEYS)
    assert.equal(system.leases.leaseOf(bytes(key)), model.leaseOfKey.get(key) ?? NO_LEASE);
  assert.deepEqual(system.leases.stats, { leases: model.leases.size, attachedKeys: model.leaseOfKey.size });
  // The MVCC store agrees: every live key's lease is the one the lease store has it on.
  const all = system.mvcc.range(rangeRequest('\0', '\0'));
  assert.ok(!('error' in all));
  assert.deepEqual(all.kvs.map((kv) => text(kv.key)).sort(), [...model.liveKeys].sort());
  for (const kv of all.kvs) assert.equal(system.leases.leaseOf(kv.key), kv.lease);
}

describe('LeaseStore against a model of leases and attachments', () => {
  test('random grant/put/delete/revoke/checkpoint/restore sequences keep attachments as the model says', () => {
    fc.assert(
      fc.property(fc.array(commandArb, { maxLength: 60, size: 'max' }), (commands) => {
        const system = new System();
        const model = new Model();
        for (const command of commands) {
          run(system, model, command);
          check(system, model);
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});
