/**
 * Virtual time for the simulator: a priority queue of callbacks ordered by (time, insertion
 * sequence). Nothing here reads a real clock; time jumps straight to the next event, so a
 * simulated minute costs only the work its events do.
 */

/** Identifies a scheduled event for `cancel`. Ids are never reused within one loop. */
export type TimerId = number;

/** What the optional observer sees just before each event runs. */
export interface ExecutedEvent {
  readonly id: TimerId;
  readonly atMs: number;
  readonly label: string | undefined;
}

export interface EventLoopOptions {
  /** Pending-event ceiling; exceeding it throws, because a runaway producer is a bug. */
  readonly maxPendingEvents?: number;
  /** Called before each event runs, e.g. to record a trace. */
  readonly onEvent?: (event: ExecutedEvent) => void;
}

/** Why `runWhile` returned. */
export type RunWhileOutcome = 'predicate-false' | 'queue-empty' | 'max-events';

export interface RunWhileResult {
  readonly outcome: RunWhileOutcome;
  readonly eventsExecuted: number;
}

/** Default pending-event ceiling: far above any sane cluster, low enough to stop a leak early. */
export const defaultMaxPendingEvents = 1_000_000;
/** Default bound on the events one `runUntil` may execute (catches zero-delay loops). */
export const defaultMaxEventsPerRun = 50_000_000;

interface ScheduledEvent {
  readonly id: TimerId;
  readonly atMs: number;
  readonly callback: () => void;
  readonly label: string | undefined;
  heapIndex: number;
}

/** Strict (time, sequence) order; ids grow with insertion, so equal times run first-in first-out. */
function runsBefore(left: ScheduledEvent, right: ScheduledEvent): boolean {
  return left.atMs < right.atMs || (left.atMs === right.atMs && left.id < right.id);
}

/**
 * A deterministic discrete-event loop on virtual milliseconds.
 *
 * @example
 * const loop = new EventLoop();
 * loop.schedule(10, () => console.log('tick at', loop.now), 'tick'); // prints "tick at 10"
 * loop.runUntil(100);
 */
export class EventLoop {
  private executedCount = 0;
  private nowMs = 0;
  private nextId = 1;
  private readonly heap: ScheduledEvent[] = [];
  private readonly byId = new Map<TimerId, ScheduledEvent>();
  private readonly maxPendingEvents: number;
  private readonly onEvent: ((event: ExecutedEvent) => void) | undefined;

  constructor(options: EventLoopOptions = {}) {
    this.maxPendingEvents = options.maxPendingEvents ?? defaultMaxPendingEvents;
    if (!(Number.isInteger(this.maxPendingEvents) && this.maxPendingEvents > 0)) {
      throw new RangeError(`maxPendingEvents must be a positive integer, got ${this.maxPendingEvents}`);
    }
    this.onEvent = options.onEvent;
  }

  /** Current virtual time in ms. Advances only when an event runs or `runUntil` reaches its end. */
  get now(): number {
    return this.nowMs;
  }

  /** Events executed since construction. */
  get eventsExecuted(): number {
    return this.executedCount;
  }

  /** Events scheduled and not yet run or cancelled. */
  get pendingEvents(): number {
    return this.heap.length;
  }

  /** Time of the next event, or `undefined` when the queue is empty. */
  nextEventAtMs(): number | undefined {
    return this.heap[0]?.atMs;
  }

  /** Runs `callback` `delayMs` from now (0 allowed: after everything already due at this time). */
  schedule(delayMs: number, callback: () => void, label?: string): TimerId {
    if (!(delayMs >= 0 && Number.isFinite(delayMs))) {
      throw new RangeError(`schedule needs a finite delay ≥ 0 ms, got ${delayMs} (${label ?? 'unlabelled'})`);
    }
    return this.scheduleAt(this.nowMs + delayMs, callback, label);
  }

  /** Runs `callback` at absolute virtual time `timeMs` (not in the past). */
  scheduleAt(timeMs: number, callback: () => void, label?: string): TimerId {
    if (!(timeMs >= this.nowMs && Number.isFinite(timeMs))) {
      throw new RangeError(
        `scheduleAt(${timeMs}) is in the past or not finite; now is ${this.nowMs} ms (${label ?? 'unlabelled'})`,
      );
    }
    if (this.heap.length >= this.maxPendingEvents) {
      throw new Error(
        `EventLoop: ${this.heap.length} events pending at t=${this.nowMs} ms (maxPendingEvents). ` +
          `Something schedules without bound — a timer re-armed without cancelling the old one, or ` +
          `a message storm. Last label: ${label ?? 'unlabelled'}.`,
      );
    }
    const event: ScheduledEvent = { id: this.nextId++, atMs: timeMs, callback, label, heapIndex: -1 };
    this.byId.set(event.id, event);
    this.heap.push(event);
    event.heapIndex = this.heap.length - 1;
    this.siftUp(event.heapIndex);
    return event.id;
  }

  /** Removes a pending event. Returns false if it already ran, was cancelled, or never existed. */
  cancel(id: TimerId): boolean {
    const event = this.byId.get(id);
    if (event === undefined) return false;
    this.removeAt(event.heapIndex);
    return true;
  }

  /** Runs the next event (advancing time to it). Returns false when the queue is empty. */
  step(): boolean {
    const event = this.heap[0];
    if (event === undefined) return false;
    this.removeAt(0);
    this.nowMs = event.atMs;
    this.executedCount++;
    this.onEvent?.({ id: event.id, atMs: event.atMs, label: event.label });
    event.callback();
    return true;
  }

  /**
   * Runs every event due at or before `timeMs`, then sets the time to `timeMs`.
   * Returns the number of events run; throws after `maxEvents` (a zero-delay loop is a bug).
   */
  runUntil(timeMs: number, maxEvents = defaultMaxEventsPerRun): number {
    if (!(timeMs >= this.nowMs)) {
      throw new RangeError(`runUntil(${timeMs}) is in the past; now is ${this.nowMs} ms`);
    }
    let executed = 0;
    for (let next = this.heap[0]; next !== undefined && next.atMs <= timeMs; next = this.heap[0]) {
      if (executed >= maxEvents) {
        throw new Error(
          `EventLoop.runUntil(${timeMs}) ran ${executed} events and reached only t=${this.nowMs} ms; ` +
            `something reschedules itself without advancing time (last: ${next.label ?? 'unlabelled'}).`,
        );
      }
      this.step();
      executed++;
    }
    this.nowMs = timeMs;
    return executed;
  }

  /** Runs events while `predicate()` holds, at most `maxEvents` of them. */
  runWhile(predicate: () => boolean, maxEvents: number): RunWhileResult {
    let eventsExecuted = 0;
    while (eventsExecuted < maxEvents) {
      if (!predicate()) return { outcome: 'predicate-false', eventsExecuted };
      if (!this.step()) return { outcome: 'queue-empty', eventsExecuted };
      eventsExecuted++;
    }
    return { outcome: predicate() ? 'max-events' : 'predicate-false', eventsExecuted };
  }

  private removeAt(index: number): void {
    const removed = this.heap[index] as ScheduledEvent;
    const last = this.heap.pop() as ScheduledEvent;
    this.byId.delete(removed.id);
    removed.heapIndex = -1;
    if (last === removed) return;
    this.heap[index] = last;
    last.heapIndex = index;
    // The moved element may belong above or below its new slot.
    this.siftUp(index);
    this.siftDown(last.heapIndex);
  }

  private siftUp(index: number): void {
    const event = this.heap[index] as ScheduledEvent;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = this.heap[parentIndex] as ScheduledEvent;
      if (!runsBefore(event, parent)) break;
      this.heap[index] = parent;
      parent.heapIndex = index;
      index = parentIndex;
    }
    this.heap[index] = event;
    event.heapIndex = index;
  }

  private siftDown(index: number): void {
    const event = this.heap[index] as ScheduledEvent;
    const length = this.heap.length;
    for (;;) {
      const leftIndex = 2 * index + 1;
      if (leftIndex >= length) break;
      const rightIndex = leftIndex + 1;
      let childIndex = leftIndex;
      const right = this.heap[rightIndex];
      if (right !== undefined && runsBefore(right, this.heap[leftIndex] as ScheduledEvent)) {
        childIndex = rightIndex;
      }
      const child = this.heap[childIndex] as ScheduledEvent;
      if (!runsBefore(child, event)) break;
      this.heap[index] = child;
      child.heapIndex = index;
      index = childIndex;
    }
    this.heap[index] = event;
    event.heapIndex = index;
  }
}
