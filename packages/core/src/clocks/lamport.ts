/**
 * Lamport clock (Lamport, "Time, Clocks, and the Ordering of Events", 1978): if event a happened
 * before b then time(a) < time(b). The converse does not hold; vector clocks capture that.
 */

/**
 * @example
 * const clock = new LamportClock();
 * const stamp = clock.tick(); // 1: a local event or a send
 * clock.receive(7); // 8: max(local, remote) + 1
 */
export class LamportClock {
  #time: number;

  constructor(initialTime = 0) {
    assertTime(initialTime);
    this.#time = initialTime;
  }

  /** The time of the last event, without advancing. */
  get time(): number {
    return this.#time;
  }

  /** Advances for a local event or a send; returns the event's time. */
  tick(): number {
    assertTime(this.#time + 1);
    this.#time += 1;
    return this.#time;
  }

  /** Advances past a received time; returns the receive event's time. */
  receive(remoteTime: number): number {
    assertTime(remoteTime);
    const next = Math.max(this.#time, remoteTime) + 1;
    assertTime(next);
    this.#time = next;
    return next;
  }
}

function assertTime(time: number): void {
  if (!Number.isSafeInteger(time) || time < 0) {
    throw new RangeError(`a Lamport time must be a non-negative safe integer, got ${time}`);
  }
}
