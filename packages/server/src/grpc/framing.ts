// Length-prefixed messages (PROTOCOL-HTTP2.md): a 1-byte compressed flag, a 4-byte big-endian
// length, then the message. DATA frame boundaries bear no relation to message boundaries, so the
// deframer reassembles across chunks: a message that lies whole inside one chunk is handed out as a
// view of that chunk (no copy); only a message split across chunks is copied, once, into a buffer
// of exactly its length.

/** Compressed flag (1 byte) + message length (4 bytes). */
export const MESSAGE_PREFIX_BYTES = 5;
/** The largest length a 4-byte prefix can state. */
export const MESSAGE_LENGTH_LIMIT_BYTES = 0xffff_ffff;

/** First buffer for a message split across chunks (one HTTP/2 frame at the default frame size). */
const REASSEMBLY_INITIAL_BYTES = 16 * 1024;
const FLAG_UNCOMPRESSED = 0;
const FLAG_COMPRESSED = 1;
const EMPTY_MESSAGE = new Uint8Array(0);

/** Why a request's message stream cannot be read; the call ends, the connection stays up. */
export type DeframeFailure =
  | { readonly kind: 'compressed' }
  | { readonly kind: 'invalidFlag'; readonly flag: number }
  | { readonly kind: 'tooLarge'; readonly lengthBytes: number; readonly maxBytes: number }
  | { readonly kind: 'truncated'; readonly receivedBytes: number; readonly expectedBytes: number };

/**
 * Splits a byte stream into gRPC messages.
 *
 * @example
 * const deframer = new MessageDeframer(4 << 20, (message) => messages.push(message));
 * for (const chunk of chunks) if (deframer.push(chunk)) break; // a failure ends the call
 * deframer.finish(); // at end of stream: a failure if a message was cut short
 */
export class MessageDeframer {
  private readonly maxMessageBytes: number;
  private readonly onMessage: (message: Uint8Array) => void;
  /** The prefix of the next message when it arrives split across chunks (made only then: rare). */
  private prefix: Uint8Array | undefined;
  private prefixFilled = 0;
  /** Length of the message being reassembled across chunks; -1 between messages. */
  private bodyLength = -1;
  /** Its bytes so far, at the start of a buffer of at most bodyLength bytes. */
  private body: Uint8Array = EMPTY_MESSAGE;
  private bodyFilled = 0;
  private failure: DeframeFailure | undefined;

  constructor(maxMessageBytes: number, onMessage: (message: Uint8Array) => void) {
    if (
      !Number.isInteger(maxMessageBytes) ||
      maxMessageBytes < 0 ||
      maxMessageBytes > MESSAGE_LENGTH_LIMIT_BYTES
    ) {
      throw new RangeError(`maxMessageBytes must be an integer in [0, 2^32 - 1], got ${maxMessageBytes}`);
    }
    this.maxMessageBytes = maxMessageBytes;
    this.onMessage = onMessage;
  }

  /** Consumes a chunk, handing out every message it completes. After a failure, nothing more is read. */
  push(chunk: Uint8Array): DeframeFailure | undefined {
    if (this.failure !== undefined) return this.failure;
    let offset = 0;
    while (offset < chunk.length) {
      if (this.bodyLength >= 0) {
        offset = this.fillBody(chunk, offset);
        continue;
      }
      const start = this.readPrefix(chunk, offset);
      if (start === undefined) return undefined;
      offset = start.offset;
      const failure = this.check(start.flag, start.length);
      if (failure !== undefined) {
        this.failure = failure;
        return failure;
      }
      offset = this.startBody(chunk, offset, start.length);
    }
    return undefined;
  }

  /** Called at end of stream: a failure if the stream stopped inside a message. */
  finish(): DeframeFailure | undefined {
    if (this.failure !== undefined) return this.failure;
    if (this.bodyLength >= 0) {
      return { kind: 'truncated', receivedBytes: this.bodyFilled, expectedBytes: this.bodyLength };
    }
    if (this.prefixFilled > 0) {
      return { kind: 'truncated', receivedBytes: this.prefixFilled, expectedBytes: MESSAGE_PREFIX_BYTES };
    }
    return undefined;
  }

  /** Reads a message prefix at `offset`, or stores a partial one and returns undefined. */
  private readPrefix(
    chunk: Uint8Array,
    offset: number,
  ): { flag: number; length: number; offset: number } | undefined {
    if (this.prefixFilled === 0 && chunk.length - offset >= MESSAGE_PREFIX_BYTES) {
      return {
        flag: chunk[offset]!,
        length: readUint32(chunk, offset + 1),
        offset: offset + MESSAGE_PREFIX_BYTES,
      };
    }
    const take = Math.min(MESSAGE_PREFIX_BYTES - this.prefixFilled, chunk.length - offset);
    this.prefix ??= new Uint8Array(MESSAGE_PREFIX_BYTES);
    const prefix = this.prefix;
    prefix.set(chunk.subarray(offset, offset + take), this.prefixFilled);
    this.prefixFilled += take;
    if (this.prefixFilled < MESSAGE_PREFIX_BYTES) return undefined;
    this.prefixFilled = 0;
    return { flag: prefix[0]!, length: readUint32(prefix, 1), offset: offset + take };
  }

  private check(flag: number, length: number): DeframeFailure | undefined {
    if (flag === FLAG_COMPRESSED) return { kind: 'compressed' };
    if (flag !== FLAG_UNCOMPRESSED) return { kind: 'invalidFlag', flag };
    if (length > this.maxMessageBytes)
      return { kind: 'tooLarge', lengthBytes: length, maxBytes: this.maxMessageBytes };
    return undefined;
  }

  /** Hands out a message lying whole in the chunk, or starts reassembling it. */
  private startBody(chunk: Uint8Array, offset: number, length: number): number {
    if (length === 0) {
      this.onMessage(EMPTY_MESSAGE);
      return offset;
    }
    if (chunk.length - offset >= length) {
      this.onMessage(chunk.subarray(offset, offset + length));
      return offset + length;
    }
    this.bodyLength = length;
    this.body = new Uint8Array(Math.min(length, REASSEMBLY_INITIAL_BYTES));
    this.bodyFilled = 0;
    return offset;
  }

  private fillBody(chunk: Uint8Array, offset: number): number {
    const take = Math.min(this.bodyLength - this.bodyFilled, chunk.length - offset);
    const needed = this.bodyFilled + take;
    if (needed > this.body.length) {
      const grown = new Uint8Array(Math.min(this.bodyLength, Math.max(needed, this.body.length * 2)));
      grown.set(this.body.subarray(0, this.bodyFilled));
      this.body = grown;
    }
    this.body.set(chunk.subarray(offset, offset + take), this.bodyFilled);
    this.bodyFilled = needed;
    if (needed === this.bodyLength) {
      const body = this.body;
      this.bodyLength = -1;
      this.body = EMPTY_MESSAGE;
      this.bodyFilled = 0;
      this.onMessage(body);
    }
    return offset + take;
  }
}

function readUint32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

/** One uncompressed length-prefixed message, ready to write to a stream. */
export function frameMessage(message: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(MESSAGE_PREFIX_BYTES + message.length);
  writeFramedMessage(frame, 0, message);
  return frame;
}

/** Writes `message` with its gRPC prefix into `into` at `offset` (room checked by the caller); returns the end. */
export function writeFramedMessage(into: Buffer, offset: number, message: Uint8Array): number {
  if (message.length > MESSAGE_LENGTH_LIMIT_BYTES) {
    throw new RangeError(`a gRPC message cannot exceed ${MESSAGE_LENGTH_LIMIT_BYTES} bytes`);
  }
  into[offset] = FLAG_UNCOMPRESSED;
  into.writeUInt32BE(message.length, offset + 1);
  into.set(message, offset + MESSAGE_PREFIX_BYTES);
  return offset + MESSAGE_PREFIX_BYTES + message.length;
}
