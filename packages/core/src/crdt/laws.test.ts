// The state-based CRDT laws, checked for every CRDT in this folder on states reached by random
// histories of operations and partial merges among three replicas.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { GCounter, PNCounter } from './counters.js';
import { canonicalJson, type JsonValue } from './json.js';
import { LwwRegister } from './lww-register.js';
import { MvRegister } from './mv-register.js';
import { OrSet } from './or-set.js';

interface Model<Crdt, Operation> {
  readonly name: string;
  readonly operation: fc.Arbitrary<Operation>;
  create(replicaId: string): Crdt;
  apply(crdt: Crdt, operation: Operation): void;
  merge(target: Crdt, source: Crdt): void;
  state(crdt: Crdt): unknown;
  /** Rebuilds a replica from a state that went through JSON text, as it would over the network. */
  revive(replicaId: string, json: unknown): Crdt;
  value(crdt: Crdt): unknown;
}

const replicaIds = ['r0', 'r1', 'r2'] as const;
const smallValue = fc.constantFrom('x', 'y', 'z', 1, true, null);

type Step<Operation> = { replica: number; operation: Operation } | { replica: number; mergeFrom: number };

function stepArbitrary<Operation>(operation: fc.Arbitrary<Operation>): fc.Arbitrary<Step<Operation>> {
  return fc.oneof(
    fc.record({ replica: fc.nat(2), operation }),
    fc.record({ replica: fc.nat(2), mergeFrom: fc.nat(2) }),
  );
}

function runHistory<Crdt, Operation>(model: Model<Crdt, Operation>, steps: Step<Operation>[]): Crdt[] {
  const replicas = replicaIds.map((id) => model.create(id));
  for (const step of steps) {
    const target = replicas[step.replica]!;
    if ('operation' in step) model.apply(target, step.operation);
    else model.merge(target, replicas[step.mergeFrom]!);
  }
  return replicas;
}

const stateText = <Crdt, Operation>(model: Model<Crdt, Operation>, crdt: Crdt) =>
  canonicalJson(model.state(crdt) as JsonValue);

const copyOf = <Crdt, Operation>(model: Model<Crdt, Operation>, crdt: Crdt, replicaId = 'copy') =>
  model.revive(replicaId, JSON.parse(JSON.stringify(model.state(crdt))));

function checkLaws<Crdt, Operation>(model: Model<Crdt, Operation>): void {
  const history = fc.array(stepArbitrary(model.operation), { maxLength: 40, size: 'max' });
  const merged = (left: Crdt, right: Crdt) => {
    const result = copyOf(model, left);
    model.merge(result, right);
    return result;
  };

  describe(model.name, () => {
    test('exported state survives JSON text unchanged', () => {
      fc.assert(
        fc.property(history, (steps) => {
          for (const replica of runHistory(model, steps)) {
            assert.equal(stateText(model, copyOf(model, replica)), stateText(model, replica));
          }
        }),
      );
    });

    test('merge is commutative, associative and idempotent', () => {
      fc.assert(
        fc.property(history, (steps) => {
          const [first, second, third] = runHistory(model, steps) as [Crdt, Crdt, Crdt];
          assert.equal(
            stateText(model, merged(first, second)),
            stateText(model, merged(second, first)),
            'commutative',
          );
          assert.equal(
            stateText(model, merged(merged(first, second), third)),
            stateText(model, merged(first, merged(second, third))),
            'associative',
          );
          assert.equal(stateText(model, merged(first, first)), stateText(model, first), 'idempotent');
        }),
        { numRuns: 150 },
      );
    });

    test('replicas converge after exchanging states in any order', () => {
      const orders = fc.array(
        fc.constantFrom(
          ...([
            [0, 1, 2],
            [1, 2, 0],
            [2, 0, 1],
            [2, 1, 0],
            [0, 2, 1],
            [1, 0, 2],
          ] as const),
        ),
        {
          minLength: 3,
          maxLength: 3,
        },
      );
      fc.assert(
        fc.property(history, orders, (steps, deliveryOrders) => {
          const replicas = runHistory(model, steps);
          const snapshots = replicas.map((replica) => copyOf(model, replica));
          replicas.forEach((replica, index) => {
            for (const source of deliveryOrders[index]!) model.merge(replica, snapshots[source]!);
          });
          const [reference, ...others] = replicas;
          for (const other of others) {
            assert.equal(stateText(model, other), stateText(model, reference!));
            assert.deepEqual(model.value(other), model.value(reference!));
          }
        }),
        { numRuns: 150 },
      );
    });
  });
}

checkLaws<GCounter, number>({
  name: 'G-Counter',
  operation: fc.nat(5),
  create: (id) => new GCounter(id),
  apply: (counter, amount) => void counter.increment(amount),
  merge: (target, source) => void target.merge(source),
  state: (counter) => counter.toJSON(),
  revive: (id, json) => GCounter.fromJSON(id, json),
  value: (counter) => counter.value,
});

checkLaws<PNCounter, number>({
  name: 'PN-Counter',
  operation: fc.integer({ min: -5, max: 5 }),
  create: (id) => new PNCounter(id),
  apply: (counter, amount) => void (amount >= 0 ? counter.increment(amount) : counter.decrement(-amount)),
  merge: (target, source) => void target.merge(source),
  state: (counter) => counter.toJSON(),
  revive: (id, json) => PNCounter.fromJSON(id, json),
  value: (counter) => counter.value,
});

// Timestamps from a tiny range, so that ties (broken by replica id) are frequent.
checkLaws<LwwRegister<JsonValue>, [JsonValue, number]>({
  name: 'LWW-Register',
  operation: fc.tuple(smallValue, fc.nat(3)),
  create: (id) => new LwwRegister<JsonValue>(id),
  apply: (register, [value, timestamp]) => void register.set(value, timestamp),
  merge: (target, source) => void target.merge(source),
  state: (register) => register.toJSON(),
  revive: (id, json) => LwwRegister.fromJSON<JsonValue>(id, json),
  value: (register) => register.value,
});

checkLaws<MvRegister<JsonValue>, JsonValue>({
  name: 'MV-Register',
  operation: smallValue,
  create: (id) => new MvRegister<JsonValue>(id),
  apply: (register, value) => void register.set(value),
  merge: (target, source) => void target.merge(source),
  state: (register) => register.toJSON(),
  revive: (id, json) => MvRegister.fromJSON<JsonValue>(id, json),
  value: (register) => register.values,
});

checkLaws<OrSet<JsonValue>, { add: boolean; element: JsonValue }>({
  name: 'OR-Set',
  operation: fc.record({ add: fc.boolean(), element: smallValue }),
  create: (id) => new OrSet<JsonValue>(id),
  apply: (set, { add, element }) => void (add ? set.add(element) : set.remove(element)),
  merge: (target, source) => void target.merge(source),
  state: (set) => set.toJSON(),
  revive: (id, json) => OrSet.fromJSON<JsonValue>(id, json),
  value: (set) => set.values,
});
