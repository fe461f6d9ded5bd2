// Browser-safe concurrency primitives. The worker_threads pool lives in `node.ts`.
export { Channel } from './channel.js';
export {
  ClosedError,
  ConcurrencyError,
  ConcurrencyErrorCode,
  QueueFullError,
  WorkerFailedError,
} from './errors.js';
export { FifoQueue } from './fifo-queue.js';
export { Pipeline, type PipelineOptions, type StageOptions, type Transform } from './pipeline.js';
export { Semaphore, type SemaphoreOptions } from './semaphore.js';
export { SingleFlight } from './single-flight.js';
export {
  type Submission,
  type Task,
  type WhenFull,
  WorkerPool,
  type WorkerPoolOptions,
} from './worker-pool.js';
