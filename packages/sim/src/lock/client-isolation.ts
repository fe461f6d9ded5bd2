// A fault the Raft nemesis has no words for: one client cut off from every cluster member while
// it can still reach the storage service — the lock holder, half of the time. Its keep-alives
// stop arriving, its lease expires, someone else gets the lock, and it may still write.
import type { Prng } from '../engine/prng.js';

export interface IsolationWindow {
  readonly startMs: number;
  readonly endMs: number;
}

export interface ClientIsolationOptions {
  readonly quiesceAtMs: number;
  /** 1 ≈ one isolation every `meanGapMs`; 0 = none. */
  readonly intensity: number;
}

/** Mean calm time between two isolations at intensity 1, as the nemesis's other tracks. */
const MEAN_GAP_MS = 2_000;
const ISOLATION_MIN_MS = 300;
const ISOLATION_MAX_MS = 4_000;
/** Bound on windows per run, whatever the intensity. */
const MAX_WINDOWS = 1_000;

/** Windows of isolation, one at a time, all over by `quiesceAtMs`. */
export function planClientIsolations(random: Prng, options: ClientIsolationOptions): IsolationWindow[] {
  const windows: IsolationWindow[] = [];
  if (!(options.intensity > 0)) return windows;
  const meanGapMs = MEAN_GAP_MS / options.intensity;
  let timeMs = 0;
  while (windows.length < MAX_WINDOWS) {
    const startMs = Math.round(timeMs + random.exponential(meanGapMs));
    if (startMs >= options.quiesceAtMs) break;
    const endMs = Math.min(
      options.quiesceAtMs,
      startMs + Math.round(random.range(ISOLATION_MIN_MS, ISOLATION_MAX_MS)),
    );
    windows.push({ startMs, endMs });
    timeMs = endMs;
  }
  return windows;
}
