/**
 * A simulated message network between node ids. Every send is decided at once (dropped, or
 * scheduled for delivery on the event loop with a drawn latency) using the network's own Prng,
 * so the fate of every message is a pure function of the seed and the sends.
 *
 * Decisions worth knowing:
 * - A blocked link is checked twice: at send time and again at delivery time. A message in
 *   flight when its link is cut is dropped on arrival (`partitioned-in-flight`), as packets in a
 *   cut cable are; a message sent during a partition stays dropped after `heal()`.
 * - A message to a node that is down (at send or at delivery) is dropped. A message sent before
 *   its recipient crashed and arriving after it restarted is delivered: real networks delay
 *   packets arbitrarily, and a protocol must tolerate stale messages.
 * - A node's messages to itself never cross a partition, but do take a latency.
 * - Per-link FIFO (off by default) delivers in send order on each directed link: a delayed
 *   message holds back later ones on its link (head-of-line blocking), as over one TCP stream.
 */
import type { EventLoop } from './event-loop.js';
import { type LatencyDistribution, sampleLatencyMs, validateLatency } from './latency.js';
import { compareLinks, type DirectedLink, type Partition } from './partition.js';
import type { Prng } from './prng.js';

/** Random extra delay on a fraction of messages, so later sends can overtake earlier ones. */
export interface ReorderConditions {
  readonly probability: number;
  readonly maxExtraDelayMs: number;
}

/** The network's weather; the nemesis changes it at run time. */
export interface NetworkConditions {
  readonly latency: LatencyDistribution;
  /** Probability that a message is lost. */
  readonly loss: number;
  /** Probability that a message is delivered twice (the copy arrives later). */
  readonly duplication: number;
  readonly reorder: ReorderConditions;
}

export interface SimNetworkConfig extends NetworkConditions {
  /** Deliver in send order on each directed link. Off by default. */
  readonly fifoPerLink: boolean;
}

/** Calm defaults: 1–50 ms, mean 2 ms, nothing lost, duplicated or reordered. */
export const defaultNetworkConfig: SimNetworkConfig = {
  latency: { minMs: 1, meanMs: 2, maxMs: 50 },
  loss: 0,
  duplication: 0,
  reorder: { probability: 0, maxExtraDelayMs: 0 },
  fifoPerLink: false,
};

export type DropReason =
  | 'filtered'
  | 'sender-down'
  | 'recipient-down'
  | 'partitioned'
  | 'partitioned-in-flight'
  | 'lost';

export type DropCounts = Record<DropReason, number>;

export interface NetworkStats {
  readonly sent: number;
  readonly delivered: number;
  readonly duplicated: number;
  readonly reordered: number;
  readonly dropped: Readonly<DropCounts>;
  /** Deliveries scheduled and not yet resolved (delivered or dropped on arrival). */
  readonly inFlight: number;
}

/**
 * One entry of the network's trace; `duplicate` is reported at send time, for the copy.
 * `messageId` numbers each send (1, 2, …) so a trace can pair a send with its delivery or drop;
 * a duplicate copy gets an id of its own and names the original in `originalMessageId`.
 */
export type NetworkTraceEvent<Message> = {
  readonly atMs: number;
  readonly from: string;
  readonly to: string;
  readonly message: Message;
  readonly messageId: number;
} & (
  | { readonly kind: 'send' | 'deliver' }
  | { readonly kind: 'duplicate'; readonly originalMessageId: number }
  | { readonly kind: 'drop'; readonly reason: DropReason }
);

/** Return false to drop the message (reason `filtered`); also a convenient tracing point. */
export type MessageFilter<Message> = (from: string, to: string, message: Message) => boolean;

export interface SimNetworkOptions<Message> {
  readonly loop: EventLoop;
  /** The network's own stream; give it `prng.fork('network')`. */
  readonly random: Prng;
  readonly deliver: (from: string, to: string, message: Message) => void;
  readonly config?: Partial<SimNetworkConfig>;
  readonly messageFilter?: MessageFilter<Message>;
  /** Observes every send, delivery, duplicate and drop, in order. */
  readonly onTrace?: (event: NetworkTraceEvent<Message>) => void;
}

function validateProbability(value: number, what: string): void {
  if (!(value >= 0 && value <= 1)) throw new RangeError(`network ${what} must be in [0, 1], got ${value}`);
}

function validateConfig(config: SimNetworkConfig): void {
  validateLatency(config.latency, 'network');
  validateProbability(config.loss, 'loss');
  validateProbability(config.duplication, 'duplication');
  validateProbability(config.reorder.probability, 'reorder.probability');
  if (!(config.reorder.maxExtraDelayMs >= 0 && Number.isFinite(config.reorder.maxExtraDelayMs))) {
    throw new RangeError(
      `network reorder.maxExtraDelayMs must be finite and ≥ 0, got ${config.reorder.maxExtraDelayMs}`,
    );
  }
}

function noDrops(): DropCounts {
  return {
    filtered: 0,
    'sender-down': 0,
    'recipient-down': 0,
    partitioned: 0,
    'partitioned-in-flight': 0,
    lost: 0,
  };
}

/**
 * A lossy, reordering, partitionable network on virtual time.
 *
 * @example
 * const network = new SimNetwork<RaftMessage>({
 *   loop,
 *   random: prng.fork('network'),
 *   deliver: (from, to, message) => nodes.get(to)?.step(message),
 *   config: { loss: 0.01 },
 * });
 * network.send('n1', 'n2', heartbeat);
 * network.applyPartition(partitionHalves(['n1', 'n2', 'n3'], prng.fork('partition')));
 * network.heal();
 */
export class SimNetwork<Message> {
  /** Replaceable at run time (e.g. to start tracing mid-run). */
  messageFilter: MessageFilter<Message> | undefined;
  private configuration: SimNetworkConfig;
  private readonly loop: EventLoop;
  private readonly random: Prng;
  private readonly deliverCallback: (from: string, to: string, message: Message) => void;
  private readonly onTrace: ((event: NetworkTraceEvent<Message>) => void) | undefined;
  /** from → set of blocked recipients. */
  private readonly blocked = new Map<string, Set<string>>();
  private readonly isolated = new Set<string>();
  private readonly down = new Set<string>();
  /** from → to → latest scheduled delivery time, for per-link FIFO. */
  private readonly lastDeliveryAtMs = new Map<string, Map<string, number>>();
  private counts = { sent: 0, delivered: 0, duplicated: 0, reordered: 0, inFlight: 0 };
  /** Last id handed to a send or a duplicate copy (trace only; it draws no randomness). */
  private lastMessageId = 0;
  private drops = noDrops();

  constructor(options: SimNetworkOptions<Message>) {
    this.loop = options.loop;
    this.random = options.random;
    this.deliverCallback = options.deliver;
    this.onTrace = options.onTrace;
    this.messageFilter = options.messageFilter;
    this.configuration = { ...defaultNetworkConfig, ...options.config };
    validateConfig(this.configuration);
  }

  /** The current configuration. */
  get config(): SimNetworkConfig {
    return this.configuration;
  }

  /** Changes some settings from now on; messages already in flight keep their delivery time. */
  configure(changes: Partial<SimNetworkConfig>): void {
    const next = { ...this.configuration, ...changes };
    validateConfig(next);
    if (!next.fifoPerLink) this.lastDeliveryAtMs.clear();
    this.configuration = next;
  }

  /** Sends one message; its fate (drop, delay, duplicate) is decided now. */
  send(from: string, to: string, message: Message): void {
    this.counts.sent++;
    const messageId = ++this.lastMessageId;
    this.onTrace?.({ kind: 'send', atMs: this.loop.now, from, to, message, messageId });
    const refused = this.refusalAtSend(from, to, message);
    if (refused !== undefined) {
      this.drop(from, to, message, messageId, refused);
      return;
    }
    const { loss, duplication, reorder, latency } = this.configuration;
    if (loss > 0 && this.random.chance(loss)) {
      this.drop(from, to, message, messageId, 'lost');
      return;
    }
    let delayMs = sampleLatencyMs(this.random, latency);
    if (reorder.probability > 0 && this.random.chance(reorder.probability)) {
      this.counts.reordered++;
      // Whole microseconds, like the latency itself, so traces stay readable.
      delayMs += Math.round(this.random.range(0, reorder.maxExtraDelayMs) * 1000) / 1000;
    }
    const deliveredAtMs = this.scheduleDelivery(from, to, message, messageId, delayMs);
    if (duplication > 0 && this.random.chance(duplication)) {
      this.counts.duplicated++;
      const copyId = ++this.lastMessageId;
      this.onTrace?.({
        kind: 'duplicate',
        atMs: this.loop.now,
        from,
        to,
        message,
        messageId: copyId,
        originalMessageId: messageId,
      });
      // The copy takes its own trip after the original, so it always arrives later.
      const copyDelayMs = deliveredAtMs - this.loop.now + sampleLatencyMs(this.random, latency);
      this.scheduleDelivery(from, to, message, copyId, copyDelayMs);
    }
  }

  /** Tells the network whether a node is crashed; messages to a crashed node are dropped. */
  setNodeDown(node: string, down: boolean): void {
    if (down) this.down.add(node);
    else this.down.delete(node);
  }

  isNodeDown(node: string): boolean {
    return this.down.has(node);
  }

  /** Blocks the given directed links (in addition to those already blocked). */
  blockLinks(links: readonly DirectedLink[]): void {
    for (const { from, to } of links) {
      let recipients = this.blocked.get(from);
      if (recipients === undefined) {
        recipients = new Set();
        this.blocked.set(from, recipients);
      }
      recipients.add(to);
    }
  }

  /** Replaces the current partition (links and isolations) with `partition`. */
  applyPartition(partition: Partition): void {
    this.heal();
    this.blockLinks(partition.blockedLinks);
  }

  /** Blocks `from` → `to` only; the reverse direction keeps working. */
  partitionOneWay(from: string, to: string): void {
    this.blockLinks([{ from, to }]);
  }

  /** Cuts `node` off from every node, including ones that join later. */
  isolate(node: string): void {
    this.isolated.add(node);
  }

  /** Unblocks every link and ends every isolation. */
  heal(): void {
    this.blocked.clear();
    this.isolated.clear();
  }

  /** True if a message from `from` to `to` would be dropped by a partition now. */
  isBlocked(from: string, to: string): boolean {
    if (from === to) return false;
    if (this.isolated.has(from) || this.isolated.has(to)) return true;
    return this.blocked.get(from)?.has(to) ?? false;
  }

  /** The explicitly blocked links (isolations not expanded), sorted by (from, to). */
  blockedLinks(): DirectedLink[] {
    const links: DirectedLink[] = [];
    for (const [from, recipients] of this.blocked) for (const to of recipients) links.push({ from, to });
    return links.sort(compareLinks);
  }

  /** A snapshot of the counters. */
  get stats(): NetworkStats {
    return { ...this.counts, dropped: { ...this.drops } };
  }

  private refusalAtSend(from: string, to: string, message: Message): DropReason | undefined {
    if (this.messageFilter !== undefined && !this.messageFilter(from, to, message)) return 'filtered';
    if (this.down.has(from)) return 'sender-down';
    if (this.down.has(to)) return 'recipient-down';
    if (this.isBlocked(from, to)) return 'partitioned';
    return undefined;
  }

  /** Returns the absolute delivery time. */
  private scheduleDelivery(
    from: string,
    to: string,
    message: Message,
    messageId: number,
    delayMs: number,
  ): number {
    let atMs = this.loop.now + delayMs;
    if (this.configuration.fifoPerLink) atMs = this.reserveFifoSlot(from, to, atMs);
    this.counts.inFlight++;
    this.loop.scheduleAt(atMs, () => this.arrive(from, to, message, messageId), 'network');
    return atMs;
  }

  private reserveFifoSlot(from: string, to: string, atMs: number): number {
    let byRecipient = this.lastDeliveryAtMs.get(from);
    if (byRecipient === undefined) {
      byRecipient = new Map();
      this.lastDeliveryAtMs.set(from, byRecipient);
    }
    // Equal times are fine: the event loop runs ties in scheduling order.
    const slotMs = Math.max(atMs, byRecipient.get(to) ?? atMs);
    byRecipient.set(to, slotMs);
    return slotMs;
  }

  private arrive(from: string, to: string, message: Message, messageId: number): void {
    this.counts.inFlight--;
    if (this.down.has(to)) {
      this.drop(from, to, message, messageId, 'recipient-down');
    } else if (this.isBlocked(from, to)) {
      this.drop(from, to, message, messageId, 'partitioned-in-flight');
    } else {
      this.counts.delivered++;
      this.onTrace?.({ kind: 'deliver', atMs: this.loop.now, from, to, message, messageId });
      this.deliverCallback(from, to, message);
    }
  }

  private drop(from: string, to: string, message: Message, messageId: number, reason: DropReason): void {
    this.drops[reason]++;
    this.onTrace?.({ kind: 'drop', atMs: this.loop.now, from, to, message, messageId, reason });
  }
}
