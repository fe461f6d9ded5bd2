import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { SimClock } from './clock.js';
import { isTornRecord, SimDisk } from './disk.js';
import { EventLoop } from './event-loop.js';
import { describeAction, planNemesis, scheduleNemesisPlan } from './nemesis.js';
import { SimNetwork } from './network.js';
import { Prng } from './prng.js';

const nodes = ['n1', 'n2', 'n3', 'n4', 'n5'];
const runDurationMs = 5_000;
const gossipIntervalMs = 20;

/**
 * A toy cluster using every part of the engine at once: each node gossips a counter to a random
 * peer, persists what it hears, reads its skewed clock, and suffers the full nemesis. Returns
 * the whole trace, one line per thing that happened.
 */
function runToyCluster(seed: number): string[] {
  const prng = new Prng(seed);
  const trace: string[] = [];
  const loop = new EventLoop({ onEvent: (event) => trace.push(`${event.atMs} run ${event.label}`) });
  const clocks = new Map(nodes.map((node) => [node, new SimClock({ time: loop })]));
  const disks = new Map(
    nodes.map((node) => [
      node,
      new SimDisk<number>({ random: prng.fork(`disk/${node}`), tornWriteProbability: 0.5 }),
    ]),
  );
  const down = new Set<string>();
  const network = new SimNetwork<number>({
    loop,
    random: prng.fork('network'),
    deliver: (_from, to, counter) => {
      const disk = disks.get(to)!;
      disk.append('log', counter);
      // Sync only some appends, so crashes find unsynced (and sometimes torn) writes.
      if (counter % 3 === 0)
        trace.push(`${to} synced in ${disk.sync()} ms at local ${clocks.get(to)!.now()}`);
    },
    onTrace: (event) => trace.push(`${event.atMs} ${event.kind} ${event.from}>${event.to} ${event.message}`),
  });
  const gossipRandom = prng.fork('gossip');
  for (const node of nodes) {
    const gossip = (): void => {
      if (!down.has(node)) network.send(node, gossipRandom.pick(nodes), disks.get(node)!.recordCount('log'));
      loop.schedule(gossipIntervalMs, gossip, `gossip ${node}`);
    };
    loop.schedule(gossipRandom.range(0, gossipIntervalMs), gossip, `gossip ${node}`);
  }
  const plan = planNemesis(prng.fork('nemesis'), {
    nodes,
    durationMs: runDurationMs,
    kinds: 'all',
    intensity: 3,
  });
  const crashRandom = prng.fork('crash');
  scheduleNemesisPlan(
    loop,
    plan,
    {
      network,
      crash: (node) => {
        down.add(node);
        network.setNodeDown(node, true);
        trace.push(`crash report ${JSON.stringify(disks.get(node)!.crash(crashRandom))}`);
      },
      restart: (node) => {
        const disk = disks.get(node)!;
        const records = disk.read('log');
        if (isTornRecord(records[records.length - 1])) disk.truncateFrom('log', records.length - 1);
        disk.sync();
        down.delete(node);
        network.setNodeDown(node, false);
      },
      clock: (node) => clocks.get(node)!,
    },
    (action) => trace.push(describeAction(action)),
  );
  loop.runUntil(runDurationMs);
  return trace;
}

function digest(lines: readonly string[]): string {
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

describe('determinism across the whole engine', () => {
  test('the same seed replays byte for byte; another seed diverges', () => {
    const first = runToyCluster(1);
    assert.ok(
      first.some((line) => line.includes('"tornFile":"log"')),
      'a torn write was recovered',
    );
    const again = runToyCluster(1);
    assert.ok(first.length > 2_000, `only ${first.length} trace lines`);
    assert.ok(first.some((line) => line.includes('partition')));
    assert.ok(first.some((line) => line.startsWith('crash report')));
    assert.equal(digest(again), digest(first));
    assert.notEqual(digest(runToyCluster(2)), digest(first));
  });
});
