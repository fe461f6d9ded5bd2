// The `grpc-timeout` request header (PROTOCOL-HTTP2.md, "Timeout"): at most 8 ASCII digits and a
// unit, H (hours), M (minutes), S (seconds), m (milliseconds), u (microseconds), n (nanoseconds).

const TIMEOUT_PATTERN = /^(\d{1,8})([HMSmun])$/;

const MILLISECONDS_PER_UNIT: Readonly<Record<string, number>> = {
  H: 3_600_000,
  M: 60_000,
  S: 1_000,
  m: 1,
  u: 1e-3,
  n: 1e-6,
};

/**
 * The timeout in milliseconds (possibly fractional), or undefined when the value is malformed.
 *
 * @example
 * parseGrpcTimeout('250m'); // 250
 * parseGrpcTimeout('1S');   // 1000
 */
export function parseGrpcTimeout(value: string): number | undefined {
  const match = TIMEOUT_PATTERN.exec(value);
  if (match === null) return undefined;
  const amount = Number(match[1]);
  const unitMs = MILLISECONDS_PER_UNIT[match[2]!]!;
  return amount * unitMs;
}
