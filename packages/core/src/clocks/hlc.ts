/**
 * Hybrid logical clock (Kulkarni, Demirbas et al., "Logical Physical Clocks", 2014). A timestamp
 * pairs the largest physical time heard of (wallMs, the paper's l) with a logical counter (c)
 * that orders events within one millisecond. It respects causality like a Lamport clock, stays
 * within the clock offset of physical time, and fits in 64 bits: 48 bits of milliseconds (good
 * until the year 10889) and 16 of counter.
 */
import type { Clock } from '../time.js';
import { ClockFormatError, ClockLogicalOverflowError, ClockOffsetError } from './errors.js';

export interface HlcTimestamp {
  /** Milliseconds since the Unix epoch: the largest physical time seen (the paper's l). */
  readonly wallMs: number;
  /** Orders events that share `wallMs` (the paper's c). */
  readonly logical: number;
}

export interface HlcOptions {
  /** Physical time in milliseconds since the Unix epoch. Default: `wallClock` (Date.now). */
  readonly physicalClock?: Clock;
  /** Refuse remote timestamps more than this far ahead of the local physical clock. Default 500 ms. */
  readonly maxOffsetMs?: number;
}

/** The counter is encoded in 16 bits. */
export const hlcLogicalMax = 0xffff;
/** wallMs is encoded in 48 bits. */
export const hlcWallMsMax = 2 ** 48 - 1;
export const defaultMaxOffsetMs = 500;
const logicalBits = 16n;
const encodedHexDigits = 16;

/**
 * Epoch milliseconds from the host clock. HLCs need a clock shared in meaning across hosts,
 * which the monotonic `systemClock` of time.ts is not. Tests and the simulator inject their own.
 */
export const wallClock: Clock = { now: () => Date.now() };

/**
 * @example
 * const clock = new HybridLogicalClock({ maxOffsetMs: 250 });
 * const sent = clock.now(); // stamp an outgoing message or a local event
 * const received = otherClock.receive(sent); // > sent, or throws ClockOffsetError
 * compareHlc(sent, received); // -1
 * formatHlc(received); // e.g. '018f1a2b3c4d0001', sortable as text
 */
export class HybridLogicalClock {
  readonly #physicalClock: Clock;
  readonly #maxOffsetMs: number;
  #wallMs = 0;
  #logical = 0;

  constructor(options: HlcOptions = {}) {
    this.#physicalClock = options.physicalClock ?? wallClock;
    this.#maxOffsetMs = options.maxOffsetMs ?? defaultMaxOffsetMs;
    if (!(this.#maxOffsetMs >= 0)) throw new RangeError(`maxOffsetMs must be ≥ 0, got ${this.#maxOffsetMs}`);
  }

  /** The last timestamp issued, without advancing. */
  get last(): HlcTimestamp {
    return { wallMs: this.#wallMs, logical: this.#logical };
  }

  /** Timestamp for a local event or a send. Always greater than every timestamp issued before. */
  now(): HlcTimestamp {
    const physicalMs = this.#readPhysical();
    if (physicalMs > this.#wallMs) return this.#set(physicalMs, 0);
    return this.#set(this.#wallMs, this.#logical + 1);
  }

  /** Same as `now()`: the name the paper uses for stamping an outgoing message. */
  send(): HlcTimestamp {
    return this.now();
  }

  /**
   * Timestamp for receiving a message stamped `remote`: greater than both `remote` and every
   * timestamp issued here before. Throws ClockOffsetError, leaving the clock unchanged, when
   * `remote` is more than maxOffsetMs ahead of the local physical clock.
   */
  receive(remote: HlcTimestamp): HlcTimestamp {
    assertTimestamp(remote);
    const physicalMs = this.#readPhysical();
    if (remote.wallMs - physicalMs > this.#maxOffsetMs) {
      throw new ClockOffsetError(remote.wallMs, physicalMs, this.#maxOffsetMs);
    }
    const wallMs = Math.max(this.#wallMs, remote.wallMs, physicalMs);
    const local = wallMs === this.#wallMs;
    const fromRemote = wallMs === remote.wallMs;
    if (local && fromRemote) return this.#set(wallMs, Math.max(this.#logical, remote.logical) + 1);
    if (local) return this.#set(wallMs, this.#logical + 1);
    if (fromRemote) return this.#set(wallMs, remote.logical + 1);
    return this.#set(wallMs, 0);
  }

  #readPhysical(): number {
    const physicalMs = Math.floor(this.#physicalClock.now());
    if (!(physicalMs >= 0 && physicalMs <= hlcWallMsMax)) {
      throw new RangeError(`physical clock reading ${physicalMs} ms is outside [0, 2^48)`);
    }
    return physicalMs;
  }

  #set(wallMs: number, logical: number): HlcTimestamp {
    if (logical > hlcLogicalMax) throw new ClockLogicalOverflowError(wallMs, hlcLogicalMax);
    this.#wallMs = wallMs;
    this.#logical = logical;
    return { wallMs, logical };
  }
}

/** Total order: by wallMs, then logical. Returns −1, 0 or 1. */
export function compareHlc(left: HlcTimestamp, right: HlcTimestamp): -1 | 0 | 1 {
  if (left.wallMs !== right.wallMs) return left.wallMs < right.wallMs ? -1 : 1;
  if (left.logical !== right.logical) return left.logical < right.logical ? -1 : 1;
  return 0;
}

/** 64-bit form, wallMs in the high 48 bits and logical in the low 16: numeric order is HLC order. */
export function encodeHlc(timestamp: HlcTimestamp): bigint {
  assertTimestamp(timestamp);
  return (BigInt(timestamp.wallMs) << logicalBits) | BigInt(timestamp.logical);
}

export function decodeHlc(encoded: bigint): HlcTimestamp {
  if (encoded < 0n || encoded >= 1n << 64n)
    throw new ClockFormatError('HLC timestamp', 'not a 64-bit unsigned value');
  return { wallMs: Number(encoded >> logicalBits), logical: Number(encoded & BigInt(hlcLogicalMax)) };
}

/** 16 hex digits of the 64-bit form: text order is HLC order (for keys and logs). */
export function formatHlc(timestamp: HlcTimestamp): string {
  return encodeHlc(timestamp).toString(16).padStart(encodedHexDigits, '0');
}

export function parseHlc(text: string): HlcTimestamp {
  if (!/^[0-9a-f]{16}$/.test(text))
    throw new ClockFormatError('HLC timestamp', `"${text}" is not 16 hex digits`);
  return decodeHlc(BigInt(`0x${text}`));
}

function assertTimestamp(timestamp: HlcTimestamp): void {
  const { wallMs, logical } = timestamp;
  if (!Number.isInteger(wallMs) || wallMs < 0 || wallMs > hlcWallMsMax) {
    throw new RangeError(`HLC wallMs must be an integer in [0, 2^48), got ${wallMs}`);
  }
  if (!Number.isInteger(logical) || logical < 0 || logical > hlcLogicalMax) {
    throw new RangeError(`HLC logical must be an integer in [0, ${hlcLogicalMax}], got ${logical}`);
  }
}
