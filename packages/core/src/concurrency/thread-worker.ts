import { parentPort } from 'node:worker_threads';
import { serializeError, type TaskReply, type TaskRequest } from './thread-protocol.js';

/**
 * Serves a {@link ThreadPool}'s tasks inside a worker thread: call it once at the top of the
 * worker script with the function that does the work. Tasks run one at a time per worker;
 * a thrown error is sent back and rejects that task (the worker keeps serving).
 *
 * @example
 * // hash-worker.ts
 * import { createHash } from 'node:crypto';
 * import { serveThreadTasks } from '@synod/core/concurrency/node';
 * serveThreadTasks((data: Uint8Array) => createHash('sha256').update(data).digest('hex'));
 */
export function serveThreadTasks<Input, Output>(handler: (input: Input) => Output | Promise<Output>): void {
  const port = parentPort;
  if (port === null)
    throw new Error('serveThreadTasks must be called inside a worker thread started by a ThreadPool.');
  port.on('message', async (request: TaskRequest<Input>) => {
    let reply: TaskReply<Output>;
    try {
      reply = { taskId: request.taskId, ok: true, output: await handler(request.input) };
    } catch (error) {
      reply = { taskId: request.taskId, ok: false, error: serializeError(error) };
    }
    port.postMessage(reply);
  });
}
