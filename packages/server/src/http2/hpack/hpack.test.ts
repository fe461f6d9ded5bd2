// HPACK codec: the RFC 7541 Appendix C examples, Huffman edge cases, interop with Node's own HTTP/2 client
// (nghttp2's encoder), and properties over random and hostile input. fast-check prints the seed and the
// shrunk input of any failure.
import assert from 'node:assert/strict';
import http2, { type OutgoingHttpHeaders } from 'node:http2';
import net from 'node:net';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { encodeHeaderBlock, HeaderListTooLargeError, HpackDecoder, HpackError } from './hpack.js';
import { huffmanDecode, huffmanEncode, huffmanEncodedLength } from './huffman.js';
import { asLatin1Buffer, latin1String } from './latin1.js';
import { STATIC_TABLE, STATIC_TABLE_LENGTH, staticFieldIndex, staticNameIndex } from './static-table.js';

const LARGE_LIST_BYTES = 1 << 20;

function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

/** Bytes from a string of '0'/'1' whose length is a multiple of 8. */
function fromBits(bits: string): Uint8Array {
  assert.equal(bits.length % 8, 0);
  const bytes = new Uint8Array(bits.length / 8);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(bits.slice(i * 8, i * 8 + 8), 2);
  return bytes;
}

function huffman(text: string): Uint8Array {
  const bytes = new Uint8Array(huffmanEncodedLength(text));
  assert.equal(huffmanEncode(text, bytes, 0), bytes.length);
  return bytes;
}

function entryBytes(fields: readonly string[]): number {
  let bytes = 0;
  for (let i = 0; i < fields.length; i += 2) bytes += fields[i]!.length + fields[i + 1]!.length + 32;
  return bytes;
}

const latin1Arbitrary = (maxLength: number) =>
  fc.uint8Array({ maxLength }).map((bytes) => Buffer.from(bytes).toString('latin1'));

describe('latin1 strings', () => {
  test('every length and byte value reads back as Buffer does', () => {
    const bytes = asLatin1Buffer(Uint8Array.from({ length: 300 }, (_, i) => (i * 97 + 13) & 0xff));
    for (let start = 0; start < 3; start++) {
      for (let end = start; end < start + 40; end++) {
        assert.equal(latin1String(bytes, start, end), bytes.toString('latin1', start, end));
      }
    }
  });
});

describe('static table', () => {
  test('has the 61 entries, with lookups by exact field and by name', () => {
    assert.equal(STATIC_TABLE.length, STATIC_TABLE_LENGTH);
    assert.deepEqual(STATIC_TABLE[0], [':authority', '']);
    assert.deepEqual(STATIC_TABLE[60], ['www-authenticate', '']);
    assert.equal(staticFieldIndex(':status', '200'), 8);
    assert.equal(staticFieldIndex(':status', '500'), 14);
    assert.equal(staticFieldIndex('accept-encoding', 'gzip, deflate'), 16);
    assert.equal(staticFieldIndex(':status', '503'), 0);
    assert.equal(staticFieldIndex('x-custom', ''), 0);
    assert.equal(staticNameIndex(':status'), 8);
    assert.equal(staticNameIndex('content-type'), 31);
    assert.equal(staticNameIndex('grpc-status'), 0);
  });
});

describe('Huffman code', () => {
  test('decodes the RFC example strings', () => {
    const examples: [string, string][] = [
      ['f1e3 c2e5 f23a 6ba0 ab90 f4ff', 'www.example.com'],
      ['a8eb 1064 9cbf', 'no-cache'],
      ['25a8 49e9 5ba9 7d7f', 'custom-key'],
      ['6402', '302'],
      ['9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3', 'https://www.example.com'],
    ];
    for (const [encoded, text] of examples) {
      const bytes = hex(encoded);
      assert.equal(huffmanDecode(bytes, 0, bytes.length), text);
      assert.deepEqual(Buffer.from(huffman(text)), bytes);
    }
  });

  test('every byte value round-trips, alone and all together', () => {
    let everyByte = '';
    for (let byte = 0; byte < 256; byte++) {
      const text = String.fromCharCode(byte);
      const bytes = huffman(text);
      assert.equal(huffmanDecode(bytes, 0, bytes.length), text, `byte ${byte}`);
      everyByte += text;
    }
    const bytes = huffman(everyByte + everyByte);
    assert.equal(huffmanDecode(bytes, 0, bytes.length), everyByte + everyByte);
  });

  test('decodes a sub-range and long strings', () => {
    const text = 'abc'.repeat(5000);
    const encoded = huffman(text);
    const framed = new Uint8Array(encoded.length + 4);
    framed.set(encoded, 2);
    assert.equal(huffmanDecode(framed, 2, 2 + encoded.length), text);
    assert.equal(huffmanDecode(framed, 0, 0), '');
  });

  test('accepts padding of up to 7 bits of 1s', () => {
    // 'a' 00011, 'a' 00011, ':' 1011100, then 7 padding bits.
    assert.equal(huffmanDecode(fromBits('00011' + '00011' + '1011100' + '1111111'), 0, 3), 'aa:');
    assert.equal(huffmanDecode(fromBits('00011' + '111'), 0, 1), 'a');
  });

  test('rejects EOS inside the string', () => {
    const eosThenA = fromBits(`${'1'.repeat(30)}00011${'1'.repeat(5)}`);
    assert.throws(() => huffmanDecode(eosThenA, 0, eosThenA.length), HpackError);
    const eosAlone = fromBits('1'.repeat(32));
    assert.throws(() => huffmanDecode(eosAlone, 0, eosAlone.length), /EOS/);
  });

  test('rejects padding longer than 7 bits', () => {
    assert.throws(() => huffmanDecode(fromBits('11111111'), 0, 1), /longer than 7 bits/);
    const padded = fromBits(`00011${'1'.repeat(11)}`);
    assert.throws(() => huffmanDecode(padded, 0, padded.length), /longer than 7 bits/);
  });

  test('rejects padding that is not all 1s', () => {
    assert.throws(() => huffmanDecode(fromBits('00011110'), 0, 1), /not all 1s/);
    assert.throws(() => huffmanDecode(fromBits('00011000'), 0, 1), /not all 1s/);
  });

  test('random latin1 strings round-trip', () => {
    fc.assert(
      fc.property(latin1Arbitrary(300), (text) => {
        const bytes = huffman(text);
        assert.equal(huffmanDecode(bytes, 0, bytes.length), text);
      }),
    );
  });

  test('random bytes either fail with HpackError or are the exact encoding of what they decode to', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        let text: string;
        try {
          text = huffmanDecode(bytes, 0, bytes.length);
        } catch (error) {
          assert.ok(error instanceof HpackError, String(error));
          return;
        }
        assert.deepEqual(huffman(text), bytes);
      }),
      { numRuns: 2000 },
    );
  });
});

interface Step {
  readonly block: string;
  readonly fields: readonly string[];
  /** Dynamic table after the block, newest first. */
  readonly table: readonly string[];
  readonly tableBytes: number;
}

function decodeSequence(maxTableBytes: number, steps: readonly Step[]): void {
  const decoder = new HpackDecoder({ maxTableBytes, maxHeaderListBytes: LARGE_LIST_BYTES });
  steps.forEach((step, i) => {
    assert.deepEqual(decoder.decode(hex(step.block)), step.fields, `fields of block ${i + 1}`);
    assert.deepEqual(decoder.tableFields(), step.table, `table after block ${i + 1}`);
    assert.equal(decoder.tableBytes, step.tableBytes, `table size after block ${i + 1}`);
    assert.equal(decoder.tableLength, step.table.length / 2);
  });
}

const C3_FIELDS = [
  [':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'www.example.com'],
  [
    ':method',
    'GET',
    ':scheme',
    'http',
    ':path',
    '/',
    ':authority',
    'www.example.com',
    'cache-control',
    'no-cache',
  ],
  [
    ':method',
    'GET',
    ':scheme',
    'https',
    ':path',
    '/index.html',
    ':authority',
    'www.example.com',
    'custom-key',
    'custom-value',
  ],
] as const;
const C3_TABLES = [
  [':authority', 'www.example.com'],
  ['cache-control', 'no-cache', ':authority', 'www.example.com'],
  ['custom-key', 'custom-value', 'cache-control', 'no-cache', ':authority', 'www.example.com'],
] as const;

const C5_DATE_21 = 'Mon, 21 Oct 2013 20:13:21 GMT';
const C5_DATE_22 = 'Mon, 21 Oct 2013 20:13:22 GMT';
const C5_LOCATION = 'https://www.example.com';
const C5_COOKIE = 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1';
const C5_FIELDS = [
  [':status', '302', 'cache-control', 'private', 'date', C5_DATE_21, 'location', C5_LOCATION],
  [':status', '307', 'cache-control', 'private', 'date', C5_DATE_21, 'location', C5_LOCATION],
  [
    ':status',
    '200',
    'cache-control',
    'private',
    'date',
    C5_DATE_22,
    'location',
    C5_LOCATION,
    'content-encoding',
    'gzip',
    'set-cookie',
    C5_COOKIE,
  ],
] as const;
const C5_TABLES = [
  ['location', C5_LOCATION, 'date', C5_DATE_21, 'cache-control', 'private', ':status', '302'],
  [':status', '307', 'location', C5_LOCATION, 'date', C5_DATE_21, 'cache-control', 'private'],
  ['set-cookie', C5_COOKIE, 'content-encoding', 'gzip', 'date', C5_DATE_22],
] as const;

describe('RFC 7541 Appendix C', () => {
  test('C.1 integers, read through dynamic table size updates', () => {
    const decoder = new HpackDecoder({ maxTableBytes: 2000, maxHeaderListBytes: LARGE_LIST_BYTES });
    // 10 and 1337 over a 5-bit prefix.
    assert.deepEqual(decoder.decode(hex('2a')), []);
    assert.equal(decoder.tableLimit, 10);
    assert.deepEqual(decoder.decode(hex('3f9a0a')), []);
    assert.equal(decoder.tableLimit, 1337);
  });

  test('C.2 literal and indexed fields', () => {
    decodeSequence(4096, [
      {
        block: '400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572',
        fields: ['custom-key', 'custom-header'],
        table: ['custom-key', 'custom-header'],
        tableBytes: 55,
      },
    ]);
    decodeSequence(4096, [
      {
        block: '040c 2f73 616d 706c 652f 7061 7468',
        fields: [':path', '/sample/path'],
        table: [],
        tableBytes: 0,
      },
    ]);
    decodeSequence(4096, [
      {
        block: '1008 7061 7373 776f 7264 0673 6563 7265 74',
        fields: ['password', 'secret'],
        table: [],
        tableBytes: 0,
      },
    ]);
    decodeSequence(4096, [{ block: '82', fields: [':method', 'GET'], table: [], tableBytes: 0 }]);
  });

  test('C.3 requests without Huffman coding', () => {
    decodeSequence(4096, [
      {
        block: '8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
        fields: C3_FIELDS[0],
        table: C3_TABLES[0],
        tableBytes: 57,
      },
      {
        block: '8286 84be 5808 6e6f 2d63 6163 6865',
        fields: C3_FIELDS[1],
        table: C3_TABLES[1],
        tableBytes: 110,
      },
      {
        block: '8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65',
        fields: C3_FIELDS[2],
        table: C3_TABLES[2],
        tableBytes: 164,
      },
    ]);
  });

  test('C.4 requests with Huffman coding', () => {
    decodeSequence(4096, [
      {
        block: '8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff',
        fields: C3_FIELDS[0],
        table: C3_TABLES[0],
        tableBytes: 57,
      },
      { block: '8286 84be 5886 a8eb 1064 9cbf', fields: C3_FIELDS[1], table: C3_TABLES[1], tableBytes: 110 },
      {
        block: '8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf',
        fields: C3_FIELDS[2],
        table: C3_TABLES[2],
        tableBytes: 164,
      },
    ]);
  });

  test('C.5 responses without Huffman coding, with evictions from a 256-byte table', () => {
    decodeSequence(256, [
      {
        block: `4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133
                2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70
                6c65 2e63 6f6d`,
        fields: C5_FIELDS[0],
        table: C5_TABLES[0],
        tableBytes: 222,
      },
      { block: '4803 3330 37c1 c0bf', fields: C5_FIELDS[1], table: C5_TABLES[1], tableBytes: 222 },
      {
        block: `88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d
                54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049
                5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e
                3d31`,
        fields: C5_FIELDS[2],
        table: C5_TABLES[2],
        tableBytes: 215,
      },
    ]);
  });

  test('C.6 responses with Huffman coding, with evictions from a 256-byte table', () => {
    decodeSequence(256, [
      {
        block: `4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
                2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3`,
        fields: C5_FIELDS[0],
        table: C5_TABLES[0],
        tableBytes: 222,
      },
      { block: '4883 640e ffc1 c0bf', fields: C5_FIELDS[1], table: C5_TABLES[1], tableBytes: 222 },
      {
        block: `88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
                77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
                9587 3160 65c0 03ed 4ee5 b106 3d50 07`,
        fields: C5_FIELDS[2],
        table: C5_TABLES[2],
        tableBytes: 215,
      },
    ]);
  });
});

// --- A test-side encoder for arbitrary representations, and a naive model of the decoder ---------------

type Op =
  | { readonly kind: 'indexed'; readonly index: number }
  | { readonly kind: 'sizeUpdate'; readonly size: number }
  | {
      readonly kind: 'literal';
      readonly mode: 'incremental' | 'without' | 'never';
      /** 0: the name is a string literal. */
      readonly nameIndex: number;
      readonly name: string;
      readonly value: string;
      readonly huffmanName: boolean;
      readonly huffmanValue: boolean;
    };

function pushInteger(out: number[], flags: number, prefixBits: number, value: number): void {
  const prefixMax = (1 << prefixBits) - 1;
  if (value < prefixMax) {
    out.push(flags | value);
    return;
  }
  out.push(flags | prefixMax);
  value -= prefixMax;
  while (value >= 128) {
    out.push((value % 128) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
}

function pushString(out: number[], text: string, useHuffman: boolean): void {
  const bytes = useHuffman ? huffman(text) : Buffer.from(text, 'latin1');
  pushInteger(out, useHuffman ? 0x80 : 0x00, 7, bytes.length);
  out.push(...bytes);
}

function serialize(ops: readonly Op[]): Buffer {
  const out: number[] = [];
  for (const op of ops) {
    if (op.kind === 'indexed') pushInteger(out, 0x80, 7, op.index);
    else if (op.kind === 'sizeUpdate') pushInteger(out, 0x20, 5, op.size);
    else {
      if (op.mode === 'incremental') pushInteger(out, 0x40, 6, op.nameIndex);
      else pushInteger(out, op.mode === 'never' ? 0x10 : 0x00, 4, op.nameIndex);
      if (op.nameIndex === 0) pushString(out, op.name, op.huffmanName);
      pushString(out, op.value, op.huffmanValue);
    }
  }
  return Buffer.from(out);
}

/** The dynamic table as the RFC describes it, with no regard for speed. */
class TableModel {
  entries: [string, string][] = []; // newest first
  limit: number;
  readonly maxTableBytes: number;

  constructor(maxTableBytes: number) {
    this.maxTableBytes = maxTableBytes;
    this.limit = maxTableBytes;
  }

  get bytes(): number {
    return entryBytes(this.entries.flat());
  }

  field(index: number): [string, string] | undefined {
    if (index >= 1 && index <= 61) return [...STATIC_TABLE[index - 1]!];
    return this.entries[index - 62];
  }

  add(name: string, value: string): void {
    const size = name.length + value.length + 32;
    while (this.entries.length > 0 && this.bytes + size > this.limit) this.entries.pop();
    if (size <= this.limit) this.entries.unshift([name, value]);
  }

  resize(limit: number): void {
    this.limit = limit;
    while (this.bytes > limit) this.entries.pop();
  }
}

type ModelOutcome = { kind: 'ok'; fields: string[]; listBytes: number } | { kind: 'malformed' };

function modelDecode(model: TableModel, ops: readonly Op[]): ModelOutcome {
  const fields: string[] = [];
  let sawField = false;
  for (const op of ops) {
    if (op.kind === 'sizeUpdate') {
      if (sawField || op.size > model.maxTableBytes) return { kind: 'malformed' };
      model.resize(op.size);
      continue;
    }
    sawField = true;
    if (op.kind === 'indexed') {
      const field = model.field(op.index);
      if (field === undefined) return { kind: 'malformed' };
      fields.push(...field);
      continue;
    }
    let name = op.name;
    if (op.nameIndex !== 0) {
      const field = model.field(op.nameIndex);
      if (field === undefined) return { kind: 'malformed' };
      name = field[0];
    }
    fields.push(name, op.value);
    if (op.mode === 'incremental') model.add(name, op.value);
  }
  return { kind: 'ok', fields, listBytes: entryBytes(fields) };
}

/** Table sizes for a 512-byte limit: mostly large enough to evict only now and then, sometimes too large. */
const sizeUpdateArbitrary = fc
  .oneof(
    { weight: 3, arbitrary: fc.integer({ min: 256, max: 512 }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
    { weight: 1, arbitrary: fc.integer({ min: 513, max: 700 }) },
  )
  .map((size): Op => ({ kind: 'sizeUpdate', size }));
/** Mostly valid indices (static, or among the newest dynamic entries), sometimes 0 or beyond both tables. */
const indexArbitrary = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 1, max: 61 }) },
  { weight: 2, arbitrary: fc.integer({ min: 62, max: 65 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 80 }) },
);
const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  { weight: 12, arbitrary: indexArbitrary.map((index): Op => ({ kind: 'indexed', index })) },
  {
    weight: 20,
    arbitrary: fc
      .record({
        mode: fc.constantFrom('incremental', 'incremental', 'without', 'never'),
        nameIndex: fc.oneof(fc.constant(0), indexArbitrary),
        name: latin1Arbitrary(12),
        value: fc.oneof(
          { weight: 5, arbitrary: latin1Arbitrary(40) },
          { weight: 1, arbitrary: latin1Arbitrary(600) },
        ),
        huffmanName: fc.boolean(),
        huffmanValue: fc.boolean(),
      })
      .map((literal): Op => ({ kind: 'literal', ...literal })),
  },
  { weight: 1, arbitrary: sizeUpdateArbitrary },
);
/** Blocks whose size updates come mostly first, as an encoder's would. */
const blockArbitrary = fc
  .tuple(
    fc.oneof(
      { weight: 4, arbitrary: fc.constant([]) },
      { weight: 1, arbitrary: fc.array(sizeUpdateArbitrary, { minLength: 1, maxLength: 2 }) },
    ),
    fc.array(opArbitrary, { maxLength: 12 }),
  )
  .map(([updates, ops]) => [...updates, ...ops]);

function assertTableConsistent(decoder: HpackDecoder, maxTableBytes: number): void {
  assert.ok(decoder.tableLimit <= maxTableBytes);
  assert.ok(decoder.tableBytes <= decoder.tableLimit, `${decoder.tableBytes} > ${decoder.tableLimit}`);
  const fields = decoder.tableFields();
  assert.equal(decoder.tableBytes, entryBytes(fields));
  assert.equal(decoder.tableLength, fields.length / 2);
}

describe('HpackDecoder', () => {
  test('agrees with a model of RFC 7541 on random sequences of blocks', () => {
    const MAX_TABLE_BYTES = 512;
    fc.assert(
      fc.property(
        fc.array(blockArbitrary, { maxLength: 6 }),
        fc.nat({ max: 3000 }),
        (blocks, maxListBytes) => {
          const decoder = new HpackDecoder({
            maxTableBytes: MAX_TABLE_BYTES,
            maxHeaderListBytes: maxListBytes,
          });
          const model = new TableModel(MAX_TABLE_BYTES);
          for (const ops of blocks) {
            const expected = modelDecode(model, ops);
            const block = serialize(ops);
            if (expected.kind === 'malformed') {
              assert.throws(
                () => decoder.decode(block),
                (error) => error instanceof HpackError && !(error instanceof HeaderListTooLargeError),
              );
              return; // the table is out of step from here on, as it would be on a connection
            }
            if (expected.listBytes > maxListBytes) {
              assert.throws(
                () => decoder.decode(block),
                (error) => error instanceof HeaderListTooLargeError && error.listBytes === expected.listBytes,
              );
            } else {
              assert.deepEqual(decoder.decode(block), expected.fields);
            }
            assert.deepEqual(decoder.tableFields(), model.entries.flat());
            assert.equal(decoder.tableBytes, model.bytes);
            assertTableConsistent(decoder, MAX_TABLE_BYTES);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  test('an entry larger than the table empties it and is not added', () => {
    const decoder = new HpackDecoder({ maxTableBytes: 100, maxHeaderListBytes: LARGE_LIST_BYTES });
    decoder.decode(serialize([literal('incremental', 'a', 'b'), literal('incremental', 'c', 'd')]));
    assert.equal(decoder.tableLength, 2);
    assert.deepEqual(decoder.decode(serialize([literal('incremental', 'big', 'x'.repeat(70))])), [
      'big',
      'x'.repeat(70),
    ]);
    assert.equal(decoder.tableLength, 0);
    assert.equal(decoder.tableBytes, 0);
    // An entry of exactly the table's size fits.
    decoder.decode(serialize([literal('incremental', 'k', 'v'.repeat(67))]));
    assert.equal(decoder.tableBytes, 100);
  });

  test('a size update evicts down to the new limit, and 0 empties the table', () => {
    const decoder = new HpackDecoder({ maxHeaderListBytes: LARGE_LIST_BYTES });
    decoder.decode(serialize([literal('incremental', 'a', '1'), literal('incremental', 'b', '2')]));
    assert.deepEqual(
      decoder.decode(
        serialize([
          { kind: 'sizeUpdate', size: 40 },
          { kind: 'indexed', index: 62 },
        ]),
      ),
      ['b', '2'],
    );
    assert.deepEqual(decoder.tableFields(), ['b', '2']);
    decoder.decode(
      serialize([
        { kind: 'sizeUpdate', size: 0 },
        { kind: 'sizeUpdate', size: 4096 },
      ]),
    );
    assert.equal(decoder.tableLength, 0);
    assert.throws(() => decoder.decode(hex('be')), /beyond the dynamic table/);
  });

  test('the ring keeps its order as it grows and wraps', () => {
    const decoder = new HpackDecoder({ maxTableBytes: 33 * 40, maxHeaderListBytes: LARGE_LIST_BYTES });
    const expected: string[] = [];
    for (let i = 0; i < 200; i++) {
      const name = String.fromCharCode(97 + (i % 26));
      decoder.decode(serialize([literal('incremental', name, '')]));
      expected.unshift(name, '');
      if (expected.length > 80) expected.length = 80;
      assert.deepEqual(decoder.tableFields(), expected);
    }
    const indexed = serialize(
      Array.from({ length: 40 }, (_, age): Op => ({ kind: 'indexed', index: 62 + age })),
    );
    assert.deepEqual(decoder.decode(indexed), expected);
  });

  test('rejects malformed blocks with HpackError', () => {
    const decoder = () => new HpackDecoder({ maxHeaderListBytes: LARGE_LIST_BYTES });
    const cases: [string, RegExp][] = [
      ['80', /index 0/],
      ['be', /beyond the dynamic table/], // 62 with an empty dynamic table
      ['7f00 0161', /beyond the dynamic table/], // literal naming index 63
      ['ff', /ends inside an integer/],
      ['ff80', /ends inside an integer/],
      ['ff80 8080 8080 00', /too many bytes/],
      ['ffff ffff ff0f', /exceeds 2\^31/],
      ['4005 6162', /past the end/], // name of 5 bytes, 2 present
      ['400161', /ends before a string/], // value missing
      ['0001 6185 ffff ffff ff', /EOS/],
      ['0001 6181 ff', /longer than 7 bits/],
      ['3fe2 1f', /exceeds the advertised 4096/], // size update to 4097
      ['823f e11f', /after a header field/],
    ];
    for (const [block, message] of cases) {
      assert.throws(
        () => decoder().decode(hex(block)),
        (error) => error instanceof HpackError && message.test(error.message),
      );
    }
  });

  test('a list over the limit throws after decoding the whole block, keeping the table in step', () => {
    const decoder = new HpackDecoder({ maxHeaderListBytes: 200 });
    const first = serialize([
      literal('incremental', 'x-a', 'a'.repeat(100)),
      literal('incremental', 'x-b', 'b'.repeat(100)),
      literal('incremental', 'x-c', 'c'.repeat(20)),
    ]);
    assert.throws(
      () => decoder.decode(first),
      (error) => error instanceof HeaderListTooLargeError && error.listBytes === 135 + 135 + 55,
    );
    assert.equal(decoder.tableLength, 3);
    assert.deepEqual(decoder.decode(hex('be c0')), ['x-c', 'c'.repeat(20), 'x-a', 'a'.repeat(100)]);
  });

  test('references to a large entry cannot inflate the output past the list limit', () => {
    const decoder = new HpackDecoder({ maxHeaderListBytes: 64 << 10 });
    decoder.decode(serialize([literal('incremental', 'x-big', 'x'.repeat(4000))]));
    const references = Buffer.alloc(100_000, 0xbe);
    assert.throws(
      () => decoder.decode(references),
      (error) => error instanceof HeaderListTooLargeError && error.listBytes === 100_000 * 4037,
    );
    assert.deepEqual(decoder.decode(hex('be')), ['x-big', 'x'.repeat(4000)]);
  });

  test('random bytes decode or throw HpackError, and the table stays within its limit', () => {
    const MAX_TABLE_BYTES = 300;
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), (blocks) => {
        const decoder = new HpackDecoder({ maxTableBytes: MAX_TABLE_BYTES, maxHeaderListBytes: 4000 });
        for (const block of blocks) {
          try {
            decoder.decode(block);
          } catch (error) {
            assert.ok(error instanceof HpackError, String(error));
          }
          assertTableConsistent(decoder, MAX_TABLE_BYTES);
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('mutated valid blocks decode or throw HpackError, and the table stays within its limit', () => {
    const MAX_TABLE_BYTES = 300;
    const mutation = fc.record({
      kind: fc.constantFrom('set', 'flip', 'insert', 'delete', 'truncate'),
      at: fc.nat(),
      byte: fc.integer({ min: 0, max: 255 }),
    });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(blockArbitrary, fc.array(mutation, { minLength: 1, maxLength: 4 })), {
          maxLength: 6,
        }),
        (blocks) => {
          const decoder = new HpackDecoder({ maxTableBytes: MAX_TABLE_BYTES, maxHeaderListBytes: 4000 });
          for (const [ops, mutations] of blocks) {
            const bytes = [...serialize(ops)];
            for (const { kind, at, byte } of mutations) {
              const position = at % (bytes.length + 1);
              if (kind === 'set') bytes[position] = byte;
              else if (kind === 'flip') bytes[position] = (bytes[position] ?? 0) ^ (1 << (byte % 8));
              else if (kind === 'insert') bytes.splice(position, 0, byte);
              else if (kind === 'delete') bytes.splice(position, 1);
              else bytes.length = position;
            }
            try {
              decoder.decode(Uint8Array.from(bytes));
            } catch (error) {
              assert.ok(error instanceof HpackError, String(error));
            }
            assertTableConsistent(decoder, MAX_TABLE_BYTES);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  test('decodes from a Uint8Array view that is not a Buffer', () => {
    const bytes = hex('00 8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d 00');
    const view = new Uint8Array(bytes.buffer, bytes.byteOffset + 1, bytes.length - 2);
    const decoder = new HpackDecoder({ maxHeaderListBytes: LARGE_LIST_BYTES });
    assert.deepEqual(decoder.decode(view), C3_FIELDS[0]);
  });
});

function literal(mode: 'incremental' | 'without' | 'never', name: string, value: string): Op {
  return { kind: 'literal', mode, nameIndex: 0, name, value, huffmanName: false, huffmanValue: false };
}

describe('encodeHeaderBlock', () => {
  test('a static field is its index in one byte', () => {
    assert.deepEqual([...encodeHeaderBlock([':status', '200'])], [0x88]);
    assert.deepEqual([...encodeHeaderBlock([':status', '500', 'www-authenticate', ''])], [0x8e, 0xbd]);
  });

  test('other fields are literals without indexing, naming a static entry when there is one', () => {
    const contentType = encodeHeaderBlock(['content-type', 'application/grpc']);
    // Name index 31 over a 4-bit prefix: 0x0f then 16.
    assert.deepEqual(contentType, Buffer.concat([hex('0f10 10'), Buffer.from('application/grpc')]));
    const status = encodeHeaderBlock([':status', '503']);
    assert.deepEqual(status, hex('08 03 353033'));
    const custom = encodeHeaderBlock(['grpc-status', '0']);
    assert.deepEqual(custom, Buffer.concat([hex('000b'), Buffer.from('grpc-status'), hex('0130')]));
  });

  test('round-trips through the decoder without touching its table', () => {
    const fields = [
      ':status',
      '200',
      'content-type',
      'application/grpc',
      'grpc-accept-encoding',
      'identity,deflate,gzip',
      'grpc-status',
      '13',
      'grpc-message',
      `a long message: ${'y'.repeat(300)}`,
      'x-latin1',
      'caf\u00e9 \u00ff\u0080\u0001',
      'x-empty',
      '',
      'set-cookie',
      'a=1',
      'set-cookie',
      'b=2',
      'accept-encoding',
      'gzip, deflate',
    ];
    const decoder = new HpackDecoder({ maxHeaderListBytes: LARGE_LIST_BYTES });
    assert.deepEqual(decoder.decode(encodeHeaderBlock(fields)), fields);
    assert.deepEqual(decoder.decode(encodeHeaderBlock([])), []);
    assert.equal(decoder.tableLength, 0);
  });

  test('random fields round-trip', () => {
    const name = fc.oneof(
      fc.constantFrom(...STATIC_TABLE.map(([staticName]) => staticName)),
      fc.stringMatching(/^[a-z0-9-]{1,20}$/),
    );
    const value = fc.oneof(
      fc.constantFrom(...STATIC_TABLE.map(([, staticValue]) => staticValue)),
      latin1Arbitrary(200),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(name, value), { maxLength: 20 }), (pairs) => {
        const fields = pairs.flat();
        const decoder = new HpackDecoder({ maxHeaderListBytes: LARGE_LIST_BYTES });
        assert.deepEqual(decoder.decode(encodeHeaderBlock(fields)), fields);
        assert.equal(decoder.tableLength, 0);
      }),
    );
  });

  test('refuses a name without a value', () => {
    assert.throws(() => encodeHeaderBlock([':status']), RangeError);
  });
});

// --- Interop with nghttp2's encoder, through Node's HTTP/2 client --------------------------------------

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const FRAME_HEADER_BYTES = 9;
const FRAME_HEADERS = 0x1;
const FRAME_SETTINGS = 0x4;
const FRAME_CONTINUATION = 0x9;
const FLAG_END_HEADERS = 0x4;
const FLAG_PADDED = 0x8;
const FLAG_PRIORITY = 0x20;
const SETTINGS_HEADER_TABLE_SIZE = 0x1;

/** The header blocks of the complete frames in a client's byte stream, CONTINUATIONs joined. */
function headerBlocks(stream: Buffer): Buffer[] {
  if (stream.length < PREFACE.length) return [];
  assert.deepEqual(stream.subarray(0, PREFACE.length), PREFACE);
  const blocks: Buffer[] = [];
  let fragments: Buffer[] = [];
  let position = PREFACE.length;
  while (position + FRAME_HEADER_BYTES <= stream.length) {
    const length = stream.readUIntBE(position, 3);
    const type = stream[position + 3]!;
    const flags = stream[position + 4]!;
    const end = position + FRAME_HEADER_BYTES + length;
    if (end > stream.length) break;
    let payload = stream.subarray(position + FRAME_HEADER_BYTES, end);
    position = end;
    if (type === FRAME_HEADERS) {
      if (flags & FLAG_PADDED) payload = payload.subarray(1, payload.length - payload[0]!);
      if (flags & FLAG_PRIORITY) payload = payload.subarray(5);
      fragments = [payload];
    } else if (type === FRAME_CONTINUATION) {
      fragments.push(payload);
    } else {
      continue;
    }
    if (flags & FLAG_END_HEADERS) blocks.push(Buffer.concat(fragments));
  }
  return blocks;
}

function settingsFrame(settings: readonly [id: number, value: number][]): Buffer {
  const frame = Buffer.alloc(FRAME_HEADER_BYTES + 6 * settings.length);
  frame.writeUIntBE(6 * settings.length, 0, 3);
  frame[3] = FRAME_SETTINGS;
  settings.forEach(([id, value], i) => {
    frame.writeUInt16BE(id, FRAME_HEADER_BYTES + 6 * i);
    frame.writeUInt32BE(value, FRAME_HEADER_BYTES + 6 * i + 2);
  });
  return frame;
}

/**
 * Sends `requests` from a node:http2 client over one connection to a bare TCP server that answers only
 * with a SETTINGS frame, and returns the header blocks the server received, in order.
 */
async function captureHeaderBlocks(
  settings: readonly [id: number, value: number][],
  requests: readonly OutgoingHttpHeaders[],
): Promise<{ blocks: Buffer[]; authority: string }> {
  const received: Buffer[] = [];
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    socket.on('data', (chunk) => received.push(chunk));
    socket.write(settingsFrame(settings));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const client = http2.connect(`http://127.0.0.1:${port}`, {
    paddingStrategy: http2.constants.PADDING_STRATEGY_MAX,
  });
  client.on('error', () => {});
  try {
    // Requests wait for our SETTINGS, so the encoder has applied any table size we set.
    await new Promise<void>((resolve) => client.once('remoteSettings', () => resolve()));
    requests.forEach((headers, i) => {
      // Every other request asks for a priority, so some HEADERS frames carry the PRIORITY flag.
      const stream = client.request(headers, i % 2 === 1 ? { weight: 42 } : {});
      stream.on('error', () => {});
      stream.end();
    });
    const deadline = Date.now() + 5000;
    for (;;) {
      const blocks = headerBlocks(Buffer.concat(received));
      if (blocks.length >= requests.length) return { blocks, authority: `127.0.0.1:${port}` };
      if (Date.now() > deadline)
        throw new Error(`received ${blocks.length} of ${requests.length} header blocks`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } finally {
    client.destroy();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** Splits a decoded list into its pseudo-headers (in an order of Node's choosing) and its regular fields. */
function splitPseudo(fields: readonly string[]): { pseudo: Record<string, string>; regular: string[] } {
  const pseudo: Record<string, string> = {};
  const regular: string[] = [];
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i]!.startsWith(':')) pseudo[fields[i]!] = fields[i + 1]!;
    else regular.push(fields[i]!, fields[i + 1]!);
  }
  return { pseudo, regular };
}

function expectedFields(headers: OutgoingHttpHeaders, authority: string) {
  const pseudo: Record<string, string> = {
    ':method': 'GET',
    ':path': '/',
    ':scheme': 'http',
    ':authority': authority,
  };
  const regular: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(':')) pseudo[name] = String(value);
    else for (const item of Array.isArray(value) ? value : [value]) regular.push(name, String(item));
  }
  return { pseudo, regular };
}

function interopRequests(): OutgoingHttpHeaders[] {
  let printable = '';
  for (let code = 0x20; code < 0x7f; code++) printable += String.fromCharCode(code);
  let highBytes = '';
  for (let code = 0x80; code < 0x100; code++) highBytes += String.fromCharCode(code);
  const requests: OutgoingHttpHeaders[] = [];
  for (let i = 0; i < 8; i++) {
    requests.push({
      ':method': 'POST',
      ':path': i % 3 === 0 ? '/etcdserverpb.KV/Range' : `/etcdserverpb.Watch/Watch${i}`,
      'content-type': 'application/grpc',
      te: 'trailers',
      'user-agent': 'grpc-node-js/1.14.7',
      'grpc-accept-encoding': 'identity,deflate,gzip',
      'grpc-timeout': `${1000 + i * 137}m`,
      'x-repeated': ['first', 'second', i % 2 === 0 ? 'third' : 'other'],
      'x-trace-bin': Buffer.from(Array.from({ length: 24 + i }, (_, j) => (j * 37 + i) & 0xff)).toString(
        'base64',
      ),
      'x-latin1': `caf\u00e9 \u00ff n\u00b0${i}`,
      // Long and mostly common letters, so the encoder chooses Huffman coding, which then carries every
      // printable and every high byte.
      'x-long': `${'etaoin shrdlu '.repeat(150)}${printable}${highBytes}${i}`,
    });
  }
  // Larger than one frame: arrives as HEADERS plus CONTINUATION.
  requests.push({ ':path': '/big', 'x-big': 'Z9/+'.repeat(6000) });
  requests.push({ ':method': 'GET', ':path': '/after-big', 'grpc-timeout': '5S' });
  return requests;
}

describe('interop with node:http2 (nghttp2 encoder)', () => {
  test('decodes the header blocks of several requests on one connection', async () => {
    const requests = interopRequests();
    const { blocks, authority } = await captureHeaderBlocks([], requests);
    assert.equal(blocks.length, requests.length);
    const decoder = new HpackDecoder({ maxHeaderListBytes: LARGE_LIST_BYTES });
    blocks.forEach((block, i) => {
      assert.deepEqual(
        splitPseudo(decoder.decode(block)),
        expectedFields(requests[i]!, authority),
        `request ${i}`,
      );
    });
    assert.ok(decoder.tableLength > 0, 'the encoder used the dynamic table');
    assertTableConsistent(decoder, 4096);
  });

  test('follows the dynamic table size update after we advertise a 256-byte table', async () => {
    const requests = interopRequests();
    const { blocks, authority } = await captureHeaderBlocks([[SETTINGS_HEADER_TABLE_SIZE, 256]], requests);
    const decoder = new HpackDecoder({ maxTableBytes: 256, maxHeaderListBytes: LARGE_LIST_BYTES });
    blocks.forEach((block, i) => {
      assert.deepEqual(
        splitPseudo(decoder.decode(block)),
        expectedFields(requests[i]!, authority),
        `request ${i}`,
      );
      assertTableConsistent(decoder, 256);
    });
    assert.equal(blocks[0]![0]! & 0xe0, 0x20, 'the first block starts with a dynamic table size update');
    assert.equal(decoder.tableLimit, 256);
  });
});
