// Answers a stream of requests concurrently but sends the answers in request order, with a bound
// on answers in flight: the shape of a LeaseKeepAlive stream, where a client may send keep-alives
// for many leases on one stream and expects one answer per request, in order. At the bound the
// pipeline stops reading, so HTTP/2 flow control pushes back on the client.

export interface OrderedPipelineStats {
  /** Requests being answered or waiting to be sent. */
  inFlight: number;
}

export interface OrderedPipelineOptions {
  /** Answers being computed or waiting to be sent; at the bound, reading pauses. */
  readonly inFlightMax: number;
  /** Counters to keep up to date (shared across pipelines for service-wide figures). */
  readonly stats?: OrderedPipelineStats;
  /** Aborting it stops the pipeline at once, dropping pending answers (the call was cancelled). */
  readonly signal?: AbortSignal;
}

/**
 * Runs until `requests` ends and every answer is sent. Rejects with the first failure: of the
 * request stream, of an answer (a GrpcError ends the call), of a send, or `signal`'s abort.
 * After a failure no further requests are read and pending answers are dropped.
 *
 * @example
 * await answerInOrder(requests, (request) => renew(request), (response) => call.send(response), {
 *   inFlightMax: 16,
 *   signal: call.signal,
 * });
 */
export async function answerInOrder<Request, Response>(
  requests: AsyncIterable<Request>,
  answer: (request: Request) => Promise<Response>,
  send: (response: Response) => Promise<void>,
  options: OrderedPipelineOptions,
): Promise<void> {
  const { inFlightMax, stats = { inFlight: 0 }, signal } = options;
  if (!Number.isSafeInteger(inFlightMax) || inFlightMax < 1) {
    throw new RangeError(`inFlightMax must be a positive integer, got ${inFlightMax}`);
  }
  const pipeline = new OrderedPipeline(answer, send, inFlightMax, stats);
  const aborted = abortion(signal);
  try {
    await Promise.race([pipeline.run(requests), aborted.promise]);
  } finally {
    pipeline.stop();
    aborted.dispose();
  }
}

/** A reader that starts answers and a sender that sends them in order, sharing one bounded queue. */
class OrderedPipeline<Request, Response> {
  private readonly answer: (request: Request) => Promise<Response>;
  private readonly send: (response: Response) => Promise<void>;
  private readonly inFlightMax: number;
  private readonly stats: OrderedPipelineStats;
  /** Answers in request order; the head is the next to send. */
  private readonly pending: Promise<Response>[] = [];
  private readonly readerTurn = new Wakeup();
  private readonly senderTurn = new Wakeup();
  private reading = true;
  private stopped = false;

  constructor(
    answer: (request: Request) => Promise<Response>,
    send: (response: Response) => Promise<void>,
    inFlightMax: number,
    stats: OrderedPipelineStats,
  ) {
    this.answer = answer;
    this.send = send;
    this.inFlightMax = inFlightMax;
    this.stats = stats;
  }

  /** Resolves once every request is answered; on the first failure, stops and rejects with it. */
  async run(requests: AsyncIterable<Request>): Promise<void> {
    const failFast = (error: unknown): never => {
      this.stop();
      throw error;
    };
    await Promise.all([this.read(requests).catch(failFast), this.sendInOrder().catch(failFast)]);
  }

  /** Drops pending answers and lets both sides return at their next turn. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.stats.inFlight -= this.pending.length;
    this.pending.length = 0;
    this.readerTurn.wake();
    this.senderTurn.wake();
  }

  private async read(requests: AsyncIterable<Request>): Promise<void> {
    try {
      for await (const request of requests) {
        while (this.pending.length >= this.inFlightMax && !this.stopped) await this.readerTurn.wait();
        if (this.stopped) return; // leaving the loop ends the request stream's iteration
        const answered = this.answer(request);
        answered.catch(() => {}); // the sender awaits it; this only keeps a dropped answer quiet
        this.pending.push(answered);
        this.stats.inFlight++;
        this.senderTurn.wake();
      }
    } finally {
      this.reading = false;
      this.senderTurn.wake();
    }
  }

  private async sendInOrder(): Promise<void> {
    for (;;) {
      const next = this.pending[0];
      if (next === undefined) {
        if (!this.reading || this.stopped) return;
        await this.senderTurn.wait();
        continue;
      }
      const response = await next;
      if (this.stopped) return;
      await this.send(response);
      if (this.stopped) return;
      this.pending.shift();
      this.stats.inFlight--;
      this.readerTurn.wake();
    }
  }
}

/** A promise that rejects with the signal's reason when it aborts (never, without a signal). */
function abortion(signal: AbortSignal | undefined): { promise: Promise<never>; dispose: () => void } {
  let onAbort = (): void => {};
  const promise = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(signal?.reason);
  });
  promise.catch(() => {});
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  return { promise, dispose: () => signal?.removeEventListener('abort', onAbort) };
}

/** One waiter at a time, woken by the other side of the pipeline. */
class Wakeup {
  private resolve: (() => void) | undefined;

  wait(): Promise<void> {
    return new Promise((resolve) => {
      this.resolve = resolve;
    });
  }

  wake(): void {
    const resolve = this.resolve;
    this.resolve = undefined;
    resolve?.();
  }
}
