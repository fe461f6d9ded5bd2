// The fan-out check, per watcher: each event's mod_revision must be above the watcher's previous
// one (a repeat or a reorder breaks this), and once the writer is done each watcher must hold
// exactly as many events as there were acknowledged puts. Since the writer is the only writer
// under the prefix, rising revisions plus the right count mean every put arrived once, in order.

export class WatchLedger {
  readonly watchers: number;
  /** Per watcher: the last mod_revision seen and the events received. */
  private readonly lastRevision: Float64Array;
  private readonly events: Float64Array;
  private expected: number | undefined;
  private completeWatchers = 0;
  delivered = 0;
  orderViolations = 0;

  constructor(watchers: number) {
    if (!Number.isSafeInteger(watchers) || watchers <= 0) throw new RangeError(`watchers: ${watchers}`);
    this.watchers = watchers;
    this.lastRevision = new Float64Array(watchers);
    this.events = new Float64Array(watchers);
  }

  /** Counts one event for `watcher`; true when that makes every watcher complete. */
  record(watcher: number, modRevision: number): boolean {
    if (!(watcher >= 0 && watcher < this.watchers)) throw new RangeError(`watcher ${watcher}`);
    if (modRevision <= this.lastRevision[watcher]!) this.orderViolations++;
    else this.lastRevision[watcher] = modRevision;
    this.delivered++;
    const events = ++this.events[watcher]!;
    if (events === this.expected) this.completeWatchers++;
    else if (this.expected !== undefined && events === this.expected + 1) this.completeWatchers--;
    return events === this.expected && this.completeWatchers === this.watchers;
  }

  /** Sets the events due to each watcher; true when every watcher already has them. */
  expect(events: number): boolean {
    this.expected = events;
    this.completeWatchers = 0;
    for (const count of this.events) if (count === events) this.completeWatchers++;
    return this.completeWatchers === this.watchers;
  }

  /** Watchers holding exactly the expected count (none before expect()). */
  get complete(): number {
    return this.expected === undefined ? 0 : this.completeWatchers;
  }

  /** The verdict: every watcher has exactly the expected events, and none came out of order or twice. */
  exactlyOnceInOrder(): boolean {
    return this.complete === this.watchers && this.orderViolations === 0;
  }

  get eventsPerWatcherMin(): number {
    let min = Number.POSITIVE_INFINITY;
    for (const count of this.events) min = Math.min(min, count);
    return min;
  }

  get eventsPerWatcherMax(): number {
    let max = 0;
    for (const count of this.events) max = Math.max(max, count);
    return max;
  }
}
