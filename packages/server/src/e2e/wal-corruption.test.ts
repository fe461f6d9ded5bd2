// A real member's WAL damaged on disk between runs: a torn tail is truncated and the member
// serves again; corruption in the middle refuses to start with a message naming file and offset.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { rangeRequest } from '@synod/state';
import { scanSegment } from '../storage/wal-segment.js';
import { RawEtcdClient } from './grpc-client.js';
import { ProcessCluster } from './process-cluster.js';

const encoder = new TextEncoder();

function putOf(key: string, value: string) {
  return {
    key: encoder.encode(key),
    value: encoder.encode(value),
    lease: 0n,
    prevKv: false,
    ignoreValue: false,
    ignoreLease: false,
  };
}

async function countKeys(url: string): Promise<number> {
  const client = new RawEtcdClient(url);
  try {
    const response = await client.range(
      rangeRequest(encoder.encode('k'), { rangeEnd: encoder.encode('l'), keysOnly: true, countOnly: true }),
      5_000,
    );
    return response.count;
  } finally {
    client.close();
  }
}

function newestSegment(dataDir: string): string {
  const dir = join(dataDir, 'wal');
  const segments = readdirSync(dir)
    .filter((name) => name.endsWith('.wal'))
    .sort();
  return join(dir, segments.at(-1)!);
}

describe('WAL damage on a real member', () => {
  let cluster: ProcessCluster;
  after(async () => {
    await cluster?.stopAll();
  });

  test('a torn tail is truncated on restart; corruption in the middle refuses to start, naming file and offset', async () => {
    cluster = await ProcessCluster.create(1);
    const member = cluster.members[0]!;
    await cluster.start(member);
    const client = new RawEtcdClient(member.clientUrl);
    for (let i = 0; i < 50; i++) await client.put(putOf(`k${i}`, `value-${i}`), 5_000);
    client.close();
    await cluster.kill(member);

    // Torn tail: the last few bytes of the newest segment never reached the disk (its records
    // end before the zeros the WAL preallocates).
    const segment = newestSegment(member.dataDir);
    truncateSync(segment, scanSegment(readFileSync(segment)).validEnd - 3);
    await cluster.start(member);
    const keys = await countKeys(member.clientUrl);
    assert.ok(
      keys >= 49 && keys <= 50,
      `expected the torn last write at most to be lost, found ${keys} keys`,
    );
    await cluster.kill(member);

    // Corruption in the middle: flip a byte well before the end.
    const bytes = readFileSync(segment);
    const offset = Math.floor(scanSegment(bytes).validEnd / 3);
    bytes[offset] = (bytes[offset] ?? 0) ^ 0xff;
    writeFileSync(segment, bytes);
    await assert.rejects(cluster.start(member), (error: Error) => {
      assert.match(error.message, /corrupt at offset \d+/);
      assert.match(error.message, /\.wal/);
      assert.match(error.message, /cannot start safely/);
      return true;
    });
  });
});
