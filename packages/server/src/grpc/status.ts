// gRPC status codes, the error a handler throws to answer with one, and the percent-encoding the
// protocol prescribes for `grpc-message` (PROTOCOL-HTTP2.md, "Status-Message").
import type { Metadata } from './metadata.js';

/** The standard gRPC status codes (grpc/grpc doc/statuscodes.md), by name. */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export type GrpcStatusCode = (typeof GrpcStatus)[keyof typeof GrpcStatus];

const statusNames = new Map<number, string>(Object.entries(GrpcStatus).map(([name, code]) => [code, name]));

/** The name of a status code (`'NOT_FOUND'`), or `'CODE_<n>'` for a number outside the standard set. */
export function grpcStatusName(code: number): string {
  return statusNames.get(code) ?? `CODE_${code}`;
}

/**
 * The way a handler ends a call with a status other than OK: throw it (or pass it to `end`), and the
 * client sees exactly this code and message. Any other exception becomes INTERNAL with a generic
 * message, so internal details never leak to clients.
 *
 * @example
 * throw new GrpcError(GrpcStatus.NOT_FOUND, 'etcdserver: requested lease not found');
 */
export class GrpcError extends Error {
  readonly code: GrpcStatusCode;
  /** Extra trailing metadata sent with the status. */
  readonly trailers: Metadata | undefined;

  constructor(code: GrpcStatusCode, message: string, trailers?: Metadata) {
    super(message);
    this.name = 'GrpcError';
    this.code = code;
    this.trailers = trailers;
  }
}

/** The status a call ended with, as sent in the trailers. */
export interface CallStatus {
  readonly code: GrpcStatusCode;
  readonly message: string;
  readonly trailers?: Metadata | undefined;
}

const HEX_DIGITS = '0123456789ABCDEF';
const PERCENT = 0x25;
const PRINTABLE_FIRST = 0x20;
const PRINTABLE_LAST = 0x7e;

function needsPercentEncoding(byte: number): boolean {
  return byte < PRINTABLE_FIRST || byte > PRINTABLE_LAST || byte === PERCENT;
}

/** Encodes a status message for the `grpc-message` trailer: UTF-8, then %XX for bytes outside 0x20–0x7E and '%'. */
export function encodeGrpcMessage(message: string): string {
  let plain = true;
  for (let i = 0; i < message.length; i++) {
    const unit = message.charCodeAt(i);
    if (needsPercentEncoding(unit)) {
      plain = false;
      break;
    }
  }
  if (plain) return message;
  let encoded = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    if (needsPercentEncoding(byte)) {
      encoded += `%${HEX_DIGITS[byte >> 4]}${HEX_DIGITS[byte & 0x0f]}`;
    } else {
      encoded += String.fromCharCode(byte);
    }
  }
  return encoded;
}

/**
 * Decodes a `grpc-message` value. Broken %-escapes are kept as they are (the spec forbids failing on
 * them), and invalid UTF-8 becomes U+FFFD.
 */
export function decodeGrpcMessage(encoded: string): string {
  if (!encoded.includes('%')) return encoded;
  const bytes: number[] = [];
  let i = 0;
  while (i < encoded.length) {
    if (encoded.charCodeAt(i) === PERCENT && isHexPair(encoded, i + 1)) {
      bytes.push(Number.parseInt(encoded.slice(i + 1, i + 3), 16));
      i += 3;
      continue;
    }
    const codePoint = encoded.codePointAt(i) ?? 0;
    const character = String.fromCodePoint(codePoint);
    bytes.push(...Buffer.from(character, 'utf8'));
    i += character.length;
  }
  return Buffer.from(bytes).toString('utf8');
}

function isHexPair(text: string, at: number): boolean {
  return /^[0-9a-fA-F]{2}$/.test(text.slice(at, at + 2));
}
