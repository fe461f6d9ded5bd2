// etcd's --auto-compaction-mode / --auto-compaction-retention: the leader compacts the key-value
// history on its own, so the store (which keeps every revision in memory until compacted) does not
// grow without bound. Periodic mode keeps `retention` of history: it notes the revision every tenth
// of the retention and compacts to the one noted a retention ago. Revision mode keeps the last
// `retention` revisions, checked every five minutes as etcd does. Followers note revisions too, so
// a new leader can compact at once. Clock and timers come from outside (tests drive them).

/** How often revision mode looks (etcd's revision compactor period). */
export const REVISION_MODE_CHECK_MS = 5 * 60 * 1000;
/** Periodic mode looks every tenth of the retention, but not more often than this. */
const PERIODIC_CHECK_MIN_MS = 100;

export type AutoCompactionPolicy =
  | { readonly mode: 'periodic'; readonly retentionMs: number }
  | { readonly mode: 'revision'; readonly retentionRevisions: number };

export interface AutoCompactorOptions {
  readonly policy: AutoCompactionPolicy;
  readonly currentRevision: () => number;
  /** -1 when never compacted. */
  readonly compactedRevision: () => number;
  readonly isLeader: () => boolean;
  /** Proposes Compact(revision) through the log; rejects when it could not be applied. */
  readonly compact: (revision: number) => Promise<void>;
  readonly nowMs: () => number;
  readonly logger: {
    info(object: object, message: string): void;
    warn(object: object, message: string): void;
  };
}

export class AutoCompactor {
  readonly checkIntervalMs: number;
  private readonly options: AutoCompactorOptions;
  /** (time, revision) noted at each check, oldest first; none older than the one a retention ago. */
  private samples: { atMs: number; revision: number }[] = [];
  private compacting = false;

  constructor(options: AutoCompactorOptions) {
    this.options = options;
    const { policy } = options;
    if (policy.mode === 'periodic') {
      if (!(policy.retentionMs > 0)) throw new Error('periodic auto compaction needs a positive retention');
      this.checkIntervalMs = Math.max(PERIODIC_CHECK_MIN_MS, Math.floor(policy.retentionMs / 10));
    } else {
      if (!(policy.retentionRevisions > 0))
        throw new Error('revision auto compaction needs a positive retention');
      this.checkIntervalMs = REVISION_MODE_CHECK_MS;
    }
  }

  /** One check; the owner calls it every checkIntervalMs. Resolves once any compaction it started ends. */
  async check(): Promise<void> {
    const target = this.target();
    const { options } = this;
    if (target === undefined || this.compacting || !options.isLeader()) return;
    if (target <= options.compactedRevision() || target <= 1) return;
    this.compacting = true;
    try {
      await options.compact(target);
      options.logger.info({ revision: target, policy: options.policy.mode }, 'auto compaction done');
    } catch (error) {
      // Not leader any more, already compacted by a client, no quorum: the next check tries again.
      options.logger.warn(
        { err: error, revision: target },
        'auto compaction failed; retrying at the next check',
      );
    } finally {
      this.compacting = false;
    }
  }

  /** The revision to compact to now, if any. */
  private target(): number | undefined {
    const { policy, currentRevision, nowMs } = this.options;
    const revision = currentRevision();
    if (policy.mode === 'revision') return revision - policy.retentionRevisions;
    const now = nowMs();
    this.samples.push({ atMs: now, revision });
    const cutoff = now - policy.retentionMs;
    let newestOld = -1;
    for (let i = 0; i < this.samples.length; i++) if (this.samples[i]!.atMs <= cutoff) newestOld = i;
    if (newestOld < 0) return undefined;
    // Keep that sample (it is the next target until a newer one ages past the cutoff), drop older.
    this.samples = this.samples.slice(newestOld);
    return this.samples[0]!.revision;
  }
}

/**
 * Parses --auto-compaction-retention for `mode`: periodic takes a duration ("1h", "30m", "90s",
 * "1h30m", "500ms") or a bare number of hours, as etcd does; revision a whole number. "0" is off.
 */
export function parseAutoCompaction(
  mode: string,
  retention: string,
): AutoCompactionPolicy | undefined | string {
  const text = retention.trim();
  if (mode === 'revision') {
    if (!/^\d+$/.test(text))
      return `--auto-compaction-retention ${retention}: revision mode takes a whole number of revisions`;
    const revisions = Number(text);
    return revisions === 0 ? undefined : { mode: 'revision', retentionRevisions: revisions };
  }
  if (mode !== 'periodic') return `--auto-compaction-mode ${mode}: expected periodic or revision`;
  if (/^\d+(\.\d+)?$/.test(text)) {
    const hours = Number(text);
    return hours === 0 ? undefined : { mode: 'periodic', retentionMs: hours * 3_600_000 };
  }
  const unitMs: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== text)
    return `--auto-compaction-retention ${retention}: expected a duration such as 1h, 30m or 90s, or a number of hours`;
  const retentionMs = parts.reduce((sum, part) => sum + Number(part[1]) * unitMs[part[2]!]!, 0);
  return retentionMs === 0 ? undefined : { mode: 'periodic', retentionMs };
}
