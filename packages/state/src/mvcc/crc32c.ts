// CRC-32C (Castagnoli, reflected polynomial 0x82f63b78): the checksum of snapshots and of hashKv,
// as in etcd's HashKV and the storage layer's records. Slicing-by-8: eight bytes per step.

const POLYNOMIAL = 0x82f63b78;
const SLICES = 8;

/** TABLES[k][b]: the CRC of byte b followed by k zero bytes. */
const TABLES: Uint32Array = (() => {
  const tables = new Uint32Array(256 * SLICES);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let bit = 0; bit < 8; bit++) c = c & 1 ? (c >>> 1) ^ POLYNOMIAL : c >>> 1;
    tables[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = tables[n]!;
    for (let slice = 1; slice < SLICES; slice++) {
      c = tables[c & 0xff]! ^ (c >>> 8);
      tables[slice * 256 + n] = c >>> 0;
    }
  }
  return tables;
})();

/** Continues a CRC-32C over `bytes`; start with 0. Returns an unsigned 32-bit value. */
export function crc32c(bytes: Uint8Array, previous = 0): number {
  const t = TABLES;
  let crc = ~previous;
  let i = 0;
  const wholeEnd = bytes.length - (bytes.length % SLICES);
  for (; i < wholeEnd; i += SLICES) {
    const low = (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)) ^ crc;
    crc =
      t[1792 + (low & 0xff)]! ^
      t[1536 + ((low >>> 8) & 0xff)]! ^
      t[1280 + ((low >>> 16) & 0xff)]! ^
      t[1024 + (low >>> 24)]! ^
      t[768 + bytes[i + 4]!]! ^
      t[512 + bytes[i + 5]!]! ^
      t[256 + bytes[i + 6]!]! ^
      t[bytes[i + 7]!]!;
  }
  for (; i < bytes.length; i++) crc = t[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}
