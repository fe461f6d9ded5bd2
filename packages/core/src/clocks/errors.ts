/**
 * A remote hybrid-logical-clock timestamp is further ahead of the local physical clock than the
 * configured maximum offset. Accepting it would drag this node's clock ahead with it, so it is
 * refused; the message it came with should be rejected too.
 */
export class ClockOffsetError extends Error {
  readonly code = 'CLOCK_OFFSET_EXCEEDED';
  readonly remoteWallMs: number;
  readonly localWallMs: number;
  readonly maxOffsetMs: number;

  constructor(remoteWallMs: number, localWallMs: number, maxOffsetMs: number) {
    super(
      `Remote timestamp ${remoteWallMs} ms is ${remoteWallMs - localWallMs} ms ahead of the local clock ` +
        `(${localWallMs} ms), beyond the maximum offset of ${maxOffsetMs} ms. ` +
        'Check NTP/chrony on both hosts, or raise maxOffsetMs if the drift is expected.',
    );
    this.name = 'ClockOffsetError';
    this.remoteWallMs = remoteWallMs;
    this.localWallMs = localWallMs;
    this.maxOffsetMs = maxOffsetMs;
  }
}

/** The logical counter of a hybrid logical clock would exceed what its encoding holds in one millisecond. */
export class ClockLogicalOverflowError extends Error {
  readonly code = 'CLOCK_LOGICAL_OVERFLOW';

  constructor(wallMs: number, logicalMax: number) {
    super(
      `More than ${logicalMax} events at ${wallMs} ms without the physical clock advancing. ` +
        'The physical clock may be stuck; check the host clock source.',
    );
    this.name = 'ClockLogicalOverflowError';
  }
}

/** Bytes or JSON handed to a clock decoder are not what its encoder writes. */
export class ClockFormatError extends Error {
  readonly code = 'CLOCK_FORMAT';

  constructor(what: string, problem: string) {
    super(`Cannot decode ${what}: ${problem}.`);
    this.name = 'ClockFormatError';
  }
}
