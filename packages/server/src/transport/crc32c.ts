// CRC-32C (Castagnoli, the checksum of iSCSI, ext4 and etcd's WAL) over frame payloads.
// Node 20 has no CRC-32C (zlib.crc32 is the IEEE polynomial and arrived in Node 22), so this is
// a table-driven "slicing-by-8" implementation: eight table lookups per 8 input bytes.

/** The reflected Castagnoli polynomial. */
const CASTAGNOLI_REFLECTED = 0x82f63b78;
const TABLE_COUNT = 8;
const TABLE_SIZE = 256;

const TABLES = buildTables();

function buildTables(): Uint32Array {
  const tables = new Uint32Array(TABLE_COUNT * TABLE_SIZE);
  for (let byte = 0; byte < TABLE_SIZE; byte++) {
    let crc = byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ CASTAGNOLI_REFLECTED : crc >>> 1;
    tables[byte] = crc >>> 0;
  }
  // Table k advances the CRC of a byte followed by k zero bytes, so 8 bytes fold in one step.
  for (let table = 1; table < TABLE_COUNT; table++) {
    for (let byte = 0; byte < TABLE_SIZE; byte++) {
      const previous = tables[(table - 1) * TABLE_SIZE + byte]!;
      tables[table * TABLE_SIZE + byte] = (previous >>> 8) ^ tables[previous & 0xff]!;
    }
  }
  return tables;
}

/**
 * CRC-32C of `bytes`. Pass a previous result as `crc` to continue a checksum across pieces.
 *
 * @example
 * crc32c(new TextEncoder().encode('123456789')); // 0xe3069283
 */
export function crc32c(bytes: Uint8Array, crc = 0): number {
  const t = TABLES;
  let state = ~crc >>> 0;
  let i = 0;
  const end8 = bytes.length - (bytes.length % 8);
  while (i < end8) {
    const low =
      (state ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24))) >>> 0;
    state =
      t[7 * TABLE_SIZE + (low & 0xff)]! ^
      t[6 * TABLE_SIZE + ((low >>> 8) & 0xff)]! ^
      t[5 * TABLE_SIZE + ((low >>> 16) & 0xff)]! ^
      t[4 * TABLE_SIZE + (low >>> 24)]! ^
      t[3 * TABLE_SIZE + bytes[i + 4]!]! ^
      t[2 * TABLE_SIZE + bytes[i + 5]!]! ^
      t[TABLE_SIZE + bytes[i + 6]!]! ^
      t[bytes[i + 7]!]!;
    i += 8;
  }
  for (; i < bytes.length; i++) state = t[(state ^ bytes[i]!) & 0xff]! ^ (state >>> 8);
  return ~state >>> 0;
}
