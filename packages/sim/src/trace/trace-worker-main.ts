// Runs the traced simulation described by workerData and posts its trace back as JSON text
// (one string crosses the thread boundary faster than a hundred thousand small objects).
import { parentPort, workerData } from 'node:worker_threads';
import type { SimulationOptions } from '../cluster/run.js';
import { traceSimulation } from './traced-run.js';

if (!parentPort) throw new Error('trace-worker-main must run in a worker thread');
try {
  const trace = traceSimulation(workerData as Partial<SimulationOptions> & { seed: number });
  parentPort.postMessage({ json: JSON.stringify(trace) });
} catch (error) {
  parentPort.postMessage({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
}
