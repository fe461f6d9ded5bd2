// The few file operations durable storage is built from. A file's data is durable after fdatasync;
// its name (creation, rename, unlink) only after an fsync of the directory that holds it.
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, rename } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/** Suffix of files being written; recovery deletes leftovers, they were never acknowledged. */
export const TEMP_SUFFIX = '.tmp';

/** Makes a directory's entries (created, renamed, deleted files) durable. */
export async function fsyncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Creates `directory` (and parents) if missing, making every new name durable. */
export async function ensureDirectory(directory: string): Promise<void> {
  const created = await mkdir(directory, { recursive: true });
  if (created === undefined) return;
  const firstCreated = resolve(created);
  // Each new directory's name lives in its parent: fsync the parents from the deepest up.
  for (let current = resolve(directory); dirname(current) !== current; current = dirname(current)) {
    await fsyncDirectory(dirname(current));
    if (current === firstCreated) return;
  }
}

/** Writes all of `bytes` at `position` (a write may be short; loop until done). */
export async function writeFully(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let written = 0;
  while (written < bytes.byteLength) {
    const { bytesWritten } = await handle.write(
      bytes,
      written,
      bytes.byteLength - written,
      position + written,
    );
    if (bytesWritten <= 0) throw new Error(`write returned ${bytesWritten}`);
    written += bytesWritten;
  }
}

/**
 * Replaces `path` with `bytes` (or the concatenation of `parts`) all or nothing: write a temp
 * file, fdatasync, rename over the final name, fsync the directory. A crash leaves either the old
 * state or the new file, plus perhaps a temp file that recovery removes.
 */
export async function writeFileAtomically(
  path: string,
  bytes: Uint8Array | readonly Uint8Array[],
): Promise<void> {
  const temp = path + TEMP_SUFFIX;
  const handle = await open(temp, 'w');
  try {
    let position = 0;
    for (const part of bytes instanceof Uint8Array ? [bytes] : bytes) {
      await writeFully(handle, part, position);
      position += part.byteLength;
    }
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
  await fsyncDirectory(dirname(path));
}
