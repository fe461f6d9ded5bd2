// Timers on a node's or client's own clock: "in 500 ms of my clock" fires when that clock reads
// the target, however it drifts or is stepped meanwhile (a stepped-back clock stands still).
import type { SimClock } from '../engine/clock.js';
import type { EventLoop } from '../engine/event-loop.js';

/** Shortest virtual wait between two looks at a clock that has not reached its target yet. */
const RECHECK_MIN_MS = 1;

/** Runs `callback` once `clock` has advanced by `localDelayMs` from now. */
export function afterLocalMs(
  loop: EventLoop,
  clock: SimClock,
  localDelayMs: number,
  callback: () => void,
): void {
  const targetMs = clock.now() + localDelayMs;
  const wait = (): void => {
    const remainingMs = targetMs - clock.now();
    if (remainingMs <= 0) {
      callback();
      return;
    }
    // A fast clock covers the distance in less virtual time.
    loop.schedule(Math.max(RECHECK_MIN_MS, remainingMs / (1 + clock.driftPpm / 1e6)), wait);
  };
  wait();
}
