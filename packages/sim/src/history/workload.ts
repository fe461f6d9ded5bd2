/**
 * Client workloads for the KV register store, driven by an injected random source so a run replays
 * from its seed. Values are unique per write (`p{process}-{n}`), so a read names the write it saw.
 */
import type { KvCall, KvOperation, KvResult } from './history.js';
import { HistoryRecorder, invariant, isCasResult, isGetResult } from './history.js';
import { applyKvToStore } from './kv-model.js';

/** A source of uniformly distributed numbers in [0, 1). */
export interface RandomSource {
  next(): number;
}

/**
 * A small seeded generator (SplitMix32-style) for workloads and tests that have no simulator PRNG.
 *
 * @example
 * const random = seededRandom(42);
 * random.next(); // the same number on every run
 */
export function seededRandom(seed: number): RandomSource {
  let counter = seed >>> 0;
  return {
    next() {
      counter = (counter + 0x9e3779b9) >>> 0;
      let z = counter;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      z ^= z >>> 16;
      return (z >>> 0) / 2 ** 32;
    },
  };
}

export interface KvWorkloadOptions {
  readonly random: RandomSource;
  /** Keys are `k0` … `k{keys-1}`. Default 5. */
  readonly keys?: number;
  /** Share of calls that are `get`. Default 0.5. */
  readonly readRatio?: number;
  /** Share of calls that are `cas`; the rest are `put`. Default 0.2. */
  readonly casRatio?: number;
  /** Share of `cas` calls that expect the key absent even when values were observed. Default 0.1. */
  readonly casExpectAbsentRatio?: number;
  /** Observed values remembered per key, as `cas` expectations. Default 4. */
  readonly recentValuesPerKeyMax?: number;
}

const defaultKeys = 5;
const defaultReadRatio = 0.5;
const defaultCasRatio = 0.2;
const defaultCasExpectAbsentRatio = 0.1;
const defaultRecentValuesPerKeyMax = 4;

/**
 * Generates calls for client processes. Feed results back with {@link KvWorkload.observe} so `cas`
 * calls expect values that were recently current (otherwise they expect the key absent).
 *
 * @example
 * const workload = new KvWorkload({ random: seededRandom(7), keys: 3 });
 * const call = workload.nextCall(0); // e.g. { kind: 'put', key: 'k2', value: 'p0-0' }
 */
export class KvWorkload {
  readonly #random: RandomSource;
  readonly #keys: number;
  readonly #readRatio: number;
  readonly #casRatio: number;
  readonly #casExpectAbsentRatio: number;
  readonly #recentValuesPerKeyMax: number;
  readonly #recentValues = new Map<string, string[]>();
  readonly #writesByProcess = new Map<number, number>();

  constructor(options: KvWorkloadOptions) {
    this.#random = options.random;
    this.#keys = options.keys ?? defaultKeys;
    this.#readRatio = options.readRatio ?? defaultReadRatio;
    this.#casRatio = options.casRatio ?? defaultCasRatio;
    this.#casExpectAbsentRatio = options.casExpectAbsentRatio ?? defaultCasExpectAbsentRatio;
    this.#recentValuesPerKeyMax = options.recentValuesPerKeyMax ?? defaultRecentValuesPerKeyMax;
    if (!Number.isSafeInteger(this.#keys) || this.#keys < 1)
      throw new RangeError(`keys must be a positive integer, got ${this.#keys}`);
    for (const [name, ratio] of [
      ['readRatio', this.#readRatio],
      ['casRatio', this.#casRatio],
      ['casExpectAbsentRatio', this.#casExpectAbsentRatio],
    ] as const) {
      if (!(ratio >= 0 && ratio <= 1)) throw new RangeError(`${name} must be within [0, 1], got ${ratio}`);
    }
    if (this.#readRatio + this.#casRatio > 1) throw new RangeError('readRatio + casRatio must not exceed 1');
    if (!Number.isSafeInteger(this.#recentValuesPerKeyMax) || this.#recentValuesPerKeyMax < 1) {
      throw new RangeError(
        `recentValuesPerKeyMax must be a positive integer, got ${this.#recentValuesPerKeyMax}`,
      );
    }
  }

  /** The next call for `process`. */
  nextCall(process: number): KvCall {
    const key = `k${Math.floor(this.#uniform() * this.#keys)}`;
    const choice = this.#uniform();
    if (choice < this.#readRatio) return { kind: 'get', key };
    if (choice < this.#readRatio + this.#casRatio) {
      return { kind: 'cas', key, expected: this.#expectation(key), value: this.#freshValue(process) };
    }
    return { kind: 'put', key, value: this.#freshValue(process) };
  }

  /** Remembers values a completed call showed to be current, as future `cas` expectations. */
  observe(call: KvCall, result: KvResult): void {
    if (call.kind === 'get' && isGetResult(result) && result.value !== null)
      this.#remember(call.key, result.value);
    if (call.kind === 'put') this.#remember(call.key, call.value);
    if (call.kind === 'cas' && isCasResult(result) && result.succeeded) this.#remember(call.key, call.value);
  }

  #uniform(): number {
    const value = this.#random.next();
    invariant(value >= 0 && value < 1, `random source returned ${value}, outside [0, 1)`);
    return value;
  }

  #expectation(key: string): string | null {
    const recent = this.#recentValues.get(key) ?? [];
    if (recent.length === 0 || this.#uniform() < this.#casExpectAbsentRatio) return null;
    return recent[Math.floor(this.#uniform() * recent.length)]!;
  }

  #freshValue(process: number): string {
    const written = this.#writesByProcess.get(process) ?? 0;
    this.#writesByProcess.set(process, written + 1);
    return `p${process}-${written}`;
  }

  #remember(key: string, value: string): void {
    const recent = this.#recentValues.get(key) ?? [];
    recent.push(value);
    if (recent.length > this.#recentValuesPerKeyMax) recent.shift();
    this.#recentValues.set(key, recent);
  }
}

export interface SyntheticHistoryOptions extends Omit<KvWorkloadOptions, 'random'> {
  readonly random: RandomSource;
  /** Operations to invoke in total. */
  readonly operations: number;
  /** Concurrent client processes. Default 10. */
  readonly processes?: number;
  /** Share of operations rejected before taking effect (`fail`). Default 0.02. */
  readonly failRatio?: number;
  /** Share of operations whose client gives up (`indeterminate`), applied or not. Default 0.03. */
  readonly indeterminateRatio?: number;
  /** Largest time advance between two events; 0 advances give equal timestamps. Default 3. */
  readonly timeStepMax?: number;
}

const defaultProcesses = 10;
const defaultFailRatio = 0.02;
const defaultIndeterminateRatio = 0.03;
const defaultTimeStepMax = 3;
/** Chance per event that an abandoned (indeterminate, not yet applied) operation takes effect now. */
const abandonedApplyChance = 0.1;

interface InFlight {
  readonly id: number;
  readonly call: KvCall;
  result?: KvResult;
}

/**
 * Generates a history that is linearizable by construction: a sequential store applies each
 * operation at a point inside its real-time interval. Some operations fail before taking effect;
 * some become indeterminate (applied before the client gave up, later, or never).
 * Used to test the checker and to measure it.
 *
 * @example
 * const operations = generateLinearizableHistory({ random: seededRandom(1), operations: 2000 });
 */
export function generateLinearizableHistory(options: SyntheticHistoryOptions): KvOperation[] {
  const random = options.random;
  const processes = options.processes ?? defaultProcesses;
  const failRatio = options.failRatio ?? defaultFailRatio;
  const indeterminateRatio = options.indeterminateRatio ?? defaultIndeterminateRatio;
  const timeStepMax = options.timeStepMax ?? defaultTimeStepMax;
  const workload = new KvWorkload(options);
  const recorder = new HistoryRecorder();
  const store = new Map<string, string>();
  const inFlight = new Map<number, InFlight>();
  const abandoned: KvCall[] = [];
  let time = 0;
  let invoked = 0;
  while (invoked < options.operations || inFlight.size > 0) {
    time += Math.floor(random.next() * (timeStepMax + 1));
    if (abandoned.length > 0 && random.next() < abandonedApplyChance) {
      applyKvToStore(store, abandoned.splice(Math.floor(random.next() * abandoned.length), 1)[0]!);
    }
    const process = Math.floor(random.next() * processes);
    const operation = inFlight.get(process);
    if (operation === undefined) {
      if (invoked === options.operations) continue;
      const call = workload.nextCall(process);
      inFlight.set(process, { id: recorder.invoke(process, call, time), call });
      invoked += 1;
      continue;
    }
    const roll = random.next();
    if (operation.result === undefined) {
      if (roll < failRatio) {
        recorder.fail(operation.id, time);
      } else if (roll < failRatio + indeterminateRatio) {
        // The client gives up before the effect; it may still happen later, or never.
        recorder.indeterminate(operation.id, time);
        if (random.next() < 0.5) abandoned.push(operation.call);
      } else {
        operation.result = applyKvToStore(store, operation.call);
        continue;
      }
    } else if (roll < indeterminateRatio) {
      recorder.indeterminate(operation.id, time);
    } else {
      recorder.complete(operation.id, operation.result, time);
      workload.observe(operation.call, operation.result);
    }
    inFlight.delete(process);
  }
  return recorder.operations();
}
