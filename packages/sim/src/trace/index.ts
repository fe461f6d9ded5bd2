// Structured traces of simulator runs, for the dashboard's replay view and `npm run sim -- --out`.
export type { NodeCrash, NodeStart, SimProbe } from './probe.js';
export * from './sim-trace.js';
export { describeEntry, partitionGroups, TraceRecorder } from './trace-recorder.js';
export * from './traced-run.js';
