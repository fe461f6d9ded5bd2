import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { encodeRaftBatch } from './codec.js';
import {
  encodeFrame,
  FRAME_HEADER_BYTES,
  FRAME_PAYLOAD_BYTES_MAX,
  type Frame,
  FrameDecoder,
  type FrameType,
  PROTOCOL_VERSION,
  sealFrame,
} from './frame.js';
import type { FrameError } from './frame-error.js';
import { binaryData, oneOfEveryType } from './messages.fixture.js';

const SEED = Number(process.env.SYNOD_TEST_SEED ?? 20_240_603);
const ALL_TYPES: readonly FrameType[] = ['hello', 'raft-batch', 'ping', 'pong'];

interface Collected {
  readonly frames: { type: FrameType; payload: Buffer }[];
  readonly error: FrameError | undefined;
}

function feed(decoder: FrameDecoder, chunks: readonly Uint8Array[]): Collected {
  const frames: { type: FrameType; payload: Buffer }[] = [];
  let error: FrameError | undefined;
  for (const chunk of chunks) {
    // Payload views are only valid during the callback: copy, as a real consumer would.
    error = decoder.push(chunk, (frame: Frame) =>
      frames.push({ type: frame.type, payload: Buffer.from(frame.payload) }),
    );
    if (error) break;
  }
  return { frames, error };
}

function splitAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  return chunks;
}

const batchFrame = sealFrame('raft-batch', encodeRaftBatch(oneOfEveryType(), FRAME_HEADER_BYTES));
const stream = Buffer.concat([
  encodeFrame('hello', Buffer.from('hi')),
  batchFrame,
  encodeFrame('ping', new Uint8Array(0)),
  encodeFrame('pong', Uint8Array.from([1, 2, 3])),
  batchFrame,
]);

test('frames split at arbitrary points come out whole and in order', () => {
  const whole = feed(new FrameDecoder({ accept: ALL_TYPES }), [stream]);
  assert.equal(whole.error, undefined);
  assert.deepEqual(
    whole.frames.map((frame) => frame.type),
    ['hello', 'raft-batch', 'ping', 'pong', 'raft-batch'],
  );
  fc.assert(
    fc.property(fc.array(fc.nat(), { maxLength: 40 }), (cuts) => {
      const split = feed(new FrameDecoder({ accept: ALL_TYPES }), splitAt(stream, cuts));
      assert.deepEqual(split, whole);
    }),
    { seed: SEED, numRuns: 500 },
  );
});

test('a stream fed one byte at a time decodes the same frames', () => {
  const bytes = [...stream].map((byte) => Uint8Array.of(byte));
  const frames = feed(new FrameDecoder({ accept: ALL_TYPES }), bytes);
  assert.deepEqual(frames, feed(new FrameDecoder({ accept: ALL_TYPES }), [stream]));
});

test('a payload inside one chunk is handed out as a view, a split one is assembled once', () => {
  const frame = encodeFrame('raft-batch', binaryData(1000));
  const payloads: Uint8Array[] = [];
  const decoder = new FrameDecoder({ accept: ['raft-batch'] });
  decoder.push(frame, (decoded) => payloads.push(decoded.payload));
  assert.equal(payloads[0]!.buffer, frame.buffer);
  decoder.push(frame.subarray(0, 500), (decoded) => payloads.push(decoded.payload));
  assert.equal(decoder.bufferedBytes, 500 - FRAME_HEADER_BYTES);
  decoder.push(frame.subarray(500), (decoded) => payloads.push(decoded.payload));
  assert.equal(payloads.length, 2);
  assert.deepEqual(Buffer.from(payloads[1]!), Buffer.from(binaryData(1000)));
  assert.equal(decoder.bufferedBytes, 0);
});

test('a 4 MiB frame arriving in 1 KiB pieces is buffered in one allocation of its size', () => {
  const payload = binaryData(4 * 1024 * 1024);
  const frame = encodeFrame('raft-batch', payload);
  const decoder = new FrameDecoder({ accept: ['raft-batch'] });
  const received: Uint8Array[] = [];
  for (let offset = 0; offset < frame.length; offset += 1024) {
    decoder.push(frame.subarray(offset, offset + 1024), (decoded) => received.push(decoded.payload));
  }
  assert.equal(received.length, 1);
  assert.equal(received[0]!.buffer.byteLength, payload.length);
  assert.ok(Buffer.from(received[0]!).equals(payload));
});

function headerWith(edit: (header: Buffer) => void, payload = Buffer.from('payload')): Buffer {
  const frame = encodeFrame('raft-batch', payload);
  edit(frame);
  return frame;
}

const badFrames: readonly [string, Buffer, FrameError['code']][] = [
  ['wrong magic', headerWith((h) => h.writeUInt32BE(0x48545450, 0)), 'bad-magic'],
  ['wrong version', headerWith((h) => h.writeUInt8(PROTOCOL_VERSION - 1, 4)), 'unsupported-version'],
  ['unknown frame type', headerWith((h) => h.writeUInt8(9, 5)), 'unknown-frame-type'],
  ['reserved bits', headerWith((h) => h.writeUInt16BE(1, 6)), 'reserved-bits-set'],
  [
    'CRC mismatch',
    headerWith((h) => h.writeUInt8(h.readUInt8(FRAME_HEADER_BYTES) ^ 1, FRAME_HEADER_BYTES)),
    'crc-mismatch',
  ],
  ['garbage', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), 'bad-magic'],
];

for (const [name, bytes, code] of badFrames) {
  test(`a frame with ${name} is refused with ${code}, and so is everything after it`, () => {
    const decoder = new FrameDecoder({ accept: ALL_TYPES });
    const result = feed(decoder, [bytes]);
    assert.equal(result.frames.length, 0);
    assert.equal(result.error?.code, code);
    assert.equal(
      decoder.push(batchFrame, () => assert.fail('no frame after an error')),
      result.error,
    );
  });
}

test('an oversized length is refused from the header alone, before any payload is buffered', () => {
  const header = headerWith((h) => h.writeUInt32BE(FRAME_PAYLOAD_BYTES_MAX + 1, 8)).subarray(
    0,
    FRAME_HEADER_BYTES,
  );
  const decoder = new FrameDecoder({ accept: ALL_TYPES });
  assert.equal(decoder.push(header, () => {})?.code, 'frame-too-large');
  assert.equal(decoder.bufferedBytes, 0);
  const small = new FrameDecoder({ accept: ALL_TYPES, raftBatchBytesMax: 4 });
  assert.equal(small.push(encodeFrame('raft-batch', new Uint8Array(5)), () => {})?.code, 'frame-too-large');
  assert.equal(small.push(encodeFrame('ping', new Uint8Array(17)), () => {})?.code, 'frame-too-large');
});

test('a frame type not accepted yet is refused until the decoder accepts it', () => {
  const decoder = new FrameDecoder({ accept: ['hello'] });
  assert.equal(feed(decoder, [batchFrame]).error?.code, 'unexpected-frame');
  const next = new FrameDecoder({ accept: ['hello'] });
  next.accept(['raft-batch']);
  assert.equal(feed(next, [batchFrame]).frames.length, 1);
});

test('random bytes, alone or behind a valid header prefix, yield frames or a FrameError and never throw', () => {
  const validPrefix = batchFrame.subarray(0, 8); // magic, version, type, reserved
  fc.assert(
    fc.property(
      fc.boolean(),
      fc.uint8Array({ maxLength: 200 }),
      fc.array(fc.nat(), { maxLength: 5 }),
      (prefixed, tail, cuts) => {
        const bytes = prefixed ? Buffer.concat([validPrefix, tail]) : Buffer.from(tail);
        const decoder = new FrameDecoder({ accept: ALL_TYPES, raftBatchBytesMax: 1024 });
        const result = feed(decoder, splitAt(bytes, cuts));
        assert.ok(result.error === undefined || result.error.name === 'FrameError');
        assert.ok(decoder.bufferedBytes <= FRAME_HEADER_BYTES + 1024);
      },
    ),
    { seed: SEED, numRuns: 2_000 },
  );
});
