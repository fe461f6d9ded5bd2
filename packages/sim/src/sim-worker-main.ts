import { parentPort } from 'node:worker_threads';
import type { SimulationOptions } from './cluster/run.js';
import { runOneSeed } from './parallel.js';

if (!parentPort) throw new Error('sim-worker-main must run in a worker thread');
const port = parentPort;
port.on('message', (message: { options: Omit<Partial<SimulationOptions>, 'seed'>; seed: number }) => {
  port.postMessage({ outcome: runOneSeed(message.options, message.seed) });
});
port.postMessage({ ready: true });
