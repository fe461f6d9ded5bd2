// The worker script of thread-pool.test.ts: one handler with a few behaviours to exercise the pool.
import { threadId } from 'node:worker_threads';
import { serveThreadTasks } from './thread-worker.js';

export type FixtureTask =
  | { readonly kind: 'square'; readonly value: number }
  | { readonly kind: 'fail'; readonly message: string }
  | { readonly kind: 'crash' }
  | { readonly kind: 'spin'; readonly maxMs: number }
  | { readonly kind: 'sum-bytes'; readonly bytes: Uint8Array };

serveThreadTasks((task: FixtureTask): number => {
  switch (task.kind) {
    case 'square':
      return task.value * task.value;
    case 'fail':
      throw new RangeError(task.message);
    case 'crash':
      process.exit(3);
      return -1;
    case 'spin': {
      // CPU-bound and deaf to messages: only terminating the thread stops it early.
      const until = Date.now() + task.maxMs;
      while (Date.now() < until) {}
      return threadId;
    }
    case 'sum-bytes':
      return task.bytes.reduce((sum, byte) => sum + byte, 0);
  }
});
