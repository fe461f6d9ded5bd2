/**
 * The errors a resilience policy raises itself. Each has a stable `code` so callers and
 * protocol front-ends can map it without `instanceof` across package copies.
 */

/** Codes of the errors raised by resilience policies. */
export const ResilienceErrorCode = {
  circuitOpen: 'CIRCUIT_OPEN',
  bulkheadRejected: 'BULKHEAD_REJECTED',
  timeout: 'TIMEOUT',
  attemptSuperseded: 'ATTEMPT_SUPERSEDED',
} as const;
export type ResilienceErrorCode = (typeof ResilienceErrorCode)[keyof typeof ResilienceErrorCode];

/** Base class of every error a resilience policy raises. */
export abstract class ResilienceError extends Error {
  abstract readonly code: ResilienceErrorCode;
}

/** The circuit breaker is open (or half-open with all probe slots taken) and refused the call. */
export class BrokenCircuitError extends ResilienceError {
  readonly code = ResilienceErrorCode.circuitOpen;
  /** How long until the breaker will let a probe through, in milliseconds (0 if half-open). */
  readonly retryAfterMs: number;

  constructor(retryAfterMs: number) {
    super(
      `Circuit breaker is open: the downstream failed too often. Calls are refused for another ${Math.ceil(retryAfterMs)} ms; retry later or use a fallback.`,
    );
    this.name = 'BrokenCircuitError';
    this.retryAfterMs = retryAfterMs;
  }
}

/** The bulkhead had every execution slot busy and its queue full. */
export class BulkheadRejectedError extends ResilienceError {
  readonly code = ResilienceErrorCode.bulkheadRejected;
  readonly maxConcurrent: number;
  readonly maxQueueLength: number;

  constructor(maxConcurrent: number, maxQueueLength: number) {
    super(
      `Bulkhead is full (${maxConcurrent} running, ${maxQueueLength} queued). Shed this call, retry with backoff, or raise maxConcurrent/maxQueueLength.`,
    );
    this.name = 'BulkheadRejectedError';
    this.maxConcurrent = maxConcurrent;
    this.maxQueueLength = maxQueueLength;
  }
}

/** The operation did not finish within its time limit. */
export class TimeoutError extends ResilienceError {
  readonly code = ResilienceErrorCode.timeout;
  readonly durationMs: number;

  constructor(durationMs: number, options?: { cause?: unknown }) {
    super(
      `Operation timed out after ${durationMs} ms. Raise the timeout if the work is legitimately slow, or check the downstream.`,
      options,
    );
    this.name = 'TimeoutError';
    this.durationMs = durationMs;
  }
}

/** The abort reason given to a hedged attempt that lost the race to another attempt. */
export class AttemptSupersededError extends ResilienceError {
  readonly code = ResilienceErrorCode.attemptSuperseded;

  constructor() {
    super('Another hedged attempt finished first; this one is no longer needed.');
    this.name = 'AttemptSupersededError';
  }
}
