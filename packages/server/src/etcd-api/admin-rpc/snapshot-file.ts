// The bytes `etcdctl snapshot save` writes, and how Snapshot streams them. etcd sends its bbolt
// file in 32 KiB chunks, then a SHA-256 of it; etcdctl 3.4 saves everything it receives and refuses
// the result unless its size is 32 more than a multiple of 512 ("sha256 checksum not found"):
// bbolt files are whole pages, so that is how it knows the digest is there. Our state snapshot is
// not page-sized, so it is padded with zero bytes to a multiple of 512 before the digest, and must
// be self-delimiting (it is: it carries its own lengths) so a reader can ignore the padding.
import { createHash } from 'node:crypto';

/** etcd's snapshotSendBufferSize: bytes of state per Snapshot message. */
export const SNAPSHOT_CHUNK_BYTES = 32 * 1024;
/** etcdctl's alignment check (a disk sector); the saved file is a multiple of this plus the digest. */
export const SNAPSHOT_ALIGNMENT_BYTES = 512;
/** SHA-256. */
export const SNAPSHOT_DIGEST_BYTES = 32;

/** The state padded with zeros to a multiple of SNAPSHOT_ALIGNMENT_BYTES, and the SHA-256 of that. */
export function snapshotFileParts(state: Uint8Array): {
  readonly body: Uint8Array;
  readonly digest: Uint8Array;
} {
  const paddedBytes = Math.ceil(state.length / SNAPSHOT_ALIGNMENT_BYTES) * SNAPSHOT_ALIGNMENT_BYTES;
  const body = paddedBytes === state.length ? state : new Uint8Array(paddedBytes);
  if (body !== state) body.set(state);
  const digest = new Uint8Array(createHash('sha256').update(body).digest());
  return { body, digest };
}

/**
 * Checks a file `etcdctl snapshot save` wrote from us: the digest at its end must match. Answers
 * the padded state (the state's own format tells where it ends), or why the file is unusable.
 *
 * @example
 * const read = readSnapshotFile(await fs.readFile('backup.db'));
 * if (!read.ok) throw new Error(`backup.db: ${read.reason}`);
 */
export function readSnapshotFile(
  file: Uint8Array,
): { readonly ok: true; readonly body: Uint8Array } | { readonly ok: false; readonly reason: string } {
  if (file.length % SNAPSHOT_ALIGNMENT_BYTES !== SNAPSHOT_DIGEST_BYTES) {
    return { ok: false, reason: `no SHA-256 at the end (${file.length} bytes is not 512·n + 32)` };
  }
  const body = file.subarray(0, file.length - SNAPSHOT_DIGEST_BYTES);
  const digest = createHash('sha256').update(body).digest();
  if (!digest.equals(file.subarray(body.length))) {
    return { ok: false, reason: 'the SHA-256 at the end does not match the content (the file is damaged)' };
  }
  return { ok: true, body };
}
