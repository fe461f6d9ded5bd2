// gRPC metadata: the custom key/value pairs a call carries in its HTTP/2 headers and trailers.
// Keys ending in `-bin` hold bytes, base64-encoded on the wire; every other key holds printable ASCII
// (PROTOCOL-HTTP2.md, "Custom-Metadata").
import type { OutgoingHttpHeaders } from 'node:http2';

/** A metadata key whose values are bytes. */
export type BinaryMetadataKey = `${string}-bin`;

export type MetadataValue = string | Uint8Array;

const BINARY_SUFFIX = '-bin';
const KEY_PATTERN = /^[0-9a-z_.-]+$/;
const ASCII_VALUE_PATTERN = /^[\x20-\x7e]*$/;

/**
 * Headers that belong to the protocol rather than the application: never exposed as request
 * metadata, and refused as response metadata.
 */
function isReservedKey(key: string): boolean {
  return (
    key.startsWith(':') ||
    key.startsWith('grpc-') ||
    key === 'content-type' ||
    key === 'te' ||
    key === 'content-length' ||
    key === 'connection'
  );
}

export function isBinaryKey(key: string): key is BinaryMetadataKey {
  return key.endsWith(BINARY_SUFFIX);
}

/**
 * An ordered multimap of metadata, keys in lower case.
 *
 * @example
 * const trailers = new Metadata().set('x-request-id', 'abc').set('trace-bin', new Uint8Array([1, 2]));
 * context.metadata.get('token'); // the etcd auth token, if the client sent one
 */
export class Metadata {
  private readonly values = new Map<string, MetadataValue[]>();

  /** Replaces every value of `key`. Throws on a key or value the protocol cannot carry (a programmer error). */
  set(key: BinaryMetadataKey, value: Uint8Array): this;
  set(key: string, value: string): this;
  set(key: string, value: MetadataValue): this {
    const normalized = checkedEntry(key, value);
    this.values.set(normalized, [value]);
    return this;
  }

  /** Appends a value to `key`. */
  add(key: BinaryMetadataKey, value: Uint8Array): this;
  add(key: string, value: string): this;
  add(key: string, value: MetadataValue): this {
    const normalized = checkedEntry(key, value);
    const existing = this.values.get(normalized);
    if (existing === undefined) this.values.set(normalized, [value]);
    else existing.push(value);
    return this;
  }

  /** The first ASCII value of `key`; undefined when absent or when `key` is a `-bin` key. */
  get(key: string): string | undefined {
    const first = this.values.get(key.toLowerCase())?.[0];
    return typeof first === 'string' ? first : undefined;
  }

  /** The first binary value of a `-bin` key. */
  getBinary(key: BinaryMetadataKey): Uint8Array | undefined {
    const first = this.values.get(key.toLowerCase())?.[0];
    return first instanceof Uint8Array ? first : undefined;
  }

  /** Every value of `key`, in arrival order. */
  getAll(key: string): readonly MetadataValue[] {
    return this.values.get(key.toLowerCase()) ?? [];
  }

  has(key: string): boolean {
    return this.values.has(key.toLowerCase());
  }

  delete(key: string): boolean {
    return this.values.delete(key.toLowerCase());
  }

  get size(): number {
    return this.values.size;
  }

  keys(): IterableIterator<string> {
    return this.values.keys();
  }

  entries(): IterableIterator<[string, readonly MetadataValue[]]> {
    return this.values.entries();
  }

  /** Copies this metadata into outgoing HTTP/2 headers, binary values as unpadded base64. */
  writeTo(headers: OutgoingHttpHeaders): void {
    for (const [key, values] of this.values) {
      const encoded = values.map((value) => (typeof value === 'string' ? value : toUnpaddedBase64(value)));
      headers[key] = encoded.length === 1 ? encoded[0] : encoded;
    }
  }

  /**
   * The metadata of an incoming request from Node's raw header list (name, value, name, value…),
   * which keeps repeated headers apart. Reserved headers are skipped; binary values are split on ','
   * and base64-decoded (padded or not), as the spec requires.
   */
  static fromRawHeaders(rawHeaders: readonly string[]): Metadata {
    const metadata = new Metadata();
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      const key = rawHeaders[i]!.toLowerCase();
      if (isReservedKey(key)) continue;
      metadata.addReceived(key, rawHeaders[i + 1]!);
    }
    return metadata;
  }

  /** Adds a value as received, without the checks `add` makes: a peer's odd header must not fail the call. */
  private addReceived(key: string, value: string): void {
    const existing = this.values.get(key);
    const parsed: MetadataValue[] = isBinaryKey(key)
      ? value.split(',').map((part) => new Uint8Array(Buffer.from(part.trim(), 'base64')))
      : [value.trim()];
    if (existing === undefined) this.values.set(key, parsed);
    else existing.push(...parsed);
  }
}

function checkedEntry(key: string, value: MetadataValue): string {
  const normalized = key.toLowerCase();
  if (!KEY_PATTERN.test(normalized))
    throw new TypeError(`metadata key ${JSON.stringify(key)} is not a valid header name`);
  if (isReservedKey(normalized))
    throw new TypeError(`metadata key ${JSON.stringify(key)} is reserved by gRPC`);
  if (isBinaryKey(normalized)) {
    if (!(value instanceof Uint8Array))
      throw new TypeError(`metadata key ${key} ends in -bin, so its value must be bytes`);
  } else if (typeof value !== 'string' || !ASCII_VALUE_PATTERN.test(value)) {
    throw new TypeError(`metadata key ${key} needs a printable ASCII value (or a -bin key for bytes)`);
  }
  return normalized;
}

function toUnpaddedBase64(bytes: Uint8Array): string {
  const padded = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  let end = padded.length;
  while (end > 0 && padded.charCodeAt(end - 1) === 0x3d) end--;
  return padded.slice(0, end);
}
