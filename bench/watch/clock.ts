// One clock for every thread of the bench: the writer stamps a put with it, the watcher threads
// read it on arrival. process.hrtime is CLOCK_MONOTONIC, shared by all threads and processes of
// the machine (performance.now() is not: each worker thread has its own time origin).

/** Milliseconds on the machine's monotonic clock, with sub-microsecond resolution. */
export function monotonicMs(): number {
  const [seconds, nanoseconds] = process.hrtime();
  return seconds * 1e3 + nanoseconds / 1e6;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
