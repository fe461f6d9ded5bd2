import { type Clock, systemClock } from '../time.js';

/**
 * Where resilience policies read time and wait. Every delay (backoff, timeout, hedge) goes
 * through one of these, so a test can swap in {@link ManualScheduler} and run deterministically.
 */
export interface Scheduler extends Clock {
  /**
   * Resolves after `delayMs` milliseconds. If `signal` aborts first (or already has),
   * rejects with `signal.reason` and releases the timer.
   */
  sleep(delayMs: number, signal?: AbortSignal): Promise<void>;
}

/**
 * The default scheduler: {@link systemClock} and the runtime's own timers.
 *
 * @example
 * await realScheduler.sleep(50); // about 50 ms later
 */
export const realScheduler: Scheduler = {
  now: () => systemClock.now(),
  sleep(delayMs: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, delayMs);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
};
