// Child process for the crash test: appends entries through RaftDiskStorage as fast as it can
// (several persist calls in flight, snapshots now and then) and prints "ack <index>" once each
// persist resolves. The parent SIGKILLs it at a random moment and checks every ack survived.
// Usage: node --import tsx raft-storage.crash-child.fixture.ts <data-dir>
import { pathToFileURL } from 'node:url';
import type { Entry } from '@synod/raft';
import { RaftDiskStorage } from './raft-storage.js';

/** Crash-test geometry: small segments so rotation and release happen within a second. */
export const CRASH_SEGMENT_BYTES_MAX = 16 * 1024;
const PERSISTS_IN_FLIGHT = 16;
const ENTRIES_PER_PERSIST = 3;
const SNAPSHOT_EVERY_ENTRIES = 300;
const ENTRIES_KEPT_AFTER_SNAPSHOT = 50;
export const CRASH_TERM = 1;

/** The payload entry `index` must carry, so the parent can check contents, not just counts. */
export function crashPayload(index: number): string {
  return `entry ${index} `.padEnd(96, '.');
}

const encoder = new TextEncoder();
const silent = { info() {}, warn() {} };

async function main(dataDir: string): Promise<void> {
  const storage = await RaftDiskStorage.open(dataDir, {
    logger: silent,
    segmentBytesMax: CRASH_SEGMENT_BYTES_MAX,
  });
  let next = storage.memory.lastIndex() + 1;
  let snapshotting = false;
  const persistNext = (): Promise<void> => {
    const entries: Entry[] = [];
    for (let i = 0; i < ENTRIES_PER_PERSIST; i++, next++)
      entries.push({
        index: next,
        term: CRASH_TERM,
        kind: 'normal',
        data: encoder.encode(crashPayload(next)),
      });
    const last = next - 1;
    const hardState = { term: CRASH_TERM, vote: 'a', commit: last };
    return storage.persist({ snapshot: undefined, entries, hardState }).then(() => {
      process.stdout.write(`ack ${last}\n`);
      maybeSnapshot();
    });
  };
  const maybeSnapshot = () => {
    const memory = storage.memory;
    const index = memory.lastIndex();
    if (snapshotting || index - memory.snapshot().metadata.index < SNAPSHOT_EVERY_ENTRIES) return;
    snapshotting = true;
    const snapshot = {
      metadata: { index, term: CRASH_TERM, confState: memory.initialState().confState },
      data: encoder.encode(`applied through ${index}`),
    };
    void storage.saveSnapshot(snapshot, index - ENTRIES_KEPT_AFTER_SNAPSHOT).finally(() => {
      snapshotting = false;
    });
  };
  const writer = async () => {
    for (;;) await persistNext();
  };
  process.stdout.write('ready\n');
  await Promise.all(Array.from({ length: PERSISTS_IN_FLIGHT }, writer));
}

// Run only when executed as a process; the test imports this file for the constants above.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dataDir = process.argv[2];
  if (dataDir === undefined) {
    process.stderr.write('usage: raft-storage.crash-child.fixture.ts <data-dir>\n');
    process.exit(2);
  }
  main(dataDir).catch((error: unknown) => {
    process.stderr.write(`crash child failed: ${String(error)}\n`);
    process.exit(1);
  });
}
