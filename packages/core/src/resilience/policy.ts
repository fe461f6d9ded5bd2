/** What a policy passes to the operation it runs. */
export interface PolicyContext {
  /** Aborts when the caller, a timeout or a winning hedge no longer needs the result. */
  readonly signal: AbortSignal;
  /** 1 for the first attempt; counts up under the nearest enclosing retry or hedge. */
  readonly attempt: number;
}

/** The work a policy protects. May return a promise, a thenable or a plain value, or throw. */
export type Operation<T> = (context: PolicyContext) => PromiseLike<T> | T;

/**
 * One position in a chain of policies: `invoke` runs the policy at `depth` (or, past the last
 * policy, the operation itself). Composition threads one chain object through every layer
 * instead of allocating a closure per layer per call.
 */
export interface Invoker {
  invoke<T>(operation: Operation<T>, context: PolicyContext, depth: number): Promise<T>;
}

/**
 * A resilience policy: something that runs an operation under a rule (retry, breaker, timeout…).
 * `R` constrains what the operation may return, for policies that inspect results.
 */
export interface Policy<R = unknown> {
  /** Type-level only (never set): carries `R` so `wrap` can combine the constraints of its policies. */
  readonly resultType?: (result: R) => void;
  /**
   * Runs `operation` under this policy.
   *
   * @example
   * const value = await policy.execute(({ signal }) => fetch(url, { signal }));
   */
  execute<T extends R>(operation: Operation<T>, signal?: AbortSignal): Promise<T>;
  /**
   * This policy's rule around `next.invoke(operation, context, depth)`; what `wrap` composes.
   * Call `execute` instead unless you are writing a policy.
   */
  around<T extends R>(
    next: Invoker,
    depth: number,
    operation: Operation<T>,
    context: PolicyContext,
  ): Promise<T>;
}

/** A signal that never aborts, shared by every call that was given none. */
export const neverAbortedSignal: AbortSignal = new AbortController().signal;

const rootContext: PolicyContext = Object.freeze({ signal: neverAbortedSignal, attempt: 1 });

/** The context of a top-level call. Shares one frozen object when no signal is given. */
export function rootContextFor(signal: AbortSignal | undefined): PolicyContext {
  return signal === undefined ? rootContext : { signal, attempt: 1 };
}

/** Calls `operation`, turning a synchronous throw or a plain value into a promise. */
export function callOperation<T>(operation: Operation<T>, context: PolicyContext): Promise<T> {
  try {
    const result = operation(context);
    return result instanceof Promise ? result : Promise.resolve(result);
  } catch (error) {
    return Promise.reject(error);
  }
}

/** The end of every chain: runs the operation itself. */
export const operationInvoker: Invoker = {
  invoke: (operation, context) => callOperation(operation, context),
};
