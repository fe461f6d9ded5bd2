// Crash consistency: a child process appends through RaftDiskStorage and is SIGKILLed at a random
// moment, several times over the same data directory. After every kill, recovery must hold every
// entry the child acknowledged, with the right contents. (SIGKILL keeps the page cache, so this
// checks the software: ack only after write+fsync, recovery, rotation and release races; power
// loss is covered by the torn-tail tests.)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { CRASH_SEGMENT_BYTES_MAX, CRASH_TERM, crashPayload } from './raft-storage.crash-child.fixture.js';
import { RaftDiskStorage } from './raft-storage.js';
import { entryText, RecordingLogger, withTempDir } from './storage.fixture.js';

const ROUNDS = 4;
const KILL_DELAY_MS_MIN = 20;
const KILL_DELAY_MS_MAX = 250;
const CHILD = new URL('./raft-storage.crash-child.fixture.ts', import.meta.url).pathname;

/** mulberry32: a tiny seeded PRNG, so a failing kill schedule can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs the child until `killDelayMs` after its first ack, then SIGKILLs it; returns the highest ack. */
async function runAndKill(dataDir: string, killDelayMs: number): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let highestAck = 0;
  let timer: NodeJS.Timeout | undefined;
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_code, signal) => resolve(signal)),
  );
  for await (const line of createInterface({ input: child.stdout })) {
    if (!line.startsWith('ack ')) continue;
    highestAck = Math.max(highestAck, Number(line.slice(4)));
    timer ??= setTimeout(() => child.kill('SIGKILL'), killDelayMs);
  }
  clearTimeout(timer);
  const signal = await exited;
  assert.equal(signal, 'SIGKILL', `the child died on its own: ${stderr}`);
  return highestAck;
}

async function checkRecovered(dataDir: string, acknowledged: number): Promise<number> {
  const storage = await RaftDiskStorage.open(dataDir, {
    logger: new RecordingLogger(),
    segmentBytesMax: CRASH_SEGMENT_BYTES_MAX,
  });
  const memory = storage.memory;
  assert.ok(
    memory.lastIndex() >= acknowledged,
    `acked ${acknowledged}, recovered up to ${memory.lastIndex()}`,
  );
  assert.ok(memory.initialState().hardState.commit >= acknowledged, 'the acknowledged hard state is lost');
  for (const entry of memory.allEntries()) {
    assert.equal(entry.term, CRASH_TERM);
    assert.equal(entryText(entry), crashPayload(entry.index), `entry ${entry.index} has wrong contents`);
  }
  const lastIndex = memory.lastIndex();
  await storage.close();
  return lastIndex;
}

test('every entry acknowledged before a SIGKILL is recovered, across repeated kills', async (t) => {
  const seed = Number(process.env.SYNOD_CRASH_SEED ?? Date.now() % 1_000_000);
  t.diagnostic(`seed ${seed} (rerun with SYNOD_CRASH_SEED=${seed})`);
  const next = random(seed);
  await withTempDir(async (dataDir) => {
    let acknowledged = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const killDelayMs = KILL_DELAY_MS_MIN + Math.floor(next() * (KILL_DELAY_MS_MAX - KILL_DELAY_MS_MIN));
      acknowledged = Math.max(acknowledged, await runAndKill(dataDir, killDelayMs));
      const recovered = await checkRecovered(dataDir, acknowledged);
      t.diagnostic(
        `round ${round}: killed after ${killDelayMs} ms, acked ${acknowledged}, recovered ${recovered}`,
      );
    }
    assert.ok(acknowledged > 0, 'the child never acknowledged anything');
  });
});
