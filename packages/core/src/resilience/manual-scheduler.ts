import type { Scheduler } from './scheduler.js';

interface PendingSleep {
  readonly dueMs: number;
  /** Breaks ties between sleeps due at the same instant: first scheduled, first woken. */
  readonly sequence: number;
  readonly resolve: () => void;
}

/**
 * A scheduler whose time moves only when a test says so. `advance(ms)` wakes every sleeper
 * that falls due, in due order, letting promise callbacks settle after each wake-up, so a
 * test of retries, timeouts or hedging is exact and instant.
 *
 * @example
 * const scheduler = new ManualScheduler();
 * const done = scheduler.sleep(100);
 * await scheduler.advance(100); // `done` has now resolved
 */
export class ManualScheduler implements Scheduler {
  #nowMs: number;
  #sequence = 0;
  #pending: PendingSleep[] = [];

  constructor(startMs = 0) {
    this.#nowMs = startMs;
  }

  now(): number {
    return this.#nowMs;
  }

  /** How many sleeps are waiting to be woken. */
  get pendingCount(): number {
    return this.#pending.length;
  }

  sleep(delayMs: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const entry: PendingSleep = {
        dueMs: this.#nowMs + Math.max(0, delayMs),
        sequence: this.#sequence++,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        this.#pending = this.#pending.filter((pending) => pending !== entry);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.push(entry);
    });
  }

  /** Moves time forward by `deltaMs`, waking due sleepers one at a time in due order. */
  async advance(deltaMs: number): Promise<void> {
    const targetMs = this.#nowMs + deltaMs;
    await settle();
    for (let next = this.#nextDue(targetMs); next !== undefined; next = this.#nextDue(targetMs)) {
      this.#pending = this.#pending.filter((pending) => pending !== next);
      this.#nowMs = next.dueMs;
      next.resolve();
      await settle();
    }
    this.#nowMs = targetMs;
  }

  /** Wakes sleepers until none is left (each wake-up may schedule more; stops after `maxWakeups`). */
  async runAll(maxWakeups = 10_000): Promise<void> {
    for (let wakeups = 0; wakeups < maxWakeups; wakeups++) {
      await settle();
      const next = this.#nextDue(Number.POSITIVE_INFINITY);
      if (next === undefined) return;
      await this.advance(next.dueMs - this.#nowMs);
    }
    throw new Error(
      `ManualScheduler.runAll: still ${this.#pending.length} sleeps after ${maxWakeups} wake-ups`,
    );
  }

  #nextDue(limitMs: number): PendingSleep | undefined {
    let earliest: PendingSleep | undefined;
    for (const pending of this.#pending) {
      if (pending.dueMs > limitMs) continue;
      if (
        earliest === undefined ||
        pending.dueMs < earliest.dueMs ||
        (pending.dueMs === earliest.dueMs && pending.sequence < earliest.sequence)
      ) {
        earliest = pending;
      }
    }
    return earliest;
  }
}

/**
 * Lets every queued promise callback run. A macrotask boundary is the one point at which the
 * microtask queue is known to be empty, whatever the depth of the promise chains involved.
 */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
