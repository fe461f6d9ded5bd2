// Long work on the event loop (a large snapshot) is cut into steps with a turn between them, so
// Raft messages, client requests and timers are served meanwhile.

/** Resolves in the event loop's check phase: after the I/O that was pending (messages, requests). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Work done a bounded step at a time, which what runs between steps can make stale. */
export interface SteppedBuild<T> {
  /** Does a bounded piece of the work; true once it is complete. */
  step(): boolean;
  /** True when what ran between steps made the work impossible to finish (start again). */
  readonly stale: boolean;
  /** The result, once step() returned true. */
  finish(): T;
}

/**
 * Steps `build` to the end, one step per event-loop turn. Undefined when it went stale, or when
 * `abandoned()` (asked after every turn) says its result is no longer wanted.
 */
export async function buildInTurns<T>(
  build: SteppedBuild<T>,
  abandoned: () => boolean,
): Promise<T | undefined> {
  while (!build.step()) {
    await nextTurn();
    if (build.stale || abandoned()) return undefined;
  }
  return build.finish();
}
