// The storage service lock holders write to: outside the Raft cluster, reached over the client
// network. It keeps the highest fencing token seen per resource and refuses lower ones, so a
// holder whose lock has passed on (paused, cut off, slow clock) cannot overwrite its successor.
import type { ResourceAck, ResourceWrite } from './lock-messages.js';

/** One write the service accepted, in acceptance order. */
export interface AcceptedWrite {
  readonly atMs: number;
  readonly writeId: string;
  readonly resource: string;
  readonly token: number;
  readonly holder: string;
}

/** Bound on the recorded writes of one run (a run makes a few hundred). */
const MAX_RECORDED_WRITES = 100_000;

export class FencedResource {
  /** Every write accepted, in order (the checks read this). */
  readonly accepted: AcceptedWrite[] = [];
  /** Writes refused for a stale token: the fencing at work. */
  refused = 0;
  private readonly highestToken = new Map<string, number>();
  private readonly checksTokens: boolean;

  /** `checksTokens: false` is the unfenced mutant: it accepts every write. */
  constructor(checksTokens: boolean) {
    this.checksTokens = checksTokens;
  }

  write(write: ResourceWrite, atMs: number): ResourceAck {
    // Only simulated clients write here; a write without a token is a bug in them.
    if (!(Number.isSafeInteger(write.token) && write.token > 0))
      throw new Error(`write ${write.writeId} carries no fencing token (${write.token})`);
    const highest = this.highestToken.get(write.resource) ?? 0;
    // Equal tokens pass: one holder writes several times under one grant.
    if (this.checksTokens && write.token < highest) {
      this.refused++;
      return { writeId: write.writeId, accepted: false, highestToken: highest };
    }
    if (this.accepted.length >= MAX_RECORDED_WRITES) throw new Error('too many resource writes in one run');
    this.highestToken.set(write.resource, Math.max(highest, write.token));
    const { writeId, resource, token, holder } = write;
    this.accepted.push({ atMs, writeId, resource, token, holder });
    return { writeId, accepted: true, highestToken: Math.max(highest, write.token) };
  }
}
