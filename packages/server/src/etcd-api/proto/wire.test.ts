// Laws and edge cases of the protobuf wire reader and writer. fast-check prints the seed and the
// shrunk input of any failure.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  fieldTag,
  MESSAGE_NESTING_MAX,
  ProtoDecodeError,
  ProtoReader,
  ProtoWriter,
  WireType,
} from './wire.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
/** Hex bytes separated by single spaces; on each line, two spaces start a comment. */
const fromHex = (text: string): Uint8Array => {
  const digits = text
    .split('\n')
    .map((line) => line.trim().split('  ', 1)[0]!.replaceAll(' ', ''))
    .join('');
  assert.match(digits, /^([0-9a-f]{2})*$/);
  return new Uint8Array(Buffer.from(digits, 'hex'));
};

function written(write: (writer: ProtoWriter) => void): Uint8Array {
  const writer = new ProtoWriter();
  write(writer);
  return writer.finish();
}

/** Reads the single field of `bytes` with `read`, checking it consumed everything. */
function readOne<T>(bytes: Uint8Array, read: (reader: ProtoReader) => T): T {
  const reader = new ProtoReader(bytes);
  reader.tag();
  const value = read(reader);
  assert.ok(reader.done());
  return value;
}

describe('protobuf wire format', () => {
  test('varints match the encoding guide’s examples', () => {
    assert.equal(hex(written((w) => w.int64Field(1, 150))), '089601');
    assert.equal(hex(written((w) => w.int64Field(1, 1))), '0801');
    assert.equal(hex(written((w) => w.int64Field(1, -1))), '08ffffffffffffffffff01');
    assert.equal(hex(written((w) => w.int64BigIntField(1, 2n ** 63n - 1n))), '08ffffffffffffffff7f');
    assert.equal(hex(written((w) => w.uint64BigIntField(1, 2n ** 64n - 1n))), '08ffffffffffffffffff01');
    assert.equal(
      hex(written((w) => w.bytesField(2, new TextEncoder().encode('testing')))),
      '120774657374696e67',
    );
  });

  test('proto3 defaults are left out; the *Always writers keep them', () => {
    const bytes = written((w) => {
      w.int64Field(1, 0);
      w.int64BigIntField(2, 0n);
      w.boolField(3, false);
      w.bytesField(4, new Uint8Array(0));
      w.stringField(5, '');
      w.enumField(6, 0);
    });
    assert.equal(bytes.length, 0);
    assert.equal(hex(written((w) => w.int64FieldAlways(4, 0))), '2000');
    assert.equal(hex(written((w) => w.bytesFieldAlways(7, new Uint8Array(0)))), '3a00');
  });

  test('int64 numbers survive the round trip, negative ones included', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (value) => {
        const bytes = written((w) => w.int64FieldAlways(1, value));
        assert.equal(
          readOne(bytes, (r) => r.int64()),
          value,
        );
        assert.equal(
          readOne(bytes, (r) => r.int64BigInt()),
          BigInt(value),
        );
      }),
    );
  });

  test('64-bit ids survive the round trip as bigint, signed and unsigned', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
        (u, s) => {
          assert.equal(
            readOne(
              written((w) => w.int64BigIntFieldAlways(1, u)),
              (r) => r.uint64BigInt(),
            ),
            u,
          );
          assert.equal(
            readOne(
              written((w) => w.int64BigIntFieldAlways(1, s)),
              (r) => r.int64BigInt(),
            ),
            s,
          );
        },
      ),
    );
  });

  test('strings and bytes of any length survive, whatever the length prefix grows to', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc.uint8Array({ maxLength: 20_000 }),
        (text, data) => {
          const bytes = written((w) => {
            w.stringFieldAlways(1, text);
            w.bytesFieldAlways(2, data);
          });
          const reader = new ProtoReader(bytes);
          reader.tag();
          assert.equal(reader.string(), Buffer.from(text, 'utf8').toString('utf8'));
          reader.tag();
          assert.deepEqual(reader.bytes(), data);
          assert.ok(reader.done());
        },
      ),
    );
  });

  test('embedded messages get multi-byte lengths when they outgrow the reserved byte', () => {
    for (const size of [0, 127, 128, 16_383, 16_384, 70_000]) {
      const payload = new Uint8Array(size).fill(7);
      const bytes = written((w) => {
        const start = w.beginMessage(3);
        w.bytesField(1, payload);
        w.endMessage(start);
        w.int64Field(4, 9);
      });
      const reader = new ProtoReader(bytes);
      assert.equal(reader.tag(), fieldTag(3, WireType.LENGTH_DELIMITED));
      const inner = reader.message();
      if (size > 0) {
        inner.tag();
        assert.deepEqual(inner.bytes(), payload);
      }
      assert.ok(inner.done());
      assert.equal(reader.tag(), fieldTag(4, WireType.VARINT));
      assert.equal(reader.int64(), 9);
    }
  });

  test('bytes are copied into plain Uint8Arrays, not views of the input', () => {
    const input = Buffer.from(written((w) => w.bytesField(1, new Uint8Array([1, 2, 3]))));
    const value = readOne(input, (r) => r.bytes());
    assert.equal(Object.getPrototypeOf(value), Uint8Array.prototype);
    input[2] = 99;
    assert.deepEqual(value, new Uint8Array([1, 2, 3]));
  });

  test('unknown fields of every wire type are skipped, groups included', () => {
    const bytes = fromHex(`
      08 96 01                      field 1 varint
      11 01 02 03 04 05 06 07 08    field 2 fixed64
      1a 03 61 62 63                field 3 length-delimited
      23 08 01 2b 10 02 2c 24       field 4 group holding field 1 and a nested group 5
      2d 01 02 03 04                field 5 fixed32
      30 2a                         field 6 varint: the one we want
    `);
    const reader = new ProtoReader(bytes);
    let wanted: number | undefined;
    while (!reader.done()) {
      const tag = reader.tag();
      if (tag === fieldTag(6, WireType.VARINT)) wanted = reader.int64();
      else reader.skip(tag);
    }
    assert.equal(wanted, 42);
  });

  test('malformed input throws ProtoDecodeError, and says where', () => {
    const cases: Record<string, string> = {
      'truncated varint': '08 96',
      'varint longer than 10 bytes': '08 ff ff ff ff ff ff ff ff ff ff 01',
      'varint overflowing 64 bits': '08 ff ff ff ff ff ff ff ff ff 02',
      'length past the end': '0a 05 61 62',
      'field number 0': '00 01',
      'wire type 6': '0e 01',
      'wire type 7': '0f 01',
      'unclosed group': '0b 08 01',
      'mismatched end group': '0b 14',
      'stray end group': '0c',
      'truncated fixed64': '09 01 02 03',
      'truncated fixed32': '0d 01',
    };
    for (const [name, text] of Object.entries(cases)) {
      const reader = new ProtoReader(fromHex(text));
      assert.throws(
        () => {
          while (!reader.done()) reader.skip(reader.tag());
        },
        (error: unknown) => error instanceof ProtoDecodeError && /at byte \d+/.test(error.message),
        name,
      );
    }
  });

  test('values outside what a number holds exactly are refused, not rounded', () => {
    const big = written((w) => w.int64BigIntFieldAlways(1, 2n ** 53n));
    assert.throws(() => readOne(big, (r) => r.int64()), ProtoDecodeError);
    assert.throws(() => readOne(big, (r) => r.uint64()), ProtoDecodeError);
    const negative = written((w) => w.int64BigIntFieldAlways(1, -(2n ** 53n)));
    assert.throws(() => readOne(negative, (r) => r.int64()), ProtoDecodeError);
    assert.equal(
      readOne(
        written((w) => w.int64FieldAlways(1, -(2 ** 53 - 1))),
        (r) => r.int64(),
      ),
      -(2 ** 53 - 1),
    );
  });

  test('invalid UTF-8 in a string field is refused', () => {
    assert.throws(() => readOne(fromHex('0a 02 c3 28'), (r) => r.string()), /not valid UTF-8/);
  });

  test('nesting deeper than the limit is refused, for messages and for groups', () => {
    let bytes: Uint8Array = new Uint8Array(0);
    for (let i = 0; i <= MESSAGE_NESTING_MAX; i++) {
      const inner = bytes;
      bytes = written((w) => w.bytesFieldAlways(1, inner));
    }
    const descend = (reader: ProtoReader): void => {
      while (!reader.done()) {
        reader.tag();
        descend(reader.message());
      }
    };
    assert.throws(() => descend(new ProtoReader(bytes)), /nested deeper than 100/);
    const groups = new Uint8Array([
      ...Array(MESSAGE_NESTING_MAX + 1).fill(0x0b),
      ...Array(MESSAGE_NESTING_MAX + 1).fill(0x0c),
    ]);
    assert.throws(
      () => new ProtoReader(groups).skip(new ProtoReader(groups).tag()),
      /nested deeper than 100/,
    );
  });

  test('the writer refuses values a field cannot hold (programmer errors)', () => {
    assert.throws(() => written((w) => w.int64Field(1, 1.5)), RangeError);
    assert.throws(() => written((w) => w.int64Field(1, 2 ** 53)), RangeError);
    assert.throws(() => written((w) => w.uint64Field(1, -1)), RangeError);
    assert.throws(() => written((w) => w.int64BigIntField(1, 2n ** 64n)), RangeError);
    assert.throws(() => written((w) => w.int64Field(0, 1)), RangeError);
  });
});
