import {
  type Invoker,
  type Operation,
  operationInvoker,
  type Policy,
  type PolicyContext,
  rootContextFor,
} from './policy.js';

/** The result type `R` a policy accepts (`unknown` if it inspects none). */
export type PolicyResult<P> = P extends { readonly resultType?: (result: infer R) => void } ? R : unknown;

/** The intersection of the result constraints of every policy in a list. */
export type CombinedResult<Policies extends readonly unknown[]> = Policies extends readonly [
  infer Head,
  ...infer Rest,
]
  ? PolicyResult<Head> & CombinedResult<Rest>
  : unknown;

/** Policies as a chain stores them: the result constraint was already checked by `wrap`'s signature. */
type StoredPolicy = Policy<unknown>;

/**
 * Walks a list of policies: position `depth` is `policies[depth]`, and past the end the walk
 * continues at `tail` (the operation itself, or the rest of an enclosing chain).
 */
class ChainInvoker implements Invoker {
  readonly #policies: readonly StoredPolicy[];
  readonly #tail: Invoker;
  readonly #tailDepth: number;

  constructor(policies: readonly StoredPolicy[], tail: Invoker, tailDepth: number) {
    this.#policies = policies;
    this.#tail = tail;
    this.#tailDepth = tailDepth;
  }

  invoke<T>(operation: Operation<T>, context: PolicyContext, depth: number): Promise<T> {
    const policy = this.#policies[depth];
    if (policy === undefined) return this.#tail.invoke(operation, context, this.#tailDepth);
    return policy.around(this, depth + 1, operation, context);
  }
}

/** Several policies acting as one; the first listed is the outermost. */
export class PolicyChain<R = unknown> implements Policy<R> {
  declare readonly resultType?: (result: R) => void;
  readonly policies: readonly StoredPolicy[];
  readonly #invoker: ChainInvoker;

  constructor(policies: readonly StoredPolicy[]) {
    // Flatten nested chains so a call walks one list with one invoker.
    this.policies = policies.flatMap((policy) =>
      policy instanceof PolicyChain ? policy.policies : [policy],
    );
    this.#invoker = new ChainInvoker(this.policies, operationInvoker, 0);
  }

  execute<T extends R>(operation: Operation<T>, signal?: AbortSignal): Promise<T> {
    return this.#invoker.invoke(operation, rootContextFor(signal), 0);
  }

  around<T extends R>(
    next: Invoker,
    depth: number,
    operation: Operation<T>,
    context: PolicyContext,
  ): Promise<T> {
    return new ChainInvoker(this.policies, next, depth).invoke(operation, context, 0);
  }
}

/**
 * Composes policies; the first is the outermost. A typical order is retry outside the
 * breaker outside the timeout: each attempt gets its own deadline, and attempts the breaker
 * refuses are retried after backoff.
 *
 * @example
 * const resilient = wrap(
 *   retry({ maxAttempts: 3 }),
 *   circuitBreaker({ openDurationMs: 5_000 }),
 *   timeout(1_000),
 * );
 * const user = await resilient.execute(({ signal }) => fetchUser(id, signal)); // typed as the user
 */
export function wrap<const Policies extends readonly Policy<never>[]>(
  ...policies: Policies
): PolicyChain<CombinedResult<Policies>> {
  return new PolicyChain(policies as unknown as readonly StoredPolicy[]);
}
