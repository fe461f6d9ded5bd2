import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { SimClock } from './clock.js';
import { EventLoop } from './event-loop.js';
import {
  allNemesisKinds,
  applyNemesisAction,
  describeAction,
  type NemesisAction,
  type NemesisKind,
  type NemesisOptions,
  type NemesisTargets,
  planNemesis,
  scheduleNemesisPlan,
} from './nemesis.js';
import { defaultNetworkConfig, type NetworkConditions, SimNetwork } from './network.js';
import { Prng } from './prng.js';

const cluster = ['n1', 'n2', 'n3', 'n4', 'n5'];

function calmOf({ latency, loss, duplication, reorder }: NetworkConditions): NetworkConditions {
  return { latency, loss, duplication, reorder };
}

/** The faults each action kind belongs to. */
const actionKindsOf: Record<NemesisKind, NemesisAction['kind'][]> = {
  partition: ['partition', 'heal'],
  crash: ['crash', 'restart'],
  loss: ['network'],
  duplicate: ['network'],
  reorder: ['network'],
  'clock-skew': ['clock'],
};

/** Replays a plan and checks every rule the nemesis promises. */
function assertPlanObeysRules(
  plan: readonly NemesisAction[],
  options: NemesisOptions,
  quiesceAtMs: number,
): void {
  const maxCrashed = options.maxCrashedNodes ?? Math.floor((options.nodes.length - 1) / 2);
  const crashed = new Set<string>();
  const driftingClocks = new Set<string>();
  const calm = calmOf(defaultNetworkConfig);
  let partitioned = false;
  let network = calm;
  let previousAtMs = 0;
  for (const action of plan) {
    assert.ok(action.atMs >= previousAtMs, 'sorted by time');
    assert.ok(action.atMs <= quiesceAtMs, `${describeAction(action)} after quiescence at ${quiesceAtMs}`);
    previousAtMs = action.atMs;
    switch (action.kind) {
      case 'partition':
        assert.equal(partitioned, false, 'one partition at a time');
        assert.ok(action.atMs < quiesceAtMs);
        assert.ok(action.blockedLinks.length > 0);
        partitioned = true;
        break;
      case 'heal':
        assert.equal(partitioned, true, 'heal follows a partition');
        partitioned = false;
        break;
      case 'crash':
        assert.ok(options.nodes.includes(action.node));
        assert.equal(crashed.has(action.node), false, 'no crash of a crashed node');
        assert.ok(action.atMs < quiesceAtMs);
        crashed.add(action.node);
        assert.ok(crashed.size <= maxCrashed, `${crashed.size} crashed at once`);
        break;
      case 'restart':
        assert.equal(crashed.delete(action.node), true, 'restart follows a crash of that node');
        break;
      case 'clock':
        if (action.driftPpm !== 0) driftingClocks.add(action.node);
        else driftingClocks.delete(action.node);
        break;
      case 'network':
        network = calmOf(action);
        break;
    }
  }
  assert.equal(partitioned, false, 'healed by the end');
  assert.equal(crashed.size, 0, 'everyone restarted by the end');
  assert.equal(driftingClocks.size, 0, 'clocks stop drifting for the calm tail');
  assert.deepEqual(network, calm, 'the network is calm again by the end');
}

const kindsArbitrary = fc.oneof(
  fc.constant('all' as const),
  fc.subarray([...allNemesisKinds], { minLength: 1 }),
);

describe('planNemesis', () => {
  test('plans obey the rules for any seed, cluster size, kinds and intensity', () => {
    fc.assert(
      fc.property(
        fc.nat(),
        fc.integer({ min: 1, max: 7 }),
        kindsArbitrary,
        fc.double({ min: 0, max: 5, noNaN: true }),
        (seed, size, kinds, intensity) => {
          const nodes = cluster.concat(['n6', 'n7']).slice(0, size);
          const options: NemesisOptions = { nodes, durationMs: 30_000, kinds, intensity };
          const plan = planNemesis(new Prng(seed), options);
          assertPlanObeysRules(plan, options, 21_000);
          const allowed = new Set(
            (kinds === 'all' ? allNemesisKinds : kinds).flatMap((kind) => actionKindsOf[kind]),
          );
          for (const action of plan) assert.ok(allowed.has(action.kind), `${action.kind} not enabled`);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('a configured crash limit and quiescence time are respected', () => {
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 0, max: 5 }), (seed, maxCrashedNodes) => {
        const options: NemesisOptions = {
          nodes: cluster,
          durationMs: 20_000,
          kinds: ['crash'],
          intensity: 5,
          maxCrashedNodes,
          quiesceAtMs: 12_345,
        };
        assertPlanObeysRules(planNemesis(new Prng(seed), options), options, 12_345);
      }),
      { numRuns: 100 },
    );
  });

  test('a busy plan really does fault: every family appears (seed 77)', () => {
    const plan = planNemesis(new Prng(77), {
      nodes: cluster,
      durationMs: 60_000,
      kinds: 'all',
      intensity: 2,
    });
    const kinds = new Set(plan.map((action) => action.kind));
    assert.deepEqual([...kinds].sort(), ['clock', 'crash', 'heal', 'network', 'partition', 'restart']);
    const crashesAtOnce = plan.reduce(
      (state, action) => {
        const down = state.down + (action.kind === 'crash' ? 1 : action.kind === 'restart' ? -1 : 0);
        return { down, most: Math.max(state.most, down) };
      },
      { down: 0, most: 0 },
    ).most;
    assert.equal(crashesAtOnce, 2, 'two of five down at once happens, three never');
  });

  test('the same seed gives the same plan; a different seed a different one', () => {
    const options: NemesisOptions = { nodes: cluster, durationMs: 30_000, kinds: 'all', intensity: 1 };
    const plan = planNemesis(new Prng(5), options);
    assert.deepEqual(planNemesis(new Prng(5), options), plan);
    assert.notDeepEqual(planNemesis(new Prng(6), options), plan);
  });

  test("enabling another fault family does not change a family's schedule", () => {
    const base = { nodes: cluster, durationMs: 30_000, intensity: 1 };
    const crashesOnly = planNemesis(new Prng(9), { ...base, kinds: ['crash'] });
    const everything = planNemesis(new Prng(9), { ...base, kinds: 'all' });
    assert.deepEqual(
      everything.filter((action) => action.kind === 'crash' || action.kind === 'restart'),
      crashesOnly,
    );
  });

  test('intensity 0 plans nothing, and bad options are refused', () => {
    assert.deepEqual(
      planNemesis(new Prng(1), { nodes: cluster, durationMs: 10_000, kinds: 'all', intensity: 0 }),
      [],
    );
    const refuse = (options: Partial<NemesisOptions>): void => {
      const full = {
        nodes: cluster,
        durationMs: 10_000,
        kinds: 'all',
        intensity: 1,
        ...options,
      } as NemesisOptions;
      assert.throws(() => planNemesis(new Prng(1), full), RangeError);
    };
    refuse({ nodes: [] });
    refuse({ nodes: ['n1', 'n1'] });
    refuse({ intensity: 11 });
    refuse({ quiesceAtMs: 20_000 });
    refuse({ maxCrashedNodes: 6 });
    refuse({ partitionDurationMs: { minMs: 10, maxMs: 5 } });
  });
});

describe('applying a plan', () => {
  function fakeTargets(calls: string[]): NemesisTargets {
    return {
      network: {
        heal: () => calls.push('heal'),
        applyPartition: (partition) => calls.push(`partition ${partition.blockedLinks.length} links`),
        configure: (conditions) => calls.push(`network loss ${conditions.loss}`),
      },
      crash: (node) => calls.push(`crash ${node}`),
      restart: (node) => calls.push(`restart ${node}`),
      clock: (node) => ({
        setOffsetMs: (offsetMs) => calls.push(`${node} offset ${offsetMs}`),
        setDriftPpm: (driftPpm) => calls.push(`${node} drift ${driftPpm}`),
      }),
    };
  }

  test('each action reaches the right target', () => {
    const calls: string[] = [];
    const targets = fakeTargets(calls);
    const calm = calmOf(defaultNetworkConfig);
    const actions: NemesisAction[] = [
      {
        atMs: 1,
        kind: 'partition',
        shape: 'isolate',
        description: 'n1 isolated',
        blockedLinks: [{ from: 'n1', to: 'n2' }],
      },
      { atMs: 2, kind: 'heal' },
      { atMs: 3, kind: 'crash', node: 'n2' },
      { atMs: 4, kind: 'restart', node: 'n2' },
      { atMs: 5, kind: 'clock', node: 'n3', offsetMs: -20, driftPpm: 100 },
      { atMs: 6, kind: 'network', ...calm, loss: 0.25 },
    ];
    for (const action of actions) applyNemesisAction(action, targets);
    assert.deepEqual(calls, [
      'partition 1 links',
      'heal',
      'crash n2',
      'restart n2',
      'n3 offset -20',
      'n3 drift 100',
      'network loss 0.25',
    ]);
  });

  test('a plan scheduled on the loop drives a real network and clocks at the planned times', () => {
    const loop = new EventLoop();
    const network = new SimNetwork<string>({ loop, random: new Prng(3).fork('network'), deliver: () => {} });
    const clocks = new Map(cluster.map((node) => [node, new SimClock({ time: loop })]));
    const down = new Set<string>();
    const targets: NemesisTargets = {
      network,
      crash: (node) => {
        down.add(node);
        network.setNodeDown(node, true);
      },
      restart: (node) => {
        down.delete(node);
        network.setNodeDown(node, false);
      },
      clock: (node) => clocks.get(node)!,
    };
    const plan = planNemesis(new Prng(3), { nodes: cluster, durationMs: 20_000, kinds: 'all', intensity: 2 });
    const applied: string[] = [];
    scheduleNemesisPlan(loop, plan, targets, (action) => {
      assert.equal(loop.now, action.atMs);
      applied.push(describeAction(action));
    });
    loop.runUntil(20_000);
    assert.equal(applied.length, plan.length);
    assert.equal(down.size, 0);
    assert.deepEqual(network.blockedLinks(), []);
    assert.deepEqual(calmOf(network.config), calmOf(defaultNetworkConfig));
  });

  test('describeAction gives one readable line per action', () => {
    const calm = calmOf(defaultNetworkConfig);
    assert.equal(describeAction({ atMs: 1200, kind: 'crash', node: 'n2' }), 't=1200ms crash n2');
    assert.equal(describeAction({ atMs: 5, kind: 'heal' }), 't=5ms heal all partitions');
    assert.equal(
      describeAction({ atMs: 7, kind: 'clock', node: 'n1', offsetMs: -250, driftPpm: 120 }),
      't=7ms clock n1: offset -250 ms, drift +120 ppm',
    );
    assert.equal(
      describeAction({ atMs: 9, kind: 'network', ...calm, loss: 0.05 }),
      't=9ms network: loss 5.0%, duplication 0.0%, reorder 0.0% (+≤0 ms), latency 1–50 ms (mean 2)',
    );
    const plan = planNemesis(new Prng(4), {
      nodes: cluster,
      durationMs: 30_000,
      kinds: ['partition'],
      intensity: 2,
    });
    const partition = plan.find((action) => action.kind === 'partition');
    assert.ok(partition);
    assert.match(describeAction(partition), /^t=\d+ms partition \([a-z-]+\): .+/);
  });
});
