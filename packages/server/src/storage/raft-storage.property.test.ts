// Model-based property: whatever sequence of Raft-shaped writes (appends that may overwrite
// uncommitted entries, commits, local snapshots with compaction, snapshots from the leader) runs
// against RaftDiskStorage with tiny segments, a reopen recovers exactly what the live storage
// held: the same snapshot, the same entries after it, the same hard state.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConfState, Entry, MemoryStorage } from '@synod/raft';
import fc from 'fast-check';
import { RaftDiskStorage } from './raft-storage.js';
import { describeEntries, RecordingLogger, withTempDir } from './storage.fixture.js';

const SEGMENT_BYTES_MAX = 512;
const conf: ConfState = {
  voters: ['a', 'b', 'c'],
  votersOutgoing: [],
  learners: [],
  learnersNext: [],
  autoLeave: false,
};
const encoder = new TextEncoder();

type Operation =
  | { readonly kind: 'append'; readonly count: number; readonly overwrite: number }
  | { readonly kind: 'commit'; readonly count: number }
  | { readonly kind: 'localSnapshot'; readonly keep: number }
  | { readonly kind: 'leaderSnapshot'; readonly ahead: number }
  | { readonly kind: 'reopen' };

const operation: fc.Arbitrary<Operation> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record(
      { kind: fc.constant('append'), count: fc.integer({ min: 1, max: 6 }), overwrite: fc.nat(3) },
      { noNullPrototype: true },
    ),
  },
  {
    weight: 3,
    arbitrary: fc.record(
      { kind: fc.constant('commit'), count: fc.integer({ min: 1, max: 8 }) },
      { noNullPrototype: true },
    ),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('localSnapshot'), keep: fc.nat(4) }, { noNullPrototype: true }),
  },
  {
    weight: 1,
    arbitrary: fc.record(
      { kind: fc.constant('leaderSnapshot'), ahead: fc.integer({ min: 1, max: 5 }) },
      { noNullPrototype: true },
    ),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' } as const) },
);

/** What must survive a restart: the snapshot, the entries after it, the hard state. */
function durableView(memory: MemoryStorage) {
  const snapshot = memory.snapshot();
  const { index, term } = snapshot.metadata;
  const hardState = memory.initialState().hardState;
  return {
    snapshot: { index, term, data: [...snapshot.data] },
    entries: describeEntries(memory.allEntries().filter((entry) => entry.index > index)),
    hardState: { ...hardState, commit: Math.max(hardState.commit, index) },
    confState: memory.initialState().confState,
  };
}

class Scenario {
  storage: RaftDiskStorage;
  private term = 1;
  private serial = 0;
  private readonly dir: string;

  constructor(dir: string, storage: RaftDiskStorage) {
    this.dir = dir;
    this.storage = storage;
  }

  static async start(dir: string): Promise<Scenario> {
    const storage = await open(dir);
    await storage.bootstrap(conf);
    return new Scenario(dir, storage);
  }

  private get memory(): MemoryStorage {
    return this.storage.memory;
  }

  private hardState(commit: number) {
    return { term: this.term, vote: 'a', commit };
  }

  async run(op: Operation): Promise<void> {
    const memory = this.memory;
    const commit = memory.initialState().hardState.commit;
    switch (op.kind) {
      case 'append': {
        // A new leader may overwrite uncommitted entries, never committed ones (Raft §5.3).
        const first = Math.max(commit + 1, memory.firstIndex(), memory.lastIndex() + 1 - op.overwrite);
        if (first <= memory.lastIndex()) this.term++;
        const entries: Entry[] = Array.from({ length: op.count }, (_, i) => ({
          index: first + i,
          term: this.term,
          kind: 'normal',
          data: encoder.encode(`#${this.serial++}`),
        }));
        return this.storage.persist({ snapshot: undefined, entries, hardState: this.hardState(commit) });
      }
      case 'commit': {
        const next = Math.min(memory.lastIndex(), commit + op.count);
        return this.storage.persist({ snapshot: undefined, entries: [], hardState: this.hardState(next) });
      }
      case 'localSnapshot': {
        const index = commit;
        const term = memory.term(index);
        if (term === undefined || index < memory.snapshot().metadata.index) return;
        const snapshot = {
          metadata: { index, term, confState: conf },
          data: encoder.encode(`applied ${index}`),
        };
        return this.storage.saveSnapshot(snapshot, Math.max(memory.firstIndex() - 1, index - op.keep));
      }
      case 'leaderSnapshot': {
        this.term++;
        const index = memory.lastIndex() + op.ahead;
        const snapshot = {
          metadata: { index, term: this.term, confState: conf },
          data: encoder.encode(`leader ${index}`),
        };
        return this.storage.persist({ snapshot, entries: [], hardState: this.hardState(index) });
      }
      case 'reopen': {
        const before = durableView(memory);
        await this.storage.close();
        this.storage = await open(this.dir);
        assert.deepEqual(durableView(this.storage.memory), before);
        return;
      }
    }
  }
}

function open(dir: string): Promise<RaftDiskStorage> {
  return RaftDiskStorage.open(dir, { logger: new RecordingLogger(), segmentBytesMax: SEGMENT_BYTES_MAX });
}

test('a reopen recovers exactly the durable state, for any sequence of Raft-shaped writes', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 40 }), (operations) =>
      withTempDir(async (dir) => {
        const scenario = await Scenario.start(dir);
        try {
          for (const op of operations) await scenario.run(op);
          await scenario.run({ kind: 'reopen' });
        } finally {
          await scenario.storage.close();
        }
      }),
    ),
    { seed: 424242, numRuns: 40 },
  );
});
