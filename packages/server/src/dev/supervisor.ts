// The `synod dev` supervisor: owns the member processes, and carries out the dashboard's fault
// requests — kill (SIGKILL, stays down), restart, partition and heal (through each member's admin
// POST /api/dev/faults). One action runs at a time, so a kill and a restart never interleave.
import { type ChildProcess, spawn } from 'node:child_process';
import { memberNodeFlags } from '../node/member-node-flags.js';
import { blockedPeersByMember, describeGroups, type PartitionGroups } from './partition.js';

/** Grace period for members to stop after SIGTERM before they are killed. */
export const STOP_GRACE_MS = 5_000;
/** How long one request of the supervisor to a member's admin server may take. */
const ADMIN_REQUEST_TIMEOUT_MS = 2_000;
/** How long a restarted member has to answer on its admin port before a partition is re-applied. */
const ADMIN_UP_TIMEOUT_MS = 20_000;
const ADMIN_POLL_MS = 200;
/** Fault requests waiting behind the running one; more are refused (429). */
const MAX_QUEUED_ACTIONS = 16;

/** How long after an unexpected exit the supervisor waits before reporting it (see spawnMember). */
const CRASH_REPORT_DELAY_MS = 200;

/** The environment variable through which members learn the supervisor's control URL. */
export const DEV_CONTROL_URL_ENV = 'SYNOD_DEV_CONTROL_URL';

export interface DevMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  /** Admin HTTP (dashboard, /metrics, /api/*): client port + 2. */
  readonly adminUrl: string;
  readonly dataDir: string;
}

/** The outcome of a fault request: a message for the user, or an HTTP status and the reason. */
export type DevActionResult =
  | { readonly ok: true; readonly message: string }
  | { readonly ok: false; readonly status: number; readonly error: string };

export interface DevSupervisorOptions {
  readonly synodBin: string;
  readonly members: readonly DevMember[];
  readonly controlUrl: string;
  /** Extra flags for every `synod start` (tests use this for timing flags). */
  readonly extraFlags?: readonly string[];
  readonly warn?: (line: string) => void;
}

interface MemberSlot {
  readonly member: DevMember;
  process: ChildProcess | undefined;
}

export class DevSupervisor {
  readonly members: readonly DevMember[];
  private readonly options: DevSupervisorOptions;
  private readonly slots = new Map<string, MemberSlot>();
  /** Children the supervisor itself stopped: their exit is no crash. */
  private readonly expectedExits = new WeakSet<ChildProcess>();
  private readonly raftIds = new Map<string, string>();
  private groups: PartitionGroups | null = null;
  private actionQueue: Promise<unknown> = Promise.resolve();
  private queuedActions = 0;
  private stopping = false;

  constructor(options: DevSupervisorOptions) {
    this.options = options;
    this.members = options.members;
    for (const member of options.members) this.slots.set(member.name, { member, process: undefined });
  }

  get memberNames(): string[] {
    return this.members.map((member) => member.name);
  }

  startAll(): void {
    for (const slot of this.slots.values()) this.spawnMember(slot);
  }

  /** Which members run, for GET /api/dev/members. */
  status(): { name: string; running: boolean; pid: number | null; adminUrl: string }[] {
    return [...this.slots.values()].map((slot) => ({
      name: slot.member.name,
      running: slot.process !== undefined,
      pid: slot.process?.pid ?? null,
      adminUrl: slot.member.adminUrl,
    }));
  }

  kill(name: string): Promise<DevActionResult> {
    return this.serialized(async () => {
      const slot = this.slots.get(name);
      if (!slot) return unknownMember(name, this.memberNames);
      const child = slot.process;
      if (!child) return { ok: false, status: 409, error: `${name} is not running` };
      await this.stopChild(child, 'SIGKILL');
      return { ok: true, message: `${name} killed (SIGKILL); it stays down until restarted` };
    });
  }

  restart(name: string): Promise<DevActionResult> {
    return this.serialized(async () => {
      const slot = this.slots.get(name);
      if (!slot) return unknownMember(name, this.memberNames);
      const wasRunning = slot.process !== undefined;
      if (slot.process) await this.stopChild(slot.process, 'SIGTERM');
      this.spawnMember(slot);
      if (this.groups) this.reapplyPartitionWhenUp(slot.member);
      return { ok: true, message: `${name} ${wasRunning ? 'restarted' : 'starting'}` };
    });
  }

  partition(groups: PartitionGroups): Promise<DevActionResult> {
    return this.serialized(async () => {
      const missing = await this.learnRaftIds();
      if (missing) return { ok: false, status: 502, error: missing };
      this.groups = groups;
      const notReached = await this.applyFaults(this.memberNames);
      return { ok: true, message: `partitioned: ${describeGroups(groups)}${notReachedNote(notReached)}` };
    });
  }

  heal(): Promise<DevActionResult> {
    return this.serialized(async () => {
      this.groups = null;
      const notReached = await this.applyFaults(this.memberNames);
      return { ok: true, message: `healed: every member may reach every other${notReachedNote(notReached)}` };
    });
  }

  /** SIGTERM to every member (SIGKILL after the grace period); resolves when all have exited. */
  async stopAll(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      [...this.slots.values()].map((slot) =>
        slot.process ? this.stopChild(slot.process, 'SIGTERM') : undefined,
      ),
    );
  }

  private serialized(action: () => Promise<DevActionResult>): Promise<DevActionResult> {
    if (this.stopping)
      return Promise.resolve({ ok: false, status: 503, error: 'synod dev is shutting down' });
    if (this.queuedActions >= MAX_QUEUED_ACTIONS) {
      return Promise.resolve({
        ok: false,
        status: 429,
        error: 'too many fault requests queued; retry shortly',
      });
    }
    this.queuedActions++;
    const result = this.actionQueue.then(action).finally(() => this.queuedActions--);
    this.actionQueue = result.catch(() => undefined);
    return result;
  }

  private spawnMember(slot: MemberSlot): void {
    const { member } = slot;
    const initialCluster = this.members.map((other) => `${other.name}=${other.peerUrl}`).join(',');
    const args = [
      ...memberNodeFlags(),
      this.options.synodBin,
      'start',
      ...['--name', member.name, '--data-dir', member.dataDir],
      ...['--listen-client-urls', member.clientUrl, '--listen-peer-urls', member.peerUrl],
      ...['--initial-cluster', initialCluster, '--log-level', 'warn'],
      ...(this.options.extraFlags ?? []),
    ];
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, [DEV_CONTROL_URL_ENV]: this.options.controlUrl },
    });
    slot.process = child;
    child.once('exit', (code, signal) => {
      if (slot.process === child) slot.process = undefined;
      // Ctrl-C reaches the members and the supervisor together: wait a moment before calling
      // an exit a crash, so a shutdown in progress is not reported as one.
      setTimeout(() => {
        if (this.expectedExits.has(child) || this.stopping) return;
        const how = signal ? `signal ${signal}` : `exit code ${code}`;
        this.warn(
          `synod dev: ${member.name} exited by itself (${how}); it stays down. Restart it from the dashboard or with: curl -X POST '${this.options.controlUrl}/api/dev/restart?member=${member.name}'`,
        );
      }, CRASH_REPORT_DELAY_MS).unref();
    });
  }

  private stopChild(child: ChildProcess, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    this.expectedExits.add(child);
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const escalate = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      child.once('exit', () => {
        clearTimeout(escalate);
        resolve();
      });
      child.kill(signal);
    });
  }

  /** Fills in the raft ids of all members from any member that answers; returns what is missing. */
  private async learnRaftIds(): Promise<string | undefined> {
    for (const slot of this.slots.values()) {
      if (this.memberNames.every((name) => this.raftIds.has(name))) return undefined;
      if (!slot.process) continue;
      const view = await adminJson<NodeViewIds>(`${slot.member.adminUrl}/api/node`);
      if (!view) continue;
      if (view.name && view.raftId) this.raftIds.set(view.name, view.raftId);
      for (const peer of view.members ?? [])
        if (peer.name && peer.raftId) this.raftIds.set(peer.name, peer.raftId);
    }
    const missing = this.memberNames.filter((name) => !this.raftIds.has(name));
    if (missing.length === 0) return undefined;
    return `cannot learn the raft ids of ${missing.join(', ')}: no running member answered GET /api/node`;
  }

  /** Sends each running member its blocked peers for the current groups; returns who was missed. */
  private async applyFaults(names: readonly string[]): Promise<string[]> {
    const ids = this.groups ? this.raftIds : new Map(this.memberNames.map((name) => [name, name]));
    const blocked = blockedPeersByMember(this.groups, ids);
    const notReached: string[] = [];
    await Promise.all(
      names.map(async (name) => {
        const slot = this.slots.get(name);
        if (!slot?.process) {
          // A member that is down starts healed; only a partition needs noting.
          if (this.groups) notReached.push(`${name} (down)`);
          return;
        }
        const reason = await postFaults(slot.member.adminUrl, blocked.get(name) ?? []);
        if (reason) notReached.push(`${name} (${reason})`);
      }),
    );
    return notReached.sort();
  }

  /** A restarted member forgets its faults: once its admin server answers, give them back. */
  private reapplyPartitionWhenUp(member: DevMember): void {
    const deadline = Date.now() + ADMIN_UP_TIMEOUT_MS;
    const attempt = async (): Promise<void> => {
      if (!this.groups || this.stopping) return;
      if (await adminJson(`${member.adminUrl}/api/node`)) {
        const missed = await this.applyFaults([member.name]);
        if (missed.length > 0)
          this.warn(`synod dev: could not re-apply the partition to ${missed.join(', ')}`);
        return;
      }
      if (Date.now() > deadline) {
        this.warn(`synod dev: ${member.name} did not answer on ${member.adminUrl}; partition not re-applied`);
        return;
      }
      setTimeout(() => void attempt(), ADMIN_POLL_MS);
    };
    void attempt();
  }

  private warn(line: string): void {
    (this.options.warn ?? console.error)(line);
  }
}

interface NodeViewIds {
  readonly name?: string;
  readonly raftId?: string;
  readonly members?: readonly { readonly name?: string; readonly raftId?: string }[];
}

function unknownMember(name: string, names: readonly string[]): DevActionResult {
  return { ok: false, status: 404, error: `no member "${name}" (members: ${names.join(', ')})` };
}

function notReachedNote(notReached: readonly string[]): string {
  return notReached.length === 0
    ? ''
    : `; not reached: ${notReached.join(', ')} (a restarted member gets the partition again)`;
}

/** GET a member's admin JSON; undefined when it does not answer in time or answers badly. */
async function adminJson<T>(url: string): Promise<T | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(ADMIN_REQUEST_TIMEOUT_MS) });
    return response.ok ? ((await response.json()) as T) : undefined;
  } catch {
    return undefined;
  }
}

/** POST /api/dev/faults; returns why it failed, or undefined. */
async function postFaults(adminUrl: string, blockedPeers: readonly string[]): Promise<string | undefined> {
  try {
    const response = await fetch(`${adminUrl}/api/dev/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ blockedPeers }),
      signal: AbortSignal.timeout(ADMIN_REQUEST_TIMEOUT_MS),
    });
    return response.ok ? undefined : `HTTP ${response.status}`;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
