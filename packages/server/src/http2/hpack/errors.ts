// Errors of the HPACK codec, in their own module so that the Huffman decoder and the codec can share them
// without importing each other.

/**
 * A header block that cannot be decoded. The dynamic table may be out of step with the peer's from here
 * on, so the connection must end with COMPRESSION_ERROR (RFC 7540 §4.3).
 */
export class HpackError extends Error {
  override name = 'HpackError';
}

/**
 * A well-formed header block whose decoded list is larger than allowed. The whole block was decoded, so the
 * dynamic table is still in step with the peer's: only the stream needs refusing, not the connection.
 */
export class HeaderListTooLargeError extends HpackError {
  override name = 'HeaderListTooLargeError';
  /** Size of the decoded list, counted as RFC 7540 §6.5.2 does (name + value + 32 per field). */
  readonly listBytes: number;
  readonly maxHeaderListBytes: number;

  constructor(listBytes: number, maxHeaderListBytes: number) {
    super(`header list of ${listBytes} bytes exceeds the limit of ${maxHeaderListBytes}`);
    this.listBytes = listBytes;
    this.maxHeaderListBytes = maxHeaderListBytes;
  }
}
