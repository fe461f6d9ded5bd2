// Follower side of InstallSnapshot in bounded chunks (Raft §7): assemble chunks of one snapshot in
// order; a chunk of another snapshot discards what was received (stale data never mixes in).
import type { Snapshot, SnapshotChunkMessage, SnapshotMetadata } from './types.js';

export type ChunkOutcome =
  | { kind: 'progress'; receivedBytes: number }
  | { kind: 'complete'; snapshot: Snapshot }
  | { kind: 'restart' };

export class SnapshotReceiver {
  private metadata: SnapshotMetadata | undefined;
  private chunks: Uint8Array[] = [];
  private receivedBytes = 0;
  private totalBytes = 0;

  readonly maxSnapshotBytes: number;

  constructor(maxSnapshotBytes: number) {
    this.maxSnapshotBytes = maxSnapshotBytes;
  }

  receive(message: SnapshotChunkMessage): ChunkOutcome {
    if (message.totalBytes > this.maxSnapshotBytes || message.totalBytes < 0) {
      this.reset();
      return { kind: 'restart' };
    }
    if (!this.isSameSnapshot(message.metadata)) {
      if (message.offset !== 0) {
        this.reset();
        return { kind: 'restart' };
      }
      this.reset();
      this.metadata = message.metadata;
      this.totalBytes = message.totalBytes;
    }
    // A duplicate or out-of-order chunk: tell the leader where we are.
    if (message.offset !== this.receivedBytes) return { kind: 'progress', receivedBytes: this.receivedBytes };
    if (this.receivedBytes + message.chunk.byteLength > this.totalBytes) {
      this.reset();
      return { kind: 'restart' };
    }
    this.chunks.push(message.chunk);
    this.receivedBytes += message.chunk.byteLength;
    if (!message.done) return { kind: 'progress', receivedBytes: this.receivedBytes };
    if (this.receivedBytes !== this.totalBytes) {
      this.reset();
      return { kind: 'restart' };
    }
    const snapshot = { metadata: this.metadata!, data: concat(this.chunks, this.totalBytes) };
    this.reset();
    return { kind: 'complete', snapshot };
  }

  reset(): void {
    this.metadata = undefined;
    this.chunks = [];
    this.receivedBytes = 0;
    this.totalBytes = 0;
  }

  private isSameSnapshot(metadata: SnapshotMetadata): boolean {
    return (
      this.metadata !== undefined &&
      this.metadata.index === metadata.index &&
      this.metadata.term === metadata.term
    );
  }
}

function concat(chunks: readonly Uint8Array[], totalBytes: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const data = new Uint8Array(totalBytes);
  let offset = 0;
  for (const chunk of chunks) {
    data.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return data;
}
