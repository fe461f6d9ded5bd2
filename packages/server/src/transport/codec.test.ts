import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Message } from '@synod/raft';
import fc from 'fast-check';
import {
  decodeHello,
  decodeRaftBatch,
  ENTRIES_PER_MESSAGE_MAX,
  encodeHello,
  encodeRaftBatch,
  ID_BYTES_MAX,
  MESSAGE_TYPE_CODES,
  MESSAGES_PER_BATCH_MAX,
} from './codec.js';
import { FrameError } from './frame-error.js';
import { arbitraryMessage, oneOfEveryType } from './messages.fixture.js';
import { ByteWriter } from './wire-bytes.js';

const SEED = Number(process.env.SYNOD_TEST_SEED ?? 20_240_602);

function decoded(payload: Uint8Array): readonly Message[] {
  const result = decodeRaftBatch(payload);
  if (result instanceof FrameError) assert.fail(`unexpected FrameError: ${result.message}`);
  return result;
}

function rejection(payload: Uint8Array): FrameError {
  const result = decodeRaftBatch(payload);
  assert.ok(result instanceof FrameError, 'expected a FrameError');
  assert.equal(result.code, 'malformed-payload');
  return result;
}

/** A hand-built payload: one message with the given header ids, then `body`. */
function payloadWith(
  type: number,
  ids: readonly string[],
  term: number,
  body: (writer: ByteWriter) => void,
): Buffer {
  const writer = new ByteWriter(64);
  writer.varuint(1);
  writer.u8(type);
  for (const id of ids) {
    writer.varuint(0);
    writer.string(id);
  }
  writer.varuint(term);
  body(writer);
  return writer.finish();
}

test('a batch with one message of every type decodes to equal messages, in order', () => {
  const messages = oneOfEveryType();
  assert.deepEqual(decoded(encodeRaftBatch(messages)), messages);
});

test('decoded binary data is a plain Uint8Array copy, not a view of the frame', () => {
  const payload = encodeRaftBatch(oneOfEveryType());
  const [, append] = decoded(payload);
  assert.ok(append?.type === 'append');
  const data = append.entries[0]!.data;
  assert.equal(Object.getPrototypeOf(data), Uint8Array.prototype);
  assert.notEqual(data.buffer, payload.buffer);
});

test("an append's entries share one copy of their part of the frame, one allocation per message", () => {
  const entries = Array.from({ length: 20 }, (_, i) => ({
    term: 3,
    index: 11 + i,
    kind: 'normal' as const,
    data: new Uint8Array(100 + i).fill(i),
  }));
  const message = { ...oneOfEveryType()[1]!, prevLogIndex: 10, prevLogTerm: 3, term: 3, entries } as Message;
  const payload = encodeRaftBatch([oneOfEveryType()[0]!, message]);
  const [, append] = decoded(payload);
  assert.ok(append?.type === 'append');
  const buffers = new Set(append.entries.map((entry) => entry.data.buffer));
  assert.equal(buffers.size, 1);
  const [shared] = buffers;
  assert.notEqual(shared, payload.buffer);
  const dataBytes = entries.reduce((sum, entry) => sum + entry.data.byteLength, 0);
  // The entries' data plus their few header bytes each: not the whole frame.
  assert.ok(shared!.byteLength < dataBytes + 4 * entries.length, `${shared!.byteLength} bytes`);
  assert.ok(shared!.byteLength < payload.byteLength);
  assert.deepEqual(append.entries, entries);
});

test('any batch of valid messages survives encode and decode unchanged', () => {
  fc.assert(
    fc.property(fc.array(arbitraryMessage, { maxLength: 8 }), (messages) => {
      assert.deepEqual(decoded(encodeRaftBatch(messages)), messages);
    }),
    { seed: SEED, numRuns: 500 },
  );
});

test('headroom is left untouched in front of the payload', () => {
  const messages = oneOfEveryType();
  const withHeadroom = encodeRaftBatch(messages, 16);
  assert.deepEqual(decoded(withHeadroom.subarray(16)), messages);
});

test('repeated ids are written once per batch', () => {
  const one = encodeRaftBatch([oneOfEveryType()[11]!]);
  const many = encodeRaftBatch(Array.from({ length: 100 }, () => oneOfEveryType()[11]!));
  // A timeoutNow after the first costs 5 bytes: type, three string numbers, term.
  assert.equal(many.length - one.length, 99 * 5);
});

test('random bytes decode only to a FrameError or to well-formed messages', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const result = decodeRaftBatch(bytes);
      if (result instanceof FrameError) return;
      // Whatever decodes must be something our own encoder accepts and reproduces.
      assert.deepEqual(decoded(encodeRaftBatch(result)), result);
    }),
    { seed: SEED, numRuns: 5_000 },
  );
});

test('corrupting or truncating a valid batch yields a FrameError or well-formed messages, never a throw', () => {
  const payload = encodeRaftBatch(oneOfEveryType());
  fc.assert(
    fc.property(
      fc.array(fc.record({ at: fc.nat({ max: payload.length - 1 }), byte: fc.nat({ max: 255 }) }), {
        maxLength: 4,
      }),
      fc.nat({ max: payload.length }),
      (flips, keep) => {
        const corrupted = Uint8Array.from(payload.subarray(0, keep));
        for (const { at, byte } of flips) if (at < corrupted.length) corrupted[at] = byte;
        const result = decodeRaftBatch(corrupted);
        if (!(result instanceof FrameError)) assert.deepEqual(decoded(encodeRaftBatch(result)), result);
      },
    ),
    { seed: SEED, numRuns: 5_000 },
  );
});

test('an unknown message type code is rejected', () => {
  const error = rejection(payloadWith(99, ['g', 'a', 'b'], 1, () => {}));
  assert.match(error.message, /unknown message type code 99/);
});

test('a boolean byte other than 0 or 1 is rejected', () => {
  const error = rejection(payloadWith(MESSAGE_TYPE_CODES.voteResponse, ['g', 'a', 'b'], 1, (w) => w.u8(2)));
  assert.match(error.message, /boolean/);
});

test('a truncated message and trailing bytes are rejected', () => {
  const payload = encodeRaftBatch(oneOfEveryType());
  assert.match(rejection(payload.subarray(0, payload.length - 1)).message, /ends early|needs/);
  assert.match(rejection(Buffer.concat([payload, Buffer.from([0])])).message, /trailing/);
});

test('empty ids, a message to its sender and over-long ids are rejected', () => {
  const timeoutNow = MESSAGE_TYPE_CODES.timeoutNow;
  assert.match(rejection(payloadWith(timeoutNow, ['', 'a', 'b'], 1, () => {})).message, /group is empty/);
  assert.match(rejection(payloadWith(timeoutNow, ['g', 'a', 'a'], 1, () => {})).message, /to itself/);
  const longId = 'x'.repeat(ID_BYTES_MAX + 1);
  assert.match(rejection(payloadWith(timeoutNow, ['g', longId, 'b'], 1, () => {})).message, /longer than/);
});

test('a reference to a string not yet introduced is rejected', () => {
  const writer = new ByteWriter(16);
  writer.varuint(1);
  writer.u8(MESSAGE_TYPE_CODES.timeoutNow);
  writer.varuint(3);
  assert.match(rejection(writer.finish()).message, /unknown string 3/);
});

test('invalid UTF-8 in an id is rejected rather than replaced', () => {
  const writer = new ByteWriter(16);
  writer.varuint(1);
  writer.u8(MESSAGE_TYPE_CODES.timeoutNow);
  writer.varuint(0);
  writer.bytes(Uint8Array.from([0xc3, 0x28]));
  assert.match(rejection(writer.finish()).message, /UTF-8/);
});

test('append entries whose terms go backwards or exceed the message term are rejected', () => {
  const appendWith = (entryTerms: number[]) =>
    payloadWith(MESSAGE_TYPE_CODES.append, ['g', 'a', 'b'], 5, (w) => {
      w.varuint(10); // prevLogIndex
      w.varuint(2); // prevLogTerm
      w.varuint(0); // commit
      w.varuint(entryTerms.length);
      for (const term of entryTerms) {
        w.u8(0);
        w.varuint(term);
        w.bytes(new Uint8Array(1));
      }
    });
  assert.equal(decoded(appendWith([2, 3, 5])).length, 1);
  assert.match(rejection(appendWith([3, 2])).message, /out of order/);
  assert.match(rejection(appendWith([1])).message, /out of order/);
  assert.match(rejection(appendWith([6])).message, /out of order/);
});

test('counts above their limits are rejected before anything is allocated', () => {
  const tooMany = new ByteWriter(16);
  tooMany.varuint(MESSAGES_PER_BATCH_MAX + 1);
  assert.match(rejection(tooMany.finish()).message, /message count/);
  const entries = payloadWith(MESSAGE_TYPE_CODES.append, ['g', 'a', 'b'], 5, (w) => {
    w.varuint(0);
    w.varuint(0);
    w.varuint(0);
    w.varuint(ENTRIES_PER_MESSAGE_MAX + 1);
  });
  assert.match(rejection(entries).message, /entry count/);
  const huge = payloadWith(MESSAGE_TYPE_CODES.propose, ['g', 'a', 'b'], 5, (w) => {
    w.varuint(1);
    w.varuint(2 ** 40);
  });
  assert.match(rejection(huge).message, /proposal length/);
});

test('a snapshot chunk reaching beyond totalBytes is rejected', () => {
  const snapshot = oneOfEveryType().find((message) => message.type === 'snapshot')!;
  assert.ok(snapshot.type === 'snapshot');
  rejection(encodeRaftBatch([{ ...snapshot, totalBytes: snapshot.offset + snapshot.chunk.byteLength - 1 }]));
});

test('a varint longer than 8 bytes or above 2^53 − 1 is rejected', () => {
  assert.match(
    rejection(Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01])).message,
    /longer/,
  );
  assert.match(rejection(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])).message, /2\^53/);
});

test('encoding a message the decoder would refuse is a bug and throws', () => {
  const append = oneOfEveryType()[1]!;
  assert.ok(append.type === 'append');
  const gap = { ...append, entries: [append.entries[0]!, append.entries[2]!] };
  assert.throws(() => encodeRaftBatch([gap]), /not consecutive/);
});

test('hello round-trips and rejects an empty node id or trailing bytes', () => {
  const hello = { protocolVersion: 1, nodeId: 'node-a', clusterId: 'c0ffee' };
  assert.deepEqual(decodeHello(encodeHello(hello)), hello);
  assert.ok(decodeHello(encodeHello({ ...hello, nodeId: '' })) instanceof FrameError);
  assert.ok(decodeHello(Buffer.concat([encodeHello(hello), Buffer.from([1])])) instanceof FrameError);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const result = decodeHello(bytes);
      assert.ok(result instanceof FrameError || typeof result.nodeId === 'string');
    }),
    { seed: SEED },
  );
});
