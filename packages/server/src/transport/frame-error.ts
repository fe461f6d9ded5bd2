// The one error type for bytes that arrive from another node and cannot be trusted. A FrameError
// always means "close that connection": the sender is broken, out of date or hostile.

export type FrameErrorCode =
  /** The first four bytes are not the Synod magic: not our protocol at all. */
  | 'bad-magic'
  /** A protocol version this node does not speak. */
  | 'unsupported-version'
  /** A frame type code no version of the protocol defines. */
  | 'unknown-frame-type'
  /** A known frame type that is not allowed at this point of the conversation. */
  | 'unexpected-frame'
  /** Reserved header bits are set. */
  | 'reserved-bits-set'
  /** The declared payload length exceeds the limit for its frame type. */
  | 'frame-too-large'
  /** The payload does not match the checksum in the header. */
  | 'crc-mismatch'
  /** The payload does not decode to what its frame type promises. */
  | 'malformed-payload';

/** Bad input from a peer. Carries a stable `code` for logs and metrics. */
export class FrameError extends Error {
  override readonly name = 'FrameError';
  readonly code: FrameErrorCode;

  constructor(code: FrameErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** A broken invariant inside the transport itself: a bug, never an operating condition. */
export class TransportInvariantError extends Error {
  override readonly name = 'TransportInvariantError';
}

export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new TransportInvariantError(message);
}
