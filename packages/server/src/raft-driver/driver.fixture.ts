// Test helpers: storage that "persists" after an async delay, and a waiting helper.
import type { ConfState, Entry, HardState, Message, Snapshot } from '@synod/raft';
import { MemoryStorage, seededRandom } from '@synod/raft';
import type { DriverStorage, StateMachine } from './raft-driver.js';
import { RaftDriver } from './raft-driver.js';

/** Storage that "persists" after a short async delay, as a disk would. */
export class DelayedMemoryStorage implements DriverStorage {
  readonly memory: MemoryStorage;
  persists = 0;
  /** Every snapshot saveSnapshot was given, in order. */
  readonly saved: Snapshot[] = [];
  constructor(confState: ConfState) {
    this.memory = new MemoryStorage(confState);
  }
  async persist(ready: {
    hardState: HardState | undefined;
    entries: readonly Entry[];
    snapshot: Snapshot | undefined;
  }) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    this.persists++;
    if (ready.snapshot) this.memory.applySnapshot(ready.snapshot);
    this.memory.append(ready.entries);
    if (ready.hardState) this.memory.setHardState(ready.hardState);
  }
  async saveSnapshot(snapshot: Snapshot, compactTo: number) {
    this.saved.push(snapshot);
    this.memory.createSnapshot(snapshot.metadata.index, snapshot.metadata.confState, snapshot.data);
    this.memory.compact(compactTo);
  }
}

export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Waits until one of `drivers` is leader, and returns it. */
export async function waitForLeader(drivers: Map<string, RaftDriver>): Promise<RaftDriver> {
  const leader = () => [...drivers.values()].find((driver) => driver.node.raft.role === 'leader');
  await waitFor(() => leader() !== undefined, 'a leader');
  return leader()!;
}

const silentLogger = { info() {}, warn() {}, error() {} };

/**
 * Raft drivers for `ids` in one process, delivering messages on the next macrotask, each applying
 * to the state machine `createMachine` builds (it may need its driver, hence the getter).
 */
export function startDriverCluster<Machine extends StateMachine>(
  ids: readonly string[],
  createMachine: (id: string, driver: () => RaftDriver) => Machine,
  snapshotEveryEntries = 50,
): {
  drivers: Map<string, RaftDriver>;
  machines: Map<string, Machine>;
  storages: Map<string, DelayedMemoryStorage>;
  stop: () => void;
} {
  const confState: ConfState = {
    voters: [...ids],
    votersOutgoing: [],
    learners: [],
    learnersNext: [],
    autoLeave: false,
  };
  const drivers = new Map<string, RaftDriver>();
  const machines = new Map<string, Machine>();
  const storages = new Map<string, DelayedMemoryStorage>();
  let seed = 1;
  for (const id of ids) {
    const machine = createMachine(id, () => drivers.get(id)!);
    const driver = new RaftDriver({
      nodeId: id,
      raft: { random: seededRandom(seed++), electionTicks: 10 },
      storage: storages.set(id, new DelayedMemoryStorage(confState)).get(id)!,
      stateMachine: machine,
      send: (messages: readonly Message[]) => {
        for (const message of messages) setImmediate(() => drivers.get(message.to)?.receive([message]));
      },
      logger: silentLogger,
      tickMs: 5,
      snapshotEveryEntries,
      entriesKeptAfterSnapshot: 5,
    });
    drivers.set(id, driver);
    machines.set(id, machine);
  }
  for (const driver of drivers.values()) driver.start();
  return {
    drivers,
    machines,
    storages,
    stop: () => {
      for (const driver of drivers.values()) driver.stop();
    },
  };
}
