// Log entries of the lock scenario: a ClusterCommand (etcd's request shapes, with bigint lease ids
// and byte keys) plus the request id that lets the proposer recognise its own entry at apply time.
import type { ClusterCommand } from '@synod/state';

/** What one log entry carries. `requestId` is unique per proposal attempt. */
export interface ProposedCommand {
  readonly requestId: string;
  readonly command: ClusterCommand;
}

/** Request ids of the revokes a leader proposes for expired leases (the checks tell them apart). */
export const EXPIRY_REQUEST_PREFIX = 'expire/';

const BIGINT_TAG = '$bigint';
const BYTES_TAG = '$bytes';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** JSON with bigints and byte arrays tagged, so a command survives the log byte for byte. */
export function encodeProposedCommand(proposed: ProposedCommand): Uint8Array {
  return encoder.encode(JSON.stringify(proposed, tagValue));
}

export function decodeProposedCommand(data: Uint8Array): ProposedCommand {
  const parsed = JSON.parse(decoder.decode(data), untagValue) as ProposedCommand;
  if (typeof parsed.requestId !== 'string' || typeof parsed.command?.kind !== 'string') {
    throw new Error('log entry does not hold a cluster command');
  }
  return parsed;
}

function tagValue(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return { [BIGINT_TAG]: value.toString() };
  if (value instanceof Uint8Array) return { [BYTES_TAG]: bytesToHex(value) };
  return value;
}

function untagValue(_key: string, value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, unknown>;
  const big = record[BIGINT_TAG];
  if (typeof big === 'string') return BigInt(big);
  const bytes = record[BYTES_TAG];
  if (typeof bytes === 'string') return hexToBytes(bytes);
  return value;
}

function bytesToHex(bytes: Uint8Array): string {
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

function hexToBytes(hex: string): Uint8Array {
  if (hex.length % 2 !== 0) throw new Error(`odd-length hex in a log entry: ${hex}`);
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}
