// Long work on the event loop (a large snapshot) is cut into steps with a turn between them, so
// Raft messages, client requests and timers are served meanwhile.

/** Resolves in the event loop's check phase: after the I/O that was pending (messages, requests). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
