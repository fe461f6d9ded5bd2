// A local cluster of real processes, Synod (`synod start`) or etcd, on 127.0.0.1 with data in a
// temp dir: start, find the leader (Maintenance.Status), SIGKILL and restart members, stop.
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RawEtcdClient } from '../../packages/server/src/e2e/grpc-client.js';
import { freePort } from '../../packages/server/src/e2e/process-cluster.js';
import { memberNodeFlags } from '../../packages/server/src/node/member-node-flags.js';
import { trackChild } from './cleanup.js';

export type System = 'synod' | 'etcd';

const SYNOD_BIN = fileURLToPath(new URL('../../packages/server/bin/synod.mjs', import.meta.url));
/** How long a member gets to answer Status after it is spawned. */
const START_TIMEOUT_MS = 30_000;
/** How long a cluster gets to agree on a leader. */
const LEADER_TIMEOUT_MS = 20_000;
/** A graceful stop (which may write a CPU profile) gets this long before SIGKILL. */
const STOP_TIMEOUT_MS = 15_000;
const POLL_INTERVAL_MS = 50;
const STATUS_TIMEOUT_MS = 500;
/** The last bytes of a member's output, kept for error messages. */
const OUTPUT_TAIL_BYTES = 16 * 1024;
/** etcd's own defaults, passed explicitly so the report can state them. */
export const ETCD_HEARTBEAT_INTERVAL_MS = 100;
export const ETCD_ELECTION_TIMEOUT_MS = 1_000;

export interface ClusterMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDir: string;
  readonly env: Readonly<Record<string, string>>;
  process: ChildProcess | undefined;
  outputTail: string;
}

export interface ClusterOptions {
  readonly system: System;
  readonly size: number;
  readonly rootDir: string;
  /** Extra environment per member (synod only). */
  readonly memberEnv?: (name: string) => Readonly<Record<string, string>>;
}

/** Numbers clusters, so two clusters of one run never share a data dir. */
let clusterSerial = 0;

export class MemberCluster {
  readonly system: System;
  readonly members: readonly ClusterMember[];

  private constructor(system: System, members: readonly ClusterMember[]) {
    this.system = system;
    this.members = members;
  }

  static async create(options: ClusterOptions): Promise<MemberCluster> {
    const members: ClusterMember[] = [];
    const prefix = options.system === 'synod' ? 's' : 'e';
    const serial = ++clusterSerial;
    for (let index = 1; index <= options.size; index++) {
      const name = `${prefix}${index}`;
      members.push({
        name,
        clientUrl: `http://127.0.0.1:${await freePort()}`,
        peerUrl: `http://127.0.0.1:${await freePort()}`,
        dataDir: join(options.rootDir, `${options.system}-${serial}-${name}`),
        env: options.memberEnv?.(name) ?? {},
        process: undefined,
        outputTail: '',
      });
    }
    return new MemberCluster(options.system, members);
  }

  get endpoints(): string[] {
    return this.members.map((member) => member.clientUrl);
  }

  liveMembers(): ClusterMember[] {
    return this.members.filter((member) => member.process !== undefined);
  }

  async startAll(): Promise<void> {
    await Promise.all(this.members.map((member) => this.start(member)));
    await this.leader();
  }

  /** Spawns (or respawns, same data dir) a member and resolves once it answers Status. */
  async start(member: ClusterMember): Promise<void> {
    const [command, args] = this.commandOf(member);
    const child = trackChild(
      spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...member.env } }),
    );
    member.process = child;
    member.outputTail = '';
    const keepTail = (chunk: Buffer) => {
      member.outputTail = (member.outputTail + chunk.toString()).slice(-OUTPUT_TAIL_BYTES);
    };
    child.stdout?.on('data', keepTail);
    child.stderr?.on('data', keepTail);
    child.once('exit', () => {
      if (member.process === child) member.process = undefined;
    });
    const deadline = performance.now() + START_TIMEOUT_MS;
    while (performance.now() < deadline) {
      if (member.process !== child) {
        throw new Error(`${this.system} ${member.name} exited while starting:\n${member.outputTail}`);
      }
      if (await statusOf(member)) return;
      await sleep(POLL_INTERVAL_MS);
    }
    throw new Error(
      `${this.system} ${member.name} did not answer in ${START_TIMEOUT_MS} ms:\n${member.outputTail}`,
    );
  }

  /** The member every live member names as leader, once they agree. */
  async leader(): Promise<ClusterMember> {
    const deadline = performance.now() + LEADER_TIMEOUT_MS;
    while (performance.now() < deadline) {
      const live = this.liveMembers();
      const statuses = await Promise.all(live.map(statusOf));
      const leaderId = statuses[0]?.leader;
      const agreed =
        leaderId !== undefined && leaderId !== 0n && statuses.every((s) => s?.leader === leaderId);
      const index = statuses.findIndex((status) => status?.memberId === leaderId);
      if (agreed && index >= 0) return live[index]!;
      await sleep(POLL_INTERVAL_MS);
    }
    throw new Error(`${this.system}: the members did not agree on a leader in ${LEADER_TIMEOUT_MS} ms`);
  }

  /** SIGKILL: the member gets no chance to say goodbye, as in a crash. */
  async kill(member: ClusterMember): Promise<void> {
    const child = member.process;
    if (!child) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /**
   * A graceful stop (SIGTERM; SIGKILL after the timeout), one member at a time and the leader
   * last: etcd members stopped all at once wait seconds for each other.
   */
  async stop(): Promise<void> {
    const live = this.liveMembers();
    const statuses = await Promise.all(live.map(statusOf));
    const leaderIds = new Set(statuses.map((status) => status?.leader));
    const isLeader = (member: ClusterMember) => leaderIds.has(statuses[live.indexOf(member)]?.memberId);
    for (const member of [...live.filter((m) => !isLeader(m)), ...live.filter(isLeader)]) {
      const child = member.process;
      if (!child) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
  }

  /** Deletes the members' data dirs (call after stop). */
  removeData(): void {
    for (const member of this.members) rmSync(member.dataDir, { recursive: true, force: true });
  }

  private commandOf(member: ClusterMember): [string, string[]] {
    const initialCluster = this.members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
    const common = ['--name', member.name, '--data-dir', member.dataDir];
    if (this.system === 'synod') {
      return [
        process.execPath,
        [...memberNodeFlags(), SYNOD_BIN, 'start', ...common, '--listen-client-urls', member.clientUrl]
          .concat(['--listen-peer-urls', member.peerUrl, '--initial-cluster', initialCluster])
          // The admin HTTP server defaults to the client port + 2, which may be another member's.
          .concat(['--listen-admin-urls', 'http://127.0.0.1:0', '--log-level', 'warn']),
      ];
    }
    return [
      'etcd',
      [...common, '--listen-client-urls', member.clientUrl, '--advertise-client-urls', member.clientUrl]
        .concat(['--listen-peer-urls', member.peerUrl, '--initial-advertise-peer-urls', member.peerUrl])
        .concat(['--initial-cluster', initialCluster, '--initial-cluster-state', 'new'])
        .concat(['--initial-cluster-token', 'synod-bench-kv'])
        .concat(['--heartbeat-interval', String(ETCD_HEARTBEAT_INTERVAL_MS)])
        .concat(['--election-timeout', String(ETCD_ELECTION_TIMEOUT_MS)])
        .concat(['--logger', 'zap', '--log-level', 'warn', '--log-outputs', 'stderr']),
    ];
  }
}

interface MemberStatus {
  readonly memberId: bigint;
  readonly leader: bigint;
  readonly raftTerm: number;
}

/** Maintenance.Status of one member, or undefined while it cannot answer. */
export async function statusOf(member: ClusterMember): Promise<MemberStatus | undefined> {
  if (!member.process) return undefined;
  const client = new RawEtcdClient(member.clientUrl);
  try {
    const status = await client.status(STATUS_TIMEOUT_MS);
    return { memberId: status.header?.memberId ?? 0n, leader: status.leader, raftTerm: status.raftTerm };
  } catch {
    return undefined;
  } finally {
    client.close();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
