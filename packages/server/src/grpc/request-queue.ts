// The requests of a client-streaming or bidirectional call, handed to the handler as an
// AsyncIterable. Bounded: when the handler falls behind, the queue asks its producer to pause
// reading the HTTP/2 stream, so flow control pushes back on the client instead of memory growing.

/**
 * Requests buffered per call before reading pauses. The buffer can exceed this by the messages of
 * the one DATA chunk being split when it fills, which HTTP/2 flow control bounds in turn.
 */
export const REQUEST_QUEUE_HIGH_WATER_MESSAGES = 64;
/** Reading resumes once the handler has drained the buffer to this many. */
export const REQUEST_QUEUE_LOW_WATER_MESSAGES = 16;

/** Taken items kept before the backing array is compacted (a consumer that never quite catches up). */
const COMPACT_AFTER_TAKEN_ITEMS = 1024;

export interface RequestQueueFlow {
  pause(): void;
  resume(): void;
}

interface Waiter<T> {
  readonly resolve: (result: IteratorResult<T>) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * A single-consumer queue of decoded requests.
 *
 * @example
 * const queue = new RequestQueue<Req>({ pause: () => stream.pause(), resume: () => stream.resume() });
 * queue.push(request); queue.end();
 * for await (const request of queue) handle(request);
 */
export class RequestQueue<T> implements AsyncIterable<T> {
  private readonly flow: RequestQueueFlow;
  private items: T[] = [];
  private head = 0;
  private ended = false;
  private failure: { readonly error: unknown } | undefined;
  private waiter: Waiter<T> | undefined;
  private paused = false;
  private iterated = false;

  constructor(flow: RequestQueueFlow) {
    this.flow = flow;
  }

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    if (this.ended || this.failure !== undefined) return;
    const waiter = this.waiter;
    if (waiter !== undefined) {
      this.waiter = undefined;
      waiter.resolve({ value: item, done: false });
      return;
    }
    this.items.push(item);
    if (!this.paused && this.length >= REQUEST_QUEUE_HIGH_WATER_MESSAGES) {
      this.paused = true;
      this.flow.pause();
    }
  }

  /** The client half-closed: the iteration ends after the buffered requests. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.settleWaiter();
  }

  /** The call failed: the iteration throws `error` (buffered requests are dropped). */
  fail(error: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = { error };
    this.items = [];
    this.head = 0;
    this.settleWaiter();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.failure !== undefined) return Promise.reject(this.failure.error);
    if (this.length > 0) return Promise.resolve({ value: this.take(), done: false });
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    if (this.waiter !== undefined)
      throw new Error('RequestQueue has a single consumer: await next() before calling it again');
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.iterated) throw new Error('the requests of a call can be iterated only once');
    this.iterated = true;
    return {
      next: () => this.next(),
      return: (): Promise<IteratorResult<T>> => {
        // The handler stopped reading early (break): drop what is buffered, keep the flow going.
        this.end();
        this.items = [];
        this.head = 0;
        this.resumeIfPaused();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  private take(): T {
    const item = this.items[this.head] as T;
    this.head++;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= COMPACT_AFTER_TAKEN_ITEMS) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    if (this.length <= REQUEST_QUEUE_LOW_WATER_MESSAGES) this.resumeIfPaused();
    return item;
  }

  private resumeIfPaused(): void {
    if (!this.paused) return;
    this.paused = false;
    this.flow.resume();
  }

  private settleWaiter(): void {
    const waiter = this.waiter;
    if (waiter === undefined) return;
    this.waiter = undefined;
    if (this.failure !== undefined) waiter.reject(this.failure.error);
    else waiter.resolve({ value: undefined, done: true });
  }
}
