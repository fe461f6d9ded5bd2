// The value of each put of the fan-out writer: its sequence number and the monotonic time it was
// sent (see clock.ts), so a watcher on the same machine can tell each event's put-to-delivery time.

/** Value size: the two stamps, then zero padding (a small but not empty configuration value). */
export const VALUE_BYTES = 64;
const SEQUENCE_OFFSET = 0;
const SENT_AT_OFFSET = 8;
const STAMP_BYTES = 16;

export function stampedValue(sequence: number, sentAtMs: number): Buffer {
  const value = Buffer.alloc(VALUE_BYTES);
  value.writeDoubleLE(sequence, SEQUENCE_OFFSET);
  value.writeDoubleLE(sentAtMs, SENT_AT_OFFSET);
  return value;
}

/** When the put was sent, or NaN for a value the writer did not make. */
export function sentAtMsOf(value: Uint8Array): number {
  if (value.length !== VALUE_BYTES) return Number.NaN;
  return new DataView(
    value.buffer,
    value.byteOffset + SENT_AT_OFFSET,
    STAMP_BYTES - SENT_AT_OFFSET,
  ).getFloat64(0, true);
}
