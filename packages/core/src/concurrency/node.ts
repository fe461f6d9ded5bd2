// Node-only entry of the concurrency module: worker_threads. Import from here, not from
// `index.ts`, which stays free of Node built-ins so it runs in browsers.
export { ThreadPool, type ThreadPoolOptions, type ThreadTaskOptions } from './thread-pool.js';
export { serveThreadTasks } from './thread-worker.js';
