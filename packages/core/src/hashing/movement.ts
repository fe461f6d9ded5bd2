/**
 * Measures how many keys change owner between two placements, the figure of merit of any
 * consistent-hashing scheme (ideal: K/(N+1) when a node joins N others, all of them to it).
 */

export interface KeyMovement<Owner> {
  /** Keys examined. */
  readonly keyCount: number;
  /** Keys whose owner differs between the two placements. */
  readonly movedCount: number;
  /** movedCount / keyCount (0 when there are no keys). */
  readonly movedFraction: number;
  /** For each new owner, how many moved keys it received. */
  readonly movedTo: ReadonlyMap<Owner | undefined, number>;
  /** For each old owner, how many keys it lost. */
  readonly movedFrom: ReadonlyMap<Owner | undefined, number>;
}

/**
 * Compares `before(key)` with `after(key)` for every key.
 *
 * @example
 * const before = new ConsistentHashRing(['a', 'b', 'c']);
 * const after = new ConsistentHashRing(['a', 'b', 'c', 'd']);
 * const movement = measureKeyMovement(keys, (k) => before.ownerOf(k), (k) => after.ownerOf(k));
 * movement.movedFraction; // ≈ 0.25, and movement.movedTo has only 'd'
 */
export function measureKeyMovement<Key, Owner>(
  keys: Iterable<Key>,
  before: (key: Key) => Owner | undefined,
  after: (key: Key) => Owner | undefined,
): KeyMovement<Owner> {
  const movedTo = new Map<Owner | undefined, number>();
  const movedFrom = new Map<Owner | undefined, number>();
  let keyCount = 0;
  let movedCount = 0;
  for (const key of keys) {
    keyCount++;
    const oldOwner = before(key);
    const newOwner = after(key);
    if (oldOwner === newOwner) continue;
    movedCount++;
    movedTo.set(newOwner, (movedTo.get(newOwner) ?? 0) + 1);
    movedFrom.set(oldOwner, (movedFrom.get(oldOwner) ?? 0) + 1);
  }
  return {
    keyCount,
    movedCount,
    movedFraction: keyCount === 0 ? 0 : movedCount / keyCount,
    movedTo,
    movedFrom,
  };
}

/**
 * Max/mean load of a placement of `keys` over `owners`: 1 is a perfect split. Owners that
 * receive no key count as zero load.
 *
 * @example
 * loadImbalance(keys, ring.nodes, (k) => ring.ownerOf(k)); // ≈ 1.1 with 160 points per node
 */
export function loadImbalance<Key, Owner>(
  keys: Iterable<Key>,
  owners: readonly Owner[],
  ownerOf: (key: Key) => Owner | undefined,
): number {
  const loads = new Map<Owner | undefined, number>(owners.map((owner) => [owner, 0]));
  let keyCount = 0;
  for (const key of keys) {
    keyCount++;
    const owner = ownerOf(key);
    loads.set(owner, (loads.get(owner) ?? 0) + 1);
  }
  if (keyCount === 0 || owners.length === 0) return 1;
  return Math.max(...loads.values()) / (keyCount / owners.length);
}
