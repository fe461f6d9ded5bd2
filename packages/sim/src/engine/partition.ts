/**
 * Network partitions as plain data: a set of blocked directed links plus a human description.
 * The shapes are the ones that break consensus protocols in practice — an even split, a
 * majority/minority split, a bridge node that sees both sides, and asymmetric (one-way) links.
 */
import type { Prng } from './prng.js';

/** Messages from `from` to `to` are blocked. The reverse direction is a separate link. */
export interface DirectedLink {
  readonly from: string;
  readonly to: string;
}

export type PartitionShape = 'halves' | 'majority-minority' | 'bridge' | 'one-way' | 'isolate';

export interface Partition {
  readonly shape: PartitionShape;
  /** For traces, e.g. `n1,n4 | n2,n3,n5`. */
  readonly description: string;
  /** Sorted by (from, to), each link once. */
  readonly blockedLinks: readonly DirectedLink[];
}

/** Orders links by (from, to). */
export function compareLinks(left: DirectedLink, right: DirectedLink): number {
  // Plain code-unit order: `localeCompare` would make the order depend on the host's locale.
  if (left.from !== right.from) return left.from < right.from ? -1 : 1;
  if (left.to !== right.to) return left.to < right.to ? -1 : 1;
  return 0;
}

function sortedNames(nodes: readonly string[]): string[] {
  return [...nodes].sort((left, right) => (left < right ? -1 : left > right ? 1 : 0));
}

function assertDistinct(nodes: readonly string[], minimum: number, shape: PartitionShape): void {
  if (new Set(nodes).size !== nodes.length) {
    throw new RangeError(`${shape} partition: node ids must be distinct, got ${nodes.join(',')}`);
  }
  if (nodes.length < minimum) {
    throw new RangeError(`${shape} partition needs at least ${minimum} nodes, got ${nodes.length}`);
  }
}

/** Every link from each node of `senders` to each node of `receivers` (self-links excluded). */
export function linksBetween(senders: readonly string[], receivers: readonly string[]): DirectedLink[] {
  const links: DirectedLink[] = [];
  for (const from of senders) {
    for (const to of receivers) if (from !== to) links.push({ from, to });
  }
  return links.sort(compareLinks);
}

function splitBetween(shape: PartitionShape, sideA: string[], sideB: string[], suffix = ''): Partition {
  const left = sortedNames(sideA);
  const right = sortedNames(sideB);
  const blockedLinks = [...linksBetween(left, right), ...linksBetween(right, left)].sort(compareLinks);
  return { shape, description: `${left.join(',')} | ${right.join(',')}${suffix}`, blockedLinks };
}

/**
 * Splits the nodes into two random halves (sizes ⌊n/2⌋ and ⌈n/2⌉) that cannot talk.
 *
 * @example
 * partitionHalves(['n1', 'n2', 'n3', 'n4'], prng).description; // e.g. "n1,n3 | n2,n4"
 */
export function partitionHalves(nodes: readonly string[], prng: Prng): Partition {
  assertDistinct(nodes, 2, 'halves');
  const shuffled = prng.shuffle([...nodes]);
  const cut = Math.floor(shuffled.length / 2);
  return splitBetween('halves', shuffled.slice(0, cut), shuffled.slice(cut));
}

/** Cuts off a random minority (1 … ⌊(n−1)/2⌋ nodes, at least 1) from the rest. */
export function partitionMajorityMinority(nodes: readonly string[], prng: Prng): Partition {
  assertDistinct(nodes, 2, 'majority-minority');
  const shuffled = prng.shuffle([...nodes]);
  const largestMinority = Math.max(1, Math.floor((shuffled.length - 1) / 2));
  const minoritySize = 1 + prng.int(largestMinority);
  return splitBetween('majority-minority', shuffled.slice(minoritySize), shuffled.slice(0, minoritySize));
}

/**
 * Two sides that cannot talk to each other and one bridge node that talks to both — the shape
 * that makes a leader's view of "majority" differ from its followers'.
 */
export function partitionBridge(nodes: readonly string[], prng: Prng): Partition {
  assertDistinct(nodes, 3, 'bridge');
  const shuffled = prng.shuffle([...nodes]);
  const bridge = shuffled[0] as string;
  const others = shuffled.slice(1);
  const cut = Math.max(1, Math.floor(others.length / 2));
  return splitBetween('bridge', others.slice(0, cut), others.slice(cut), ` (bridge ${bridge})`);
}

/**
 * Blocks only `from` → `to` (each may be one node or a group); replies still flow. A node that
 * can send but not hear is the classic asymmetric fault (a deposed leader that keeps sending).
 */
export function partitionOneWay(from: string | readonly string[], to: string | readonly string[]): Partition {
  const senders = sortedNames(typeof from === 'string' ? [from] : from);
  const receivers = sortedNames(typeof to === 'string' ? [to] : to);
  return {
    shape: 'one-way',
    description: `${senders.join(',')} ↛ ${receivers.join(',')} (replies pass)`,
    blockedLinks: linksBetween(senders, receivers),
  };
}

/** Cuts `node` off from every other node in both directions. */
export function partitionIsolate(node: string, nodes: readonly string[]): Partition {
  const others = nodes.filter((other) => other !== node);
  const blockedLinks = [...linksBetween([node], others), ...linksBetween(others, [node])].sort(compareLinks);
  return { shape: 'isolate', description: `${node} isolated`, blockedLinks };
}
