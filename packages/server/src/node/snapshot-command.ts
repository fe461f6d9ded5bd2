// `synod snapshot status|restore FILE`: what a saved snapshot holds, and a new cluster's data
// directories made from it. The file is what `etcdctl snapshot save` (Maintenance.Snapshot) wrote
// from a Synod member: our replicated state, padded, with etcd's trailing SHA-256. Like `etcdctl
// snapshot restore`, restoring keeps keys, history, leases, users and roles, and starts a new
// cluster: the members are the ones --initial-cluster names, with ids derived from their peer URLs
// and --initial-cluster-token, so each member of the new cluster is restored with the same flags.
import { readdirSync, readFileSync } from 'node:fs';
import { crc32c } from '@synod/core/hashing';
import { ClusterSnapshotError, ClusterState } from '@synod/state';
import { ConfigError, loadServerConfig, type ServerConfig } from '../config/server-config.js';
import { readSnapshotFile } from '../etcd-api/admin-rpc/snapshot-file.js';
import { RaftDiskStorage } from '../storage/raft-storage.js';
import { foundingConfState, initialMembersOf, loadOrCreateIdentity } from './member-identity.js';

export const SNAPSHOT_USAGE = `Usage:
  synod snapshot status FILE [--write-out table|json]
                          hash, revision, keys and size of a saved snapshot
  synod snapshot restore FILE --name NAME --initial-cluster N1=URL,... [--initial-cluster-token T]
                        [--data-dir DIR] [other 'synod start' flags]
                          a new cluster's data directory for member NAME, holding the snapshot's
                          keys, leases and auth; run it for every member, then 'synod start' each
                          with the same flags`;

/** A saved snapshot that cannot be used, or a data directory restore must not overwrite. */
export class SnapshotFileError extends Error {
  override readonly name = 'SnapshotFileError';
  readonly code: 'SNAPSHOT_INVALID' | 'DATA_DIR_EXISTS';
  constructor(code: SnapshotFileError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

/** What `snapshot status` reports: etcdctl's fields, the hash being the state's CRC-32C. */
export interface SnapshotStatus {
  readonly hash: number;
  readonly revision: number;
  /** Key revisions kept (etcd counts the entries of its key bucket, which are revisions too). */
  readonly totalKey: number;
  readonly totalSize: number;
}

export async function runSnapshotCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  const [action, file, ...flags] = argv;
  if (action === undefined || action === '--help' || action === '-h') {
    console.log(SNAPSHOT_USAGE);
    return;
  }
  if (action !== 'status' && action !== 'restore')
    throw new ConfigError(`unknown snapshot command "${action}"; run 'synod snapshot --help'`);
  if (file === undefined || file.startsWith('--'))
    throw new ConfigError(`snapshot ${action}: the snapshot FILE is missing; run 'synod snapshot --help'`);
  if (action === 'status') {
    const format = writeOutFormat(flags);
    const status = snapshotStatus(readSavedState(file));
    console.log(format === 'json' ? JSON.stringify(status) : statusTable(status));
    return;
  }
  const config = loadServerConfig(flags, env);
  const summary = await restoreSnapshot(file, config);
  console.log(
    `restored revision ${summary.revision} (with ${summary.leases} leases) into ${config.dataDir} ` +
      `as member ${config.name} (${summary.memberId}) of cluster ${summary.clusterId}; start it with 'synod start' and the same flags`,
  );
}

/** Reads a saved snapshot file and checks its digest and its state's checksum. */
export function readSavedState(file: string): ClusterState {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new SnapshotFileError('SNAPSHOT_INVALID', `cannot read ${file}: ${(error as Error).message}`);
  }
  const saved = readSnapshotFile(bytes);
  if (!saved.ok) throw new SnapshotFileError('SNAPSHOT_INVALID', `${file}: ${saved.reason}`);
  try {
    const state = saved.body.subarray(0, ClusterState.snapshotByteLength(saved.body));
    return ClusterState.restore(state);
  } catch (error) {
    if (!(error instanceof ClusterSnapshotError)) throw error;
    throw new SnapshotFileError(
      'SNAPSHOT_INVALID',
      `${file}: ${error.message} (is it a snapshot saved from a Synod member? etcd's bbolt files are not)`,
    );
  }
}

export function snapshotStatus(state: ClusterState): SnapshotStatus {
  const bytes = state.snapshot();
  return {
    hash: crc32c(bytes),
    revision: state.kv.currentRevision,
    totalKey: state.kv.stats.keyRevisions,
    totalSize: bytes.byteLength,
  };
}

/**
 * Creates `config.dataDir` for member `config.name` of a new cluster holding the snapshot's state.
 * Refuses a data directory that already has files: restoring over a member would lose its data.
 */
export async function restoreSnapshot(
  file: string,
  config: ServerConfig,
): Promise<{ revision: number; leases: number; memberId: string; clusterId: string }> {
  if (config.initialClusterState === 'existing')
    throw new ConfigError('snapshot restore starts a new cluster: --initial-cluster-state must be new');
  const state = readSavedState(file);
  if (hasEntries(config.dataDir)) {
    throw new SnapshotFileError(
      'DATA_DIR_EXISTS',
      `data-dir ${config.dataDir} exists and is not empty; restore into a new directory (--data-dir)`,
    );
  }
  const storage = await RaftDiskStorage.open(config.dataDir, { logger: silentLogger });
  try {
    const identity = loadOrCreateIdentity(config);
    state.startNewCluster(initialMembersOf(identity.members));
    // The same bootstrap a founding member makes, with the restored state instead of an empty one.
    await storage.bootstrap(foundingConfState(identity.members), state.snapshot());
    return {
      revision: state.kv.currentRevision,
      leases: state.leases.list().length,
      memberId: identity.self.id.toString(16),
      clusterId: identity.clusterId.toString(16),
    };
  } finally {
    await storage.close();
  }
}

function hasEntries(directory: string): boolean {
  try {
    return readdirSync(directory).length > 0;
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return false;
    throw error;
  }
}

function writeOutFormat(flags: readonly string[]): 'table' | 'json' {
  let format = 'table';
  for (let i = 0; i < flags.length; i++) {
    const flag = flags[i]!;
    const inline = /^(?:--write-out|-w)=(.*)$/.exec(flag);
    if (inline) format = inline[1]!;
    else if (flag === '--write-out' || flag === '-w') format = flags[++i] ?? '';
    else throw new ConfigError(`snapshot status: unknown flag ${flag}`);
  }
  if (format !== 'table' && format !== 'json')
    throw new ConfigError(`snapshot status: --write-out ${format}: expected table or json`);
  return format;
}

function statusTable(status: SnapshotStatus): string {
  const header = ['HASH', 'REVISION', 'TOTAL KEYS', 'TOTAL SIZE'];
  const row = [
    status.hash.toString(16).padStart(8, '0'),
    String(status.revision),
    String(status.totalKey),
    readableBytes(status.totalSize),
  ];
  const widths = header.map((title, i) => Math.max(title.length, row[i]!.length) + 2);
  const line = `+${widths.map((width) => '-'.repeat(width)).join('+')}+`;
  const cells = (values: string[]) =>
    `|${values.map((value, i) => ` ${value.padEnd(widths[i]! - 1)}`).join('|')}|`;
  return [line, cells(header), line, cells(row), line].join('\n');
}

function readableBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

const silentLogger = { info: () => {}, warn: () => {} };
