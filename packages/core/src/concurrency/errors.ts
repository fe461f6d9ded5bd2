/** Codes of the errors raised by concurrency primitives, stable for mapping and logging. */
export const ConcurrencyErrorCode = {
  queueFull: 'QUEUE_FULL',
  closed: 'CLOSED',
  workerFailed: 'WORKER_FAILED',
} as const;
export type ConcurrencyErrorCode = (typeof ConcurrencyErrorCode)[keyof typeof ConcurrencyErrorCode];

/** Base class of every error a concurrency primitive raises. */
export abstract class ConcurrencyError extends Error {
  abstract readonly code: ConcurrencyErrorCode;
}

/** A bounded queue (pool, semaphore) had no room and was configured to refuse rather than wait. */
export class QueueFullError extends ConcurrencyError {
  readonly code = ConcurrencyErrorCode.queueFull;
  readonly maxQueueLength: number;

  constructor(what: string, maxQueueLength: number) {
    super(
      `${what} queue is full (${maxQueueLength} waiting). Slow the producer down (await submit), or raise maxQueueLength.`,
    );
    this.name = 'QueueFullError';
    this.maxQueueLength = maxQueueLength;
  }
}

/** The pool, channel or thread pool was closed and accepts no more work. */
export class ClosedError extends ConcurrencyError {
  readonly code = ConcurrencyErrorCode.closed;

  constructor(what: string) {
    super(`${what} is closed and accepts no more work.`);
    this.name = 'ClosedError';
  }
}

/** A worker thread died (crashed, exited or was terminated) while running a task. */
export class WorkerFailedError extends ConcurrencyError {
  readonly code = ConcurrencyErrorCode.workerFailed;

  constructor(reason: string, options?: { cause?: unknown }) {
    super(
      `Worker thread failed: ${reason}. The task did not complete; the pool replaced the worker.`,
      options,
    );
    this.name = 'WorkerFailedError';
  }
}
