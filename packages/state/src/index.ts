// @synod/state: pure replicated state machines, applied from committed log entries.

export * from './auth/index.js';
export * from './cluster/index.js';
export * from './lease/index.js';
export * from './mvcc/index.js';
