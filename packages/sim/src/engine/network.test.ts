import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { EventLoop } from './event-loop.js';
import { type NetworkTraceEvent, SimNetwork, type SimNetworkConfig } from './network.js';
import { partitionHalves } from './partition.js';
import { Prng } from './prng.js';

interface Delivery {
  readonly atMs: number;
  readonly from: string;
  readonly to: string;
  readonly message: number;
}

function harness(
  seed: number,
  config: Partial<SimNetworkConfig> = {},
  inspect?: (event: NetworkTraceEvent<number>, network: SimNetwork<number>) => void,
) {
  const loop = new EventLoop();
  const deliveries: Delivery[] = [];
  const trace: NetworkTraceEvent<number>[] = [];
  const network: SimNetwork<number> = new SimNetwork<number>({
    loop,
    random: new Prng(seed).fork('network'),
    deliver: (from, to, message) => deliveries.push({ atMs: loop.now, from, to, message }),
    config,
    onTrace: (event) => {
      trace.push(event);
      inspect?.(event, network);
    },
  });
  return { loop, network, deliveries, trace };
}

const nodes = ['n1', 'n2', 'n3', 'n4', 'n5'];

/** Every node sends `rounds` numbered messages to every other, one round per ms. */
function chatter(run: ReturnType<typeof harness>, rounds: number): void {
  let message = 0;
  for (let round = 0; round < rounds; round++) {
    for (const from of nodes) for (const to of nodes) if (from !== to) run.network.send(from, to, message++);
    run.loop.runUntil(run.loop.now + 1);
  }
  run.loop.runUntil(run.loop.now + 10_000);
}

describe('SimNetwork', () => {
  test('delivers every message once, within the latency bounds, on a calm network', () => {
    const run = harness(1, { latency: { minMs: 2, meanMs: 5, maxMs: 30 } });
    for (let message = 0; message < 200; message++) run.network.send('n1', 'n2', message);
    run.loop.runUntil(1_000);
    assert.equal(run.deliveries.length, 200);
    for (const delivery of run.deliveries) assert.ok(delivery.atMs >= 2 && delivery.atMs <= 30);
    assert.deepEqual(
      [...run.deliveries.map((delivery) => delivery.message)].sort((a, b) => a - b),
      Array.from({ length: 200 }, (_, index) => index),
    );
    const stats = run.network.stats;
    assert.equal(stats.sent, 200);
    assert.equal(stats.delivered, 200);
    assert.equal(stats.inFlight, 0);
  });

  test('the same seed gives the same deliveries; a different seed gives different ones', () => {
    const config: Partial<SimNetworkConfig> = {
      loss: 0.1,
      duplication: 0.1,
      reorder: { probability: 0.2, maxExtraDelayMs: 20 },
    };
    const first = harness(42, config);
    const second = harness(42, config);
    const other = harness(43, config);
    chatter(first, 20);
    chatter(second, 20);
    chatter(other, 20);
    assert.deepEqual(second.trace, first.trace);
    assert.deepEqual(second.deliveries, first.deliveries);
    assert.notDeepEqual(other.deliveries, first.deliveries);
  });

  test('a blocked link never delivers, and a message sent across a cut never arrives', () => {
    fc.assert(
      fc.property(fc.nat(), fc.array(fc.nat(), { minLength: 1, maxLength: 12 }), (seed, cutTimes) => {
        const sentAcrossCut = new Set<number>();
        let message = 0;
        const conditions = { duplication: 0.2, reorder: { probability: 0.3, maxExtraDelayMs: 40 } };
        // Checked live, at the moment of each send and delivery.
        const run = harness(seed, conditions, (event, network) => {
          const blocked = network.isBlocked(event.from, event.to);
          if (event.kind === 'send' && blocked) sentAcrossCut.add(event.message);
          if (event.kind === 'deliver') {
            assert.equal(blocked, false);
            assert.equal(sentAcrossCut.has(event.message), false);
          }
        });
        const random = new Prng(seed).fork('partitions');
        for (const cut of cutTimes) {
          if (cut % 3 === 0) run.network.heal();
          else run.network.applyPartition(partitionHalves(nodes, random));
          for (const from of nodes)
            for (const to of nodes) if (from !== to) run.network.send(from, to, message++);
          run.loop.runUntil(run.loop.now + (cut % 25));
        }
        run.loop.runUntil(run.loop.now + 1_000);
        assert.ok(run.network.stats.delivered > 0);
      }),
      { numRuns: 50 },
    );
  });

  test('partitioned links drop at send and heal restores them', () => {
    const run = harness(5);
    run.network.applyPartition(partitionHalves(nodes, new Prng(5)));
    const blocked = run.network.blockedLinks();
    assert.equal(blocked.length, 12); // 2 × 3 nodes, both directions
    for (const { from, to } of blocked) run.network.send(from, to, 1);
    run.loop.runUntil(100);
    assert.equal(run.deliveries.length, 0);
    assert.equal(run.network.stats.dropped.partitioned, 12);
    run.network.heal();
    for (const { from, to } of blocked) run.network.send(from, to, 2);
    run.loop.runUntil(200);
    assert.equal(run.deliveries.length, 12);
  });

  test('a message in flight when its link is cut is dropped on arrival', () => {
    const run = harness(6, { latency: { minMs: 10, meanMs: 10, maxMs: 10 } });
    run.network.send('n1', 'n2', 1);
    run.loop.runUntil(5);
    run.network.partitionOneWay('n1', 'n2');
    run.loop.runUntil(20);
    assert.equal(run.deliveries.length, 0);
    assert.equal(run.network.stats.dropped['partitioned-in-flight'], 1);
  });

  test('a one-way cut blocks only its direction', () => {
    const run = harness(7);
    run.network.partitionOneWay('n1', 'n2');
    run.network.send('n1', 'n2', 1);
    run.network.send('n2', 'n1', 2);
    run.loop.runUntil(100);
    assert.deepEqual(
      run.deliveries.map((delivery) => delivery.message),
      [2],
    );
  });

  test('an isolated node neither sends nor receives, but may still message itself', () => {
    const run = harness(8);
    run.network.isolate('n3');
    run.network.send('n3', 'n1', 1);
    run.network.send('n1', 'n3', 2);
    run.network.send('n3', 'n3', 3);
    run.network.send('n1', 'n2', 4);
    run.loop.runUntil(100);
    assert.deepEqual(run.deliveries.map((delivery) => delivery.message).sort(), [3, 4]);
  });

  test('messages to a crashed node are dropped, at send and on arrival', () => {
    const run = harness(9, { latency: { minMs: 10, meanMs: 10, maxMs: 10 } });
    run.network.setNodeDown('n2', true);
    run.network.send('n1', 'n2', 1);
    run.network.setNodeDown('n2', false);
    run.network.send('n1', 'n2', 2);
    run.loop.runUntil(5);
    run.network.setNodeDown('n2', true);
    run.loop.runUntil(20);
    run.network.setNodeDown('n2', false);
    run.network.send('n1', 'n2', 3);
    run.loop.runUntil(40);
    assert.deepEqual(
      run.deliveries.map((delivery) => delivery.message),
      [3],
    );
    assert.equal(run.network.stats.dropped['recipient-down'], 2);
  });

  test('loss and duplication happen at their configured rates (seed 11, 20 000 sends)', () => {
    const run = harness(11, { loss: 0.1, duplication: 0.05 });
    for (let message = 0; message < 20_000; message++) run.network.send('n1', 'n2', message);
    run.loop.runUntil(10_000);
    const stats = run.network.stats;
    assert.ok(Math.abs(stats.dropped.lost / 20_000 - 0.1) < 0.01, `lost ${stats.dropped.lost}`);
    assert.ok(
      Math.abs(stats.duplicated / (20_000 - stats.dropped.lost) - 0.05) < 0.01,
      `dup ${stats.duplicated}`,
    );
    assert.equal(stats.delivered, 20_000 - stats.dropped.lost + stats.duplicated);
  });

  test('a duplicate always arrives after its original', () => {
    const run = harness(12, { duplication: 1 });
    for (let message = 0; message < 500; message++) run.network.send('n1', 'n2', message);
    run.loop.runUntil(10_000);
    const arrivals = new Map<number, number[]>();
    for (const { message, atMs } of run.deliveries)
      arrivals.set(message, [...(arrivals.get(message) ?? []), atMs]);
    for (const [message, times] of arrivals) {
      assert.equal(times.length, 2, `message ${message}`);
      assert.ok(times[1]! >= times[0]!);
    }
  });

  test('reordering lets later sends overtake earlier ones; per-link FIFO forbids it', () => {
    const overtakes = (fifoPerLink: boolean): number => {
      const run = harness(13, {
        latency: { minMs: 5, meanMs: 5, maxMs: 5 },
        reorder: { probability: 0.2, maxExtraDelayMs: 50 },
        fifoPerLink,
      });
      for (let message = 0; message < 2_000; message++) {
        run.network.send('n1', 'n2', message);
        run.loop.runUntil(run.loop.now + 1);
      }
      run.loop.runUntil(run.loop.now + 1_000);
      const order = run.deliveries.map((delivery) => delivery.message);
      return order.filter((message, index) => index > 0 && message < order[index - 1]!).length;
    };
    // With a constant latency only reordered messages (≈ 20%) can end up out of order.
    const unordered = overtakes(false);
    assert.ok(unordered > 200 && unordered < 600, `overtakes ${unordered}`);
    assert.equal(overtakes(true), 0);
  });

  test('the message filter can drop messages and sees every send', () => {
    const run = harness(14);
    const seen: number[] = [];
    run.network.messageFilter = (_from, _to, message) => {
      seen.push(message);
      return message % 2 === 0;
    };
    for (let message = 0; message < 10; message++) run.network.send('n1', 'n2', message);
    run.loop.runUntil(100);
    assert.equal(seen.length, 10);
    assert.equal(run.network.stats.dropped.filtered, 5);
    assert.ok(run.deliveries.every((delivery) => delivery.message % 2 === 0));
  });

  test('configure changes conditions at run time and refuses nonsense', () => {
    const run = harness(15);
    run.network.configure({ loss: 1 });
    run.network.send('n1', 'n2', 1);
    run.loop.runUntil(100);
    assert.equal(run.deliveries.length, 0);
    run.network.configure({ loss: 0 });
    run.network.send('n1', 'n2', 2);
    run.loop.runUntil(200);
    assert.equal(run.deliveries.length, 1);
    assert.throws(() => run.network.configure({ loss: 2 }), RangeError);
    assert.throws(() => run.network.configure({ latency: { minMs: 5, meanMs: 1, maxMs: 10 } }), RangeError);
    assert.equal(run.network.config.loss, 0);
  });
});
