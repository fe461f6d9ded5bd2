import { parentPort } from 'node:worker_threads';
import { type LockRunOptions, runOneLockSeed } from './lock-parallel.js';

if (!parentPort) throw new Error('lock-worker-main must run in a worker thread');
const port = parentPort;
port.on('message', (message: { options: LockRunOptions; seed: number }) => {
  port.postMessage({ outcome: runOneLockSeed(message.options, message.seed) });
});
port.postMessage({ ready: true });
