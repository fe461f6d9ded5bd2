// The replicated key-value state machine the simulator drives: commands are committed Raft
// entries; applying one runs the same sequential specification the checker uses (applyKvToStore).
import type { KvCall, KvResult } from '../history/history.js';
import { applyKvToStore } from '../history/kv-model.js';

/** A client command as stored in a log entry. `requestId` is unique per client request. */
export interface KvCommand {
  readonly requestId: string;
  readonly call: KvCall;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeCommand(command: KvCommand): Uint8Array {
  return encoder.encode(JSON.stringify(command));
}

export function decodeCommand(data: Uint8Array): KvCommand {
  const parsed = JSON.parse(decoder.decode(data)) as KvCommand;
  if (typeof parsed.requestId !== 'string' || typeof parsed.call?.kind !== 'string') {
    throw new Error('log entry does not hold a KV command');
  }
  return parsed;
}

export class KvStateMachine {
  private readonly store = new Map<string, string>();
  /** Index of the last entry applied (the snapshot index after a restore). */
  appliedIndex = 0;

  apply(index: number, data: Uint8Array): { command: KvCommand; result: KvResult } | undefined {
    if (index <= this.appliedIndex)
      throw new Error(`entry ${index} applied twice (applied ${this.appliedIndex})`);
    this.appliedIndex = index;
    if (data.byteLength === 0) return undefined; // a leader's empty entry
    const command = decodeCommand(data);
    return { command, result: applyKvToStore(this.store, command.call) };
  }

  /** Skips an entry that carries no command (a membership change). */
  skip(index: number): void {
    this.appliedIndex = index;
  }

  read(key: string): string | null {
    return this.store.get(key) ?? null;
  }

  snapshot(): Uint8Array {
    const entries = [...this.store.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return encoder.encode(JSON.stringify({ appliedIndex: this.appliedIndex, entries }));
  }

  restore(data: Uint8Array, index: number): void {
    this.store.clear();
    if (data.byteLength > 0) {
      const parsed = JSON.parse(decoder.decode(data)) as { entries: [string, string][] };
      for (const [key, value] of parsed.entries) this.store.set(key, value);
    }
    this.appliedIndex = index;
  }
}
