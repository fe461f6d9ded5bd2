import { ClosedError } from './errors.js';
import { FifoQueue } from './fifo-queue.js';

interface PendingSend<T> {
  readonly item: T;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

interface PendingReceive<T> {
  readonly resolve: (result: IteratorResult<T, undefined>) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * A bounded asynchronous channel: `send` waits while `capacity` items are buffered (back-pressure),
 * `receive` waits while none are. Capacity 0 makes every send wait for a receiver (a rendezvous).
 * `close()` lets receivers drain what is buffered; `fail(error)` stops everyone at once.
 *
 * @example
 * const jobs = new Channel<Job>(16);
 * void producer(jobs); // await jobs.send(job) …; jobs.close()
 * for await (const job of jobs) await handle(job);
 */
export class Channel<T> implements AsyncIterable<T> {
  readonly capacity: number;
  readonly #buffer = new FifoQueue<T>();
  readonly #senders = new FifoQueue<PendingSend<T>>();
  readonly #receivers = new FifoQueue<PendingReceive<T>>();
  #closed = false;
  #failure: { readonly error: unknown } | undefined;

  constructor(capacity: number) {
    if (!(Number.isInteger(capacity) && capacity >= 0)) {
      throw new RangeError(`Channel: capacity must be an integer ≥ 0 (got ${capacity})`);
    }
    this.capacity = capacity;
  }

  /** Items buffered now. */
  get length(): number {
    return this.#buffer.length;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Delivers `item`, waiting for room. Rejects with {@link ClosedError} once the channel is closed. */
  send(item: T): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure.error);
    if (this.#closed) return Promise.reject(new ClosedError('Channel'));
    const receiver = this.#receivers.shift();
    if (receiver !== undefined) {
      receiver.resolve({ done: false, value: item });
      return Promise.resolve();
    }
    if (this.#buffer.length < this.capacity) {
      this.#buffer.push(item);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => this.#senders.push({ item, resolve, reject }));
  }

  /** The next item, or `{ done: true }` once the channel is closed and drained. */
  receive(): Promise<IteratorResult<T, undefined>> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure.error);
    if (this.#buffer.length > 0) {
      const item = this.#buffer.shift() as T;
      this.#admitOneSender();
      return Promise.resolve({ done: false, value: item });
    }
    const sender = this.#senders.shift();
    if (sender !== undefined) {
      sender.resolve();
      return Promise.resolve({ done: false, value: sender.item });
    }
    if (this.#closed) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => this.#receivers.push({ resolve, reject }));
  }

  /** No more sends; buffered items are still received. Waiting senders are refused. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const sender of this.#senders.drain()) sender.reject(new ClosedError('Channel'));
    for (const receiver of this.#receivers.drain()) receiver.resolve({ done: true, value: undefined });
  }

  /** Closes the channel with an error every waiting and later sender and receiver gets. */
  fail(error: unknown): void {
    if (this.#failure !== undefined) return;
    this.#failure = { error };
    this.#closed = true;
    this.#buffer.drain();
    for (const sender of this.#senders.drain()) sender.reject(error);
    for (const receiver of this.#receivers.drain()) receiver.reject(error);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (let next = await this.receive(); !next.done; next = await this.receive()) yield next.value;
  }

  #admitOneSender(): void {
    const sender = this.#senders.shift();
    if (sender === undefined) return;
    this.#buffer.push(sender.item);
    sender.resolve();
  }
}
