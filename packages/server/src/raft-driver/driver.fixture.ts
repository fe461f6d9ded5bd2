// Test helpers: storage that "persists" after an async delay, and a waiting helper.
import type { ConfState, Entry, HardState, Snapshot } from '@synod/raft';
import { MemoryStorage } from '@synod/raft';
import type { DriverStorage } from './raft-driver.js';

/** Storage that "persists" after a short async delay, as a disk would. */
export class DelayedMemoryStorage implements DriverStorage {
  readonly memory: MemoryStorage;
  persists = 0;
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
