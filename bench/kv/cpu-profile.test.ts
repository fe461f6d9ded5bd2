import assert from 'node:assert/strict';
import type { Profiler } from 'node:inspector';
import { test } from 'node:test';
import { summariseCpuProfile } from './cpu-profile.js';

const ROOT = '/repo/';

function node(id: number, functionName: string, url: string, children: number[] = []): Profiler.ProfileNode {
  return { id, callFrame: { functionName, url, scriptId: '0', lineNumber: 9, columnNumber: 0 }, children };
}

// (root) → handle (server) → encode (server) → encode (recursion) → writeBuffer (native)
//        → (idle), (garbage collector)
const PROFILE: Profiler.Profile = {
  nodes: [
    node(1, '(root)', '', [2, 6, 7]),
    node(2, 'handle', 'file:///repo/packages/server/src/call.ts', [3]),
    node(3, 'encode', 'file:///repo/packages/server/src/wire.ts', [4]),
    node(4, 'encode', 'file:///repo/packages/server/src/wire.ts', [5]),
    node(5, 'writeBuffer', ''),
    node(6, '(idle)', ''),
    node(7, '(garbage collector)', ''),
  ],
  startTime: 0,
  endTime: 10_000,
  // One sample per millisecond: 2 in handle, 2 in the inner encode, 2 in writeBuffer, 2 idle, 2 gc.
  samples: [2, 2, 4, 4, 5, 5, 6, 6, 7, 7],
  timeDeltas: [0, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
};

test('self and total time are percentages of busy time; idle is left out', () => {
  const summary = summariseCpuProfile(PROFILE, ROOT);
  assert.equal(summary.durationMs, 10);
  assert.equal(summary.busyMs, 8);
  assert.equal(summary.idlePercent, 20);
  const handle = summary.topFunctions.find((cost) => cost.name === 'handle')!;
  assert.equal(handle.location, 'packages/server/src/call.ts:10');
  assert.equal(handle.selfPercent, 25);
  assert.equal(handle.totalPercent, 75);
});

test('a recursive function counts its time once in total time', () => {
  const encode = summariseCpuProfile(PROFILE, ROOT).topFunctions.find((cost) => cost.name === 'encode')!;
  assert.equal(encode.selfMs, 2);
  assert.equal(encode.totalPercent, 50);
});

test("native code is named after its nearest workspace caller and grouped with its JS caller's file and package", () => {
  const summary = summariseCpuProfile(PROFILE, ROOT);
  assert.equal(
    summary.topFunctions.find((cost) => cost.name === 'writeBuffer')?.location,
    '(native) via encode packages/server/src/wire.ts:10',
  );
  assert.equal(summary.byFile.find((cost) => cost.name === 'packages/server/src/wire.ts')?.selfMs, 4);
  assert.equal(summary.byPackage.find((cost) => cost.name === '@synod/server')?.selfMs, 6);
  assert.equal(summary.byPackage.find((cost) => cost.name === '(garbage collector)')?.selfMs, 2);
});
