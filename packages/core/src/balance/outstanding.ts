/**
 * Requests in flight per endpoint: picked and not yet reported or released. The load signal of
 * least-outstanding, power-of-two-choices and peak-EWMA balancing.
 */
export class OutstandingRequests<Endpoint> {
  readonly #counts = new Map<Endpoint, number>();

  count(endpoint: Endpoint): number {
    return this.#counts.get(endpoint) ?? 0;
  }

  start(endpoint: Endpoint): void {
    this.#counts.set(endpoint, this.count(endpoint) + 1);
  }

  /** Ends one request; a report for a request never picked is ignored rather than going negative. */
  finish(endpoint: Endpoint): void {
    const count = this.count(endpoint);
    if (count > 0) this.#counts.set(endpoint, count - 1);
  }
}
