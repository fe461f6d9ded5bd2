// Real `synod start` processes on 127.0.0.1 for end-to-end tests: free ports, temp data dirs,
// start / SIGKILL / restart of single members, and cleanup.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { memberNodeFlags } from '../node/member-node-flags.js';

const SYNOD_BIN = fileURLToPath(new URL('../../bin/synod.mjs', import.meta.url));
/** How long a member gets to report it is serving. */
const START_TIMEOUT_MS = 20_000;

export interface ProcessMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDir: string;
  process: ChildProcess | undefined;
  output: string;
}

/**
 * Ports below Linux's ephemeral range (32768+), so outgoing connections never take them between
 * our check and the member's bind; each test process starts from its own block (by pid), so test
 * files running in parallel do not pick the same ports.
 */
const PORT_RANGE_START = 10_000;
const PORT_BLOCK_SIZE = 40;
const PORT_BLOCKS = 500;
/**
 * Each port handed out keeps the two above it unused: a member serves its admin HTTP on its
 * client port + 2 (and by convention peers on + 1), which must not be another member's port.
 */
const PORT_STRIDE = 3;
let nextCandidate = PORT_RANGE_START + (process.pid % PORT_BLOCKS) * PORT_BLOCK_SIZE;

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < (PORT_BLOCKS * PORT_BLOCK_SIZE) / PORT_STRIDE; attempt++) {
    const port = nextCandidate;
    nextCandidate =
      nextCandidate + 2 * PORT_STRIDE >= PORT_RANGE_START + PORT_BLOCKS * PORT_BLOCK_SIZE
        ? PORT_RANGE_START
        : nextCandidate + PORT_STRIDE;
    if ((await canListen(port)) && (await canListen(port + 2))) return port;
  }
  throw new Error('no free port found for the test cluster');
}

export class ProcessCluster {
  readonly members: ProcessMember[];
  readonly rootDir: string;
  private readonly extraFlags: readonly string[];

  private constructor(members: ProcessMember[], rootDir: string, extraFlags: readonly string[]) {
    this.members = members;
    this.rootDir = rootDir;
    this.extraFlags = extraFlags;
  }

  static async create(
    size: number,
    extraFlags: readonly string[] = [],
    scheme: 'http' | 'https' = 'http',
  ): Promise<ProcessCluster> {
    const rootDir = mkdtempSync(join(tmpdir(), 'synod-e2e-'));
    const members: ProcessMember[] = [];
    for (let i = 1; i <= size; i++) {
      members.push({
        name: `m${i}`,
        clientUrl: `${scheme}://127.0.0.1:${await freePort()}`,
        peerUrl: `${scheme}://127.0.0.1:${await freePort()}`,
        dataDir: join(rootDir, `m${i}`),
        process: undefined,
        output: '',
      });
    }
    return new ProcessCluster(members, rootDir, extraFlags);
  }

  get endpoints(): string {
    return this.members.map((member) => member.clientUrl).join(',');
  }

  async startAll(): Promise<void> {
    await Promise.all(this.members.map((member) => this.start(member)));
  }

  /** Starts (or restarts) a member and resolves once it logs that it serves clients. */
  /** A new member (not started) on free ports, to be added with MemberAdd and started with `existing`. */
  async addMember(name: string): Promise<ProcessMember> {
    const scheme = new URL(this.members[0]!.clientUrl).protocol.replace(':', '');
    const member: ProcessMember = {
      name,
      clientUrl: `${scheme}://127.0.0.1:${await freePort()}`,
      peerUrl: `${scheme}://127.0.0.1:${await freePort()}`,
      dataDir: join(this.rootDir, name),
      process: undefined,
      output: '',
    };
    this.members.push(member);
    return member;
  }

  start(member: ProcessMember, memberFlags: readonly string[] = []): Promise<void> {
    const initialCluster = this.members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
    const args = [
      ...memberNodeFlags(),
      SYNOD_BIN,
      'start',
      '--name',
      member.name,
      '--data-dir',
      member.dataDir,
      '--listen-client-urls',
      member.clientUrl,
      '--listen-peer-urls',
      member.peerUrl,
      '--initial-cluster',
      initialCluster,
      '--log-level',
      'warn',
      ...this.extraFlags,
      ...memberFlags,
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    member.process = child;
    member.output = '';
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${member.name} did not start in ${START_TIMEOUT_MS} ms:\n${member.output}`)),
        START_TIMEOUT_MS,
      );
      const onData = (chunk: Buffer) => {
        member.output += chunk.toString();
        if (member.output.includes('serving client requests')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (!member.output.includes('serving client requests')) {
          reject(new Error(`${member.name} exited (${signal ?? code}) before serving:\n${member.output}`));
        }
      });
    });
  }

  /** SIGKILL: no chance to flush anything that was not already fsynced. */
  async kill(member: ProcessMember): Promise<void> {
    const child = member.process;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    member.process = undefined;
  }

  async stopAll(): Promise<void> {
    await Promise.all(
      this.members.map(async (member) => {
        const child = member.process;
        if (!child || child.exitCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }),
    );
    rmSync(this.rootDir, { recursive: true, force: true });
  }
}
