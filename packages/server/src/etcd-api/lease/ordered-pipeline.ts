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
  const pending: Promise<Response>[] = [];
  const readerTurn = new Wakeup();
  const senderTurn = new Wakeup();
  let reading = true;
  let stopped = false;

  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    stats.inFlight -= pending.length;
    pending.length = 0;
    readerTurn.wake();
    senderTurn.wake();
  };

  const reader = async (): Promise<void> => {
    try {
      for await (const request of requests) {
        while (pending.length >= inFlightMax && !stopped) await readerTurn.wait();
        if (stopped) return; // leaving the loop ends the request stream's iteration
        const answered = answer(request);
        answered.catch(() => {}); // the sender awaits it; this only keeps a dropped answer quiet
        pending.push(answered);
        stats.inFlight++;
        senderTurn.wake();
      }
    } finally {
      reading = false;
      senderTurn.wake();
    }
  };

  const sender = async (): Promise<void> => {
    for (;;) {
      const next = pending[0];
      if (next === undefined) {
        if (!reading || stopped) return;
        await senderTurn.wait();
        continue;
      }
      const response = await next;
      if (stopped) return;
      await send(response);
      if (stopped) return;
      pending.shift();
      stats.inFlight--;
      readerTurn.wake();
    }
  };

  const aborted = abortion(signal);
  try {
    const failFast = (error: unknown): never => {
      stop();
      throw error;
    };
    await Promise.race([Promise.all([reader().catch(failFast), sender().catch(failFast)]), aborted.promise]);
  } finally {
    stop();
    aborted.dispose();
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
