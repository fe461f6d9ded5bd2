// A minimal Server-Sent Events reader for tests: parses `event:`/`data:` blocks off a raw HTTP
// response and hands them out in order.
import http from 'node:http';

export interface SseEvent {
  readonly event: string;
  readonly data: string;
}

export interface EventStreamReader {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** The next event; rejects when the stream ends before one arrives or `timeoutMs` passes. */
  next(timeoutMs?: number): Promise<SseEvent>;
  /** Events received and not yet taken. */
  readonly pending: number;
  /** Resolves when the server ended the stream. */
  readonly ended: Promise<void>;
  close(): void;
}

const NEXT_TIMEOUT_MS_DEFAULT = 10_000;

export function openEventStream(url: string): Promise<EventStreamReader> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, (response) => {
      const queue: SseEvent[] = [];
      const waiters: ((event: SseEvent | undefined) => void)[] = [];
      let buffer = '';
      let done = false;
      let markEnded = (): void => {};
      const ended = new Promise<void>((onEnded) => {
        markEnded = onEnded;
      });
      const push = (event: SseEvent | undefined) => {
        const waiter = waiters.shift();
        if (waiter !== undefined) waiter(event);
        else if (event !== undefined) queue.push(event);
      };
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = parseBlock(block);
          if (event !== undefined) push(event);
        }
      });
      const finish = () => {
        done = true;
        markEnded();
        while (waiters.length > 0) push(undefined);
      };
      response.on('end', finish);
      response.on('close', finish);
      resolve({
        status: response.statusCode ?? 0,
        headers: response.headers,
        get pending() {
          return queue.length;
        },
        ended,
        next(timeoutMs = NEXT_TIMEOUT_MS_DEFAULT) {
          const queued = queue.shift();
          if (queued !== undefined) return Promise.resolve(queued);
          if (done) return Promise.reject(new Error('the event stream ended'));
          return new Promise((onEvent, onFailure) => {
            const timer = setTimeout(
              () => onFailure(new Error(`no event within ${timeoutMs} ms`)),
              timeoutMs,
            );
            waiters.push((event) => {
              clearTimeout(timer);
              if (event === undefined) onFailure(new Error('the event stream ended'));
              else onEvent(event);
            });
          });
        },
        close() {
          request.destroy();
        },
      });
    });
    request.on('error', reject);
  });
}

/** One event block; comment-only blocks (`: keepalive`) yield nothing. */
function parseBlock(block: string): SseEvent | undefined {
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event: ')) event = line.slice('event: '.length);
    else if (line.startsWith('data: ')) data.push(line.slice('data: '.length));
  }
  return data.length === 0 ? undefined : { event, data: data.join('\n') };
}
