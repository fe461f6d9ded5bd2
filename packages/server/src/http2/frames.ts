// HTTP/2 wire facts (RFC 9113): frame types, flags, error codes, settings, and the frame header.

export const CONNECTION_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
export const FRAME_HEADER_BYTES = 9;

export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

export const Flag = {
  END_STREAM: 0x1,
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

export const ErrorCode = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
} as const;

export const Setting = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
} as const;

/** Every window starts here until SETTINGS or WINDOW_UPDATE say otherwise. */
export const DEFAULT_WINDOW_BYTES = 65_535;
export const DEFAULT_MAX_FRAME_BYTES = 16_384;
export const MAX_ALLOWED_FRAME_BYTES = 16_777_215;
export const MAX_WINDOW_BYTES = 2 ** 31 - 1;

/** A frame header followed by `payload`, as one new buffer. */
export function frame(type: number, flags: number, streamId: number, payload?: Uint8Array): Buffer {
  const length = payload === undefined ? 0 : payload.length;
  const bytes = Buffer.allocUnsafe(FRAME_HEADER_BYTES + length);
  writeFrameHeader(bytes, 0, length, type, flags, streamId);
  if (payload !== undefined) bytes.set(payload, FRAME_HEADER_BYTES);
  return bytes;
}

export function writeFrameHeader(
  target: Buffer,
  offset: number,
  length: number,
  type: number,
  flags: number,
  streamId: number,
): void {
  target[offset] = length >>> 16;
  target[offset + 1] = (length >>> 8) & 0xff;
  target[offset + 2] = length & 0xff;
  target[offset + 3] = type;
  target[offset + 4] = flags;
  target.writeUInt32BE(streamId, offset + 5);
}

export function settingsFrame(settings: ReadonlyArray<readonly [number, number]>): Buffer {
  const payload = Buffer.allocUnsafe(6 * settings.length);
  settings.forEach(([id, value], index) => {
    payload.writeUInt16BE(id, index * 6);
    payload.writeUInt32BE(value, index * 6 + 2);
  });
  return frame(FrameType.SETTINGS, 0, 0, payload);
}

export function windowUpdateFrame(streamId: number, increment: number): Buffer {
  const bytes = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 4);
  writeFrameHeader(bytes, 0, 4, FrameType.WINDOW_UPDATE, 0, streamId);
  bytes.writeUInt32BE(increment, FRAME_HEADER_BYTES);
  return bytes;
}

export function rstStreamFrame(streamId: number, code: number): Buffer {
  const bytes = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 4);
  writeFrameHeader(bytes, 0, 4, FrameType.RST_STREAM, 0, streamId);
  bytes.writeUInt32BE(code, FRAME_HEADER_BYTES);
  return bytes;
}

export function goawayFrame(lastStreamId: number, code: number, debug = ''): Buffer {
  const debugBytes = Buffer.from(debug, 'utf8');
  const payload = Buffer.allocUnsafe(8 + debugBytes.length);
  payload.writeUInt32BE(lastStreamId, 0);
  payload.writeUInt32BE(code, 4);
  debugBytes.copy(payload, 8);
  return frame(FrameType.GOAWAY, 0, 0, payload);
}

export const SETTINGS_ACK_FRAME = frame(FrameType.SETTINGS, Flag.ACK, 0);
