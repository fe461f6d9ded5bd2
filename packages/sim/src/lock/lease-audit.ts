// Check 3 (lease safety), computed beside the leader's LeaseExpiryTracker rather than from it:
// the audit hears what the tracker hears (promote, grants, renewals, revokes; times read from
// the leader's own clock) and keeps the earliest moment the rule allows each lease to expire.
// A revoke proposed for expiry before that moment is a violation, whatever the tracker thought.
import type { LeaseSummary } from '@synod/state';

const MS_PER_SECOND = 1_000;

/** What a leader reports to the audit; every time is the leader's own clock reading. */
export interface LeaseAuditSink {
  promoted(node: string, nowMs: number, leases: readonly LeaseSummary[]): void;
  demoted(node: string): void;
  granted(node: string, lease: bigint, grantedTtlSeconds: number, nowMs: number): void;
  renewed(node: string, lease: bigint, nowMs: number): void;
  revoked(node: string, lease: bigint): void;
  expiryProposed(node: string, lease: bigint, nowMs: number): void;
}

interface AuditedLease {
  readonly grantedTtlSeconds: number;
  /** The leader's clock must reach this before the lease may expire. */
  earliestExpiryMs: number;
  /** What set `earliestExpiryMs`, for the report. */
  cause: string;
}

/**
 * The rule: a lease expires no earlier than its TTL after the last renewal the leader saw, or
 * after its grant on this leader, or — for leases the leader inherited — after promote plus the
 * checkpointed remaining TTL (else the granted TTL) plus `promoteExtensionMs`.
 */
export class LeaseExpiryAudit implements LeaseAuditSink {
  expiryRevokesProposed = 0;
  private readonly promoteExtensionMs: number;
  private readonly report: (node: string, message: string) => void;
  private readonly leadersLeases = new Map<string, Map<bigint, AuditedLease>>();

  constructor(promoteExtensionMs: number, report: (node: string, message: string) => void) {
    this.promoteExtensionMs = promoteExtensionMs;
    this.report = report;
  }

  promoted(node: string, nowMs: number, leases: readonly LeaseSummary[]): void {
    const audited = new Map<bigint, AuditedLease>();
    for (const lease of leases) {
      const baseSeconds = lease.remainingTtl > 0 ? lease.remainingTtl : lease.grantedTtl;
      audited.set(lease.id, {
        grantedTtlSeconds: lease.grantedTtl,
        earliestExpiryMs: nowMs + baseSeconds * MS_PER_SECOND + this.promoteExtensionMs,
        cause: `promote at ${nowMs.toFixed(1)} (${baseSeconds} s + ${this.promoteExtensionMs} ms extension)`,
      });
    }
    this.leadersLeases.set(node, audited);
  }

  demoted(node: string): void {
    this.leadersLeases.delete(node);
  }

  granted(node: string, lease: bigint, grantedTtlSeconds: number, nowMs: number): void {
    this.leadersLeases.get(node)?.set(lease, {
      grantedTtlSeconds,
      earliestExpiryMs: nowMs + grantedTtlSeconds * MS_PER_SECOND,
      cause: `grant at ${nowMs.toFixed(1)} (${grantedTtlSeconds} s)`,
    });
  }

  renewed(node: string, lease: bigint, nowMs: number): void {
    const audited = this.leadersLeases.get(node)?.get(lease);
    if (audited === undefined) {
      this.report(node, `renewed lease ${hex(lease)} that it does not track as leader`);
      return;
    }
    audited.earliestExpiryMs = nowMs + audited.grantedTtlSeconds * MS_PER_SECOND;
    audited.cause = `renewal at ${nowMs.toFixed(1)} (${audited.grantedTtlSeconds} s)`;
  }

  revoked(node: string, lease: bigint): void {
    this.leadersLeases.get(node)?.delete(lease);
  }

  expiryProposed(node: string, lease: bigint, nowMs: number): void {
    this.expiryRevokesProposed++;
    const audited = this.leadersLeases.get(node)?.get(lease);
    if (audited === undefined) {
      this.report(node, `proposed to revoke lease ${hex(lease)} for expiry without tracking it as leader`);
      return;
    }
    if (nowMs < audited.earliestExpiryMs) {
      this.report(
        node,
        `expired lease ${hex(lease)} at ${nowMs.toFixed(1)} ms of its clock, ` +
          `${(audited.earliestExpiryMs - nowMs).toFixed(1)} ms early: its TTL runs from the ${audited.cause}`,
      );
    }
  }
}

export function hex(lease: bigint): string {
  return lease.toString(16);
}
