// Laws of the message deframer. fast-check prints the seed and the shrunk input of any failure.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { type DeframeFailure, frameMessage, MESSAGE_PREFIX_BYTES, MessageDeframer } from './framing.js';

const MAX_BYTES = 4096;

function deframeAll(chunks: readonly Uint8Array[], maxBytes = MAX_BYTES) {
  const messages: Uint8Array[] = [];
  const deframer = new MessageDeframer(maxBytes, (message) => messages.push(Uint8Array.from(message)));
  let failure: DeframeFailure | undefined;
  for (const chunk of chunks) {
    failure = deframer.push(chunk);
    if (failure !== undefined) break;
  }
  return { messages, failure: failure ?? deframer.finish() };
}

/** Cuts `bytes` at the given (sorted, deduplicated) positions. */
function split(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const positions = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const position of positions) {
    chunks.push(bytes.subarray(start, position));
    start = position;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}

function prefix(flag: number, length: number): Uint8Array {
  const bytes = Buffer.alloc(MESSAGE_PREFIX_BYTES);
  bytes[0] = flag;
  bytes.writeUInt32BE(length, 1);
  return bytes;
}

describe('message deframer', () => {
  test('any split of a stream of framed messages yields exactly those messages', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (messages, cuts) => {
          const stream = Buffer.concat(messages.map((message) => frameMessage(message)));
          const result = deframeAll(split(stream, cuts));
          assert.equal(result.failure, undefined);
          assert.deepEqual(result.messages, messages);
        },
      ),
    );
  });

  test('a message lying whole inside one chunk is handed out without a copy', () => {
    const chunk = Buffer.concat([frameMessage(Buffer.from('first')), frameMessage(Buffer.from('second'))]);
    const views: Uint8Array[] = [];
    const deframer = new MessageDeframer(MAX_BYTES, (message) => views.push(message));
    assert.equal(deframer.push(chunk), undefined);
    assert.equal(views.length, 2);
    for (const view of views) assert.equal(view.buffer, chunk.buffer);
  });

  test('a message split across chunks is reassembled into a buffer of exactly its length', () => {
    const frame = frameMessage(Buffer.alloc(100_000, 7));
    const seen: Uint8Array[] = [];
    const deframer = new MessageDeframer(1 << 20, (message) => seen.push(message));
    deframer.push(frame.subarray(0, 3));
    deframer.push(frame.subarray(3, 500));
    deframer.push(frame.subarray(500));
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.buffer.byteLength, 100_000);
  });

  test('a prefix claiming a large message costs memory only as its bytes arrive', () => {
    const deframer = new MessageDeframer(1 << 30, () => {});
    deframer.push(prefix(0, 1 << 30));
    deframer.push(new Uint8Array(10));
    const buffered = (deframer as unknown as { body: Uint8Array }).body.byteLength;
    assert.ok(buffered <= 16 * 1024, `${buffered} bytes allocated for 10 received`);
  });

  test('a length over the limit fails as soon as the prefix arrives, before any body is buffered', () => {
    const result = deframeAll([prefix(0, MAX_BYTES + 1)]);
    assert.deepEqual(result.failure, { kind: 'tooLarge', lengthBytes: MAX_BYTES + 1, maxBytes: MAX_BYTES });
    const atLimit = deframeAll([frameMessage(new Uint8Array(MAX_BYTES))]);
    assert.equal(atLimit.failure, undefined);
  });

  test('the compressed flag and unknown flags are refused', () => {
    assert.deepEqual(deframeAll([prefix(1, 0)]).failure, { kind: 'compressed' });
    assert.deepEqual(deframeAll([prefix(2, 0)]).failure, { kind: 'invalidFlag', flag: 2 });
  });

  test('a stream that ends inside a prefix or a body is truncated', () => {
    assert.deepEqual(deframeAll([prefix(0, 10).subarray(0, 3)]).failure, {
      kind: 'truncated',
      receivedBytes: 3,
      expectedBytes: MESSAGE_PREFIX_BYTES,
    });
    assert.deepEqual(deframeAll([prefix(0, 10), new Uint8Array(4)]).failure, {
      kind: 'truncated',
      receivedBytes: 4,
      expectedBytes: 10,
    });
  });

  test('after a failure nothing more is read', () => {
    const seen: Uint8Array[] = [];
    const deframer = new MessageDeframer(MAX_BYTES, (message) => seen.push(message));
    assert.deepEqual(deframer.push(prefix(9, 0)), { kind: 'invalidFlag', flag: 9 });
    assert.deepEqual(deframer.push(frameMessage(Buffer.from('x'))), { kind: 'invalidFlag', flag: 9 });
    assert.equal(seen.length, 0);
  });

  test('empty messages are messages', () => {
    const result = deframeAll([
      Buffer.concat([frameMessage(new Uint8Array(0)), frameMessage(new Uint8Array(0))]),
    ]);
    assert.equal(result.messages.length, 2);
  });
});
