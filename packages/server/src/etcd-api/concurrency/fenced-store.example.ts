// The README's worked example (kept here so a test runs exactly what the README shows).

/** What a fenced write answered. */
export type FencedWrite = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * A storage service that takes writes from lock holders. Each write carries the writer's fencing
 * token (the create revision of its lock key). The store remembers the highest token it has seen
 * per resource and refuses writes with a lower one: they come from a holder whose lock has since
 * passed to someone else, however sure that holder is that it still holds it.
 */
export class FencedStore {
  private readonly highestToken = new Map<string, number>();
  private readonly values = new Map<string, string>();

  write(resource: string, value: string, token: number): FencedWrite {
    const highest = this.highestToken.get(resource) ?? 0;
    if (token < highest) {
      return { ok: false, reason: `stale fencing token ${token} for ${resource}: ${highest} was seen` };
    }
    // Equal tokens pass: the same holder may write several times.
    this.highestToken.set(resource, token);
    this.values.set(resource, value);
    return { ok: true };
  }

  read(resource: string): string | undefined {
    return this.values.get(resource);
  }
}
