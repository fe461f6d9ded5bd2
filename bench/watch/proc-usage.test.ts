import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readUsage, summarise } from './proc-usage.js';

test('the bench reads its own process: CPU seconds grow with work, RSS is plausible', () => {
  const before = readUsage(process.pid);
  assert.ok(before, 'this test needs Linux /proc');
  // Spin until the kernel has charged 100 ms of CPU to us (however busy the machine is).
  const start = process.cpuUsage();
  while (sumMicros(process.cpuUsage(start)) < 100_000);
  const after = readUsage(process.pid)!;
  // /proc counts in 10 ms ticks: allow two ticks of rounding.
  assert.ok(after.cpuSeconds - before.cpuSeconds >= 0.08, `${after.cpuSeconds - before.cpuSeconds} s`);
  assert.ok(after.rssBytes > 10 * 1024 * 1024 && after.rssBytes < 16 * 1024 ** 3);
  assert.ok(after.runQueueWaitSeconds >= before.runQueueWaitSeconds, 'run-queue wait never decreases');
});

function sumMicros(usage: NodeJS.CpuUsage): number {
  return usage.user + usage.system;
}

test('a process that is gone reads as undefined', () => {
  assert.equal(readUsage(2 ** 30), undefined);
});

test('CPU is the whole window’s average; the max is the busiest interval', () => {
  const summary = summarise([
    { atMs: 0, cpuSeconds: 10, runQueueWaitSeconds: 1, rssBytes: 100 },
    { atMs: 1000, cpuSeconds: 10.5, runQueueWaitSeconds: 1.5, rssBytes: 300 },
    { atMs: 2000, cpuSeconds: 12, runQueueWaitSeconds: 2, rssBytes: 200 },
  ])!;
  assert.equal(summary.cpuPercent, 100);
  assert.equal(summary.cpuPercentMax, 150);
  assert.equal(summary.runQueueWaitPercent, 50);
  assert.equal(summary.rssBytesMax, 300);
  assert.equal(summary.rssBytesLast, 200);
  assert.equal(summarise([{ atMs: 0, cpuSeconds: 1, runQueueWaitSeconds: 0, rssBytes: 1 }]), undefined);
});
