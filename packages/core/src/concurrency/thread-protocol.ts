/** Messages between a {@link ThreadPool} and its workers (structured-cloned over `postMessage`). */

export interface TaskRequest<Input> {
  readonly taskId: number;
  readonly input: Input;
}

/** An error as it crosses the thread boundary: enough to rebuild a useful `Error`. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
}

export type TaskReply<Output> =
  | { readonly taskId: number; readonly ok: true; readonly output: Output }
  | { readonly taskId: number; readonly ok: false; readonly error: SerializedError };

export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { name: 'Error', message: String(error), stack: undefined };
}

export function deserializeError(serialized: SerializedError): Error {
  const error = new Error(serialized.message);
  error.name = serialized.name;
  if (serialized.stack !== undefined) error.stack = serialized.stack;
  return error;
}
