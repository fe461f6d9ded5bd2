// The admin backend of a real member: NodeView from the Raft driver, the transport and the applied
// state; keys from a serializable range; faults through the transport's blocked-peer set; traces
// from the simulator when it provides them. It reads the member through AdminMember, a narrow
// view that synod-server.ts fills in, so this file does not follow every change of the server.
import type { Raft } from '@synod/raft';
import { type EtcdError, type RangeRequest, type RangeResponse, rangeRequest } from '@synod/state';
import type { RaftRoleName } from '../observability/metrics.js';
import type { ObservedElection } from '../observability/raft-observer.js';
import type { PeerStats } from '../transport/transport-options.js';
import { ensureTypeScriptLoader } from '../util/typescript-loader.js';
import type {
  AdminBackend,
  FaultsResult,
  KeysResult,
  MemberView,
  MessageRate,
  NodeView,
  SimTraceResult,
  WatchTail,
} from './admin-backend.js';

/** Another member, as this member's configuration knows it. */
export interface KnownMember {
  readonly name: string;
  readonly memberId: bigint;
  readonly raftId: string;
  readonly peerUrls: readonly string[];
  readonly clientUrls: readonly string[];
}

/** What the backend reads from (and does to) the member. */
export interface AdminMember {
  readonly name: string;
  readonly memberId: bigint;
  readonly raftId: string;
  readonly clusterId: bigint;
  readonly clientUrl: string;
  /** Every member of the cluster, this one included. */
  members(): Iterable<KnownMember>;
  raft(): Raft;
  appliedIndex(): number;
  /** Called after every Ready the driver handled; returns the unsubscribe function. */
  onApplied(listener: () => void): () => void;
  peerStats(): ReadonlyMap<string, PeerStats>;
  setBlockedPeers(raftIds: readonly string[]): void;
  revision(): number;
  /** A range of the applied state (serializable). */
  range(
    request: RangeRequest,
  ): Promise<{ ok: true; value: RangeResponse; revision: number } | { ok: false; error: EtcdError }>;
}

export interface SynodAdminBackendOptions {
  readonly member: AdminMember;
  /** This member's admin URL (known once its admin server listens). */
  readonly adminUrl: () => string;
  readonly elections: () => readonly ObservedElection[];
  /** Started by `synod dev` (fault controls on). */
  readonly dev: boolean;
  /** The source of `/api/watch`; without one the route answers 501. */
  readonly watchTail?: WatchTail | undefined;
  /** Runs one traced simulation; default: `@synod/sim`'s, loaded on first use. */
  readonly simTrace?: ((query: URLSearchParams) => Promise<SimTraceResult>) | undefined;
  /** Milliseconds since epoch (default Date.now). */
  readonly now?: () => number;
}

/** Message rates are averaged over at least this long, so one batch does not look like a storm. */
export const MESSAGE_RATE_WINDOW_MS_MIN = 1_000;
/** The key count costs a walk of the key index: refresh it at most this often. */
export const KEY_COUNT_REFRESH_MS_MIN = 1_000;

const ALL_KEYS = new Uint8Array([0]);

export class SynodAdminBackend implements AdminBackend {
  readonly watchTail: WatchTail | undefined;
  private readonly options: SynodAdminBackendOptions;
  private readonly member: AdminMember;
  private readonly startedMs: number;
  private readonly rates: MessageRateTracker;
  private readonly keyCounter: KeyCounter;

  constructor(options: SynodAdminBackendOptions) {
    this.options = options;
    this.member = options.member;
    this.watchTail = options.watchTail;
    this.startedMs = this.now();
    this.rates = new MessageRateTracker();
    this.keyCounter = new KeyCounter(options.member);
  }

  nodeView(): NodeView {
    const member = this.member;
    const raft = member.raft();
    const peers = member.peerStats();
    const nowMs = this.now();
    return {
      name: member.name,
      memberId: member.memberId.toString(16),
      raftId: member.raftId,
      clusterId: member.clusterId.toString(16),
      clientUrl: member.clientUrl,
      adminUrl: this.options.adminUrl(),
      role: roleOf(raft, member.raftId),
      term: raft.term,
      leader: raft.lead,
      commitIndex: raft.log.committed,
      appliedIndex: member.appliedIndex(),
      lastIndex: raft.log.lastIndex(),
      revision: member.revision(),
      keys: this.keyCounter.count(nowMs),
      members: this.memberViews(raft, peers),
      messageRates: this.rates.rates(peers, nowMs),
      elections: this.options.elections(),
      dev: this.options.dev,
      uptimeMs: nowMs - this.startedMs,
    };
  }

  /** The number of keys at the latest revision (counted at most once per KEY_COUNT_REFRESH_MS_MIN). */
  keyCount(): number {
    return this.keyCounter.count(this.now());
  }

  subscribe(onChange: () => void): () => void {
    return this.member.onApplied(onChange);
  }

  async keys(prefix: Uint8Array, limit: number): Promise<KeysResult> {
    const result = await this.member.range(rangeOf(prefix, { limit, countOnly: false }));
    if (!result.ok) return { ok: false, status: 503, message: result.error.message };
    return { ok: true, page: { revision: result.revision, kvs: result.value.kvs, more: result.value.more } };
  }

  simTrace(query: URLSearchParams): Promise<SimTraceResult> {
    return (this.options.simTrace ?? simulatorTrace)(query);
  }

  applyFaults(blockedPeers: readonly string[]): FaultsResult {
    const known = new Set<string>();
    for (const member of this.member.members())
      if (member.raftId !== this.member.raftId) known.add(member.raftId);
    const unknown = blockedPeers.filter((peer) => !known.has(peer));
    if (unknown.length > 0) {
      return { ok: false, status: 400, message: `not peers of this member: ${unknown.join(', ')}` };
    }
    const unique = [...new Set(blockedPeers)].sort();
    this.member.setBlockedPeers(unique);
    return { ok: true, blockedPeers: unique };
  }

  private memberViews(raft: Raft, peers: ReadonlyMap<string, PeerStats>): MemberView[] {
    const isLeader = raft.role === 'leader';
    const learners = new Set(raft.confState.learners);
    const views: MemberView[] = [];
    for (const member of this.member.members()) {
      if (member.raftId === this.member.raftId) continue;
      const urls = conventionalUrls(member);
      views.push({
        name: member.name,
        raftId: member.raftId,
        memberId: member.memberId.toString(16),
        clientUrl: urls.clientUrl,
        adminUrl: urls.adminUrl,
        isLearner: learners.has(member.raftId),
        matchIndex: isLeader ? (raft.progress.get(member.raftId)?.match ?? null) : null,
        connected: peers.get(member.raftId)?.connected ?? false,
      });
    }
    return views.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}

function roleOf(raft: Raft, raftId: string): RaftRoleName {
  if (raft.confState.learners.includes(raftId)) return 'learner';
  return raft.role === 'preCandidate' ? 'pre-candidate' : raft.role;
}

/**
 * A member's client and admin URLs. Other members' client URLs are not replicated yet, so when
 * unknown they follow the port convention every `synod dev` cluster uses: peer port = client + 1,
 * admin port = client + 2.
 */
function conventionalUrls(member: KnownMember): { clientUrl: string; adminUrl: string } {
  const peer = member.peerUrls[0] === undefined ? undefined : new URL(member.peerUrls[0]);
  const known = member.clientUrls[0];
  const client = known !== undefined ? new URL(known) : undefined;
  const host = client?.hostname ?? peer?.hostname ?? '127.0.0.1';
  const clientPort = client !== undefined ? Number(client.port) : Number(peer?.port ?? 0) - 1;
  return {
    clientUrl: known ?? `${peer?.protocol ?? 'http:'}//${host}:${clientPort}`,
    adminUrl: `http://${host.includes(':') ? `[${host}]` : host}:${clientPort + 2}`,
  };
}

/** etcd's prefix range: [prefix, prefix with its last byte below 0xff incremented); '' means every key. */
export function prefixRangeEnd(prefix: Uint8Array): Uint8Array {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i]! < 0xff) {
      // A copy, never a view: Buffer.slice would share memory and the increment would change `prefix`.
      const end = Uint8Array.from(prefix.subarray(0, i + 1));
      end[i]!++;
      return end;
    }
  }
  return ALL_KEYS;
}

function rangeOf(prefix: Uint8Array, options: { limit: number; countOnly: boolean }): RangeRequest {
  return rangeRequest(prefix.length === 0 ? ALL_KEYS : prefix, {
    rangeEnd: prefixRangeEnd(prefix),
    limit: options.limit,
    serializable: true,
    countOnly: options.countOnly,
  });
}

/** Keys at the latest revision, recounted (asynchronously) when the revision moved and the last count is old enough. */
class KeyCounter {
  private readonly member: AdminMember;
  private counted = 0;
  private countedRevision = -1;
  private countedAtMs = Number.NEGATIVE_INFINITY;
  private counting = false;

  constructor(member: AdminMember) {
    this.member = member;
  }

  count(nowMs: number): number {
    const revision = this.member.revision();
    const stale = revision !== this.countedRevision && nowMs - this.countedAtMs >= KEY_COUNT_REFRESH_MS_MIN;
    if (stale && !this.counting) {
      this.counting = true;
      this.countedAtMs = nowMs;
      this.member
        .range(rangeOf(new Uint8Array(), { limit: 0, countOnly: true }))
        .then((result) => {
          if (!result.ok) return;
          this.counted = result.value.count;
          this.countedRevision = result.revision;
        })
        .catch(() => {})
        .finally(() => {
          this.counting = false;
        });
    }
    return this.counted;
  }
}

/** Messages per second to each peer, from the transport's counters, over at least MESSAGE_RATE_WINDOW_MS_MIN. */
class MessageRateTracker {
  private windowStart: { atMs: number; sent: Map<string, number> } | undefined;
  private perSecond = new Map<string, number>();

  rates(peers: ReadonlyMap<string, PeerStats>, nowMs: number): MessageRate[] {
    const start = this.windowStart;
    if (start === undefined || nowMs - start.atMs >= MESSAGE_RATE_WINDOW_MS_MIN) {
      const sent = new Map([...peers].map(([peer, stats]) => [peer, stats.sentMessages] as const));
      if (start !== undefined) {
        const seconds = (nowMs - start.atMs) / 1000;
        this.perSecond = new Map(
          [...sent].map(([peer, count]) => [
            peer,
            Math.max(0, count - (start.sent.get(peer) ?? count)) / seconds,
          ]),
        );
      }
      this.windowStart = { atMs: nowMs, sent };
    }
    return [...peers].map(([peer, stats]) => ({
      to: peer,
      perSecond: Math.round((this.perSecond.get(peer) ?? 0) * 10) / 10,
      queueDepth: stats.queuedMessages,
    }));
  }
}

/** What the admin backend uses of `@synod/sim` (see its trace/traced-run.ts). */
interface SimulatorModule {
  readonly traceRequestFromQuery?: (
    query: URLSearchParams,
  ) => { ok: true; options: unknown } | { ok: false; error: string };
  readonly runTracedSimulationJson?: (options: unknown) => Promise<string>;
}

/**
 * One traced run by `@synod/sim` (on a worker thread there), loaded at run time: the server does
 * not depend on the simulator to build or start, and the simulator validates its own parameters.
 */
export async function simulatorTrace(query: URLSearchParams): Promise<SimTraceResult> {
  const specifier = '@synod/sim';
  let sim: SimulatorModule;
  try {
    await ensureTypeScriptLoader();
    sim = (await import(specifier)) as SimulatorModule;
  } catch {
    return { ok: false, status: 501, message: 'the simulator (@synod/sim) is not installed on this member' };
  }
  const { traceRequestFromQuery, runTracedSimulationJson } = sim;
  if (typeof traceRequestFromQuery !== 'function' || typeof runTracedSimulationJson !== 'function') {
    return { ok: false, status: 501, message: 'this @synod/sim cannot run traced simulations' };
  }
  const request = traceRequestFromQuery(query);
  if (!request.ok) return { ok: false, status: 400, message: request.error };
  try {
    return { ok: true, json: await runTracedSimulationJson(request.options) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, status: error instanceof RangeError ? 400 : 500, message };
  }
}
