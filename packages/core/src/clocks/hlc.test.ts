import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ClockLogicalOverflowError, ClockOffsetError } from './errors.js';
import {
  compareHlc,
  decodeHlc,
  encodeHlc,
  formatHlc,
  type HlcTimestamp,
  HybridLogicalClock,
  hlcLogicalMax,
  parseHlc,
} from './hlc.js';

const maxOffsetMs = 100;
const epochMs = 1_700_000_000_000;

type ClusterEvent =
  | { kind: 'advance'; ms: number }
  | { kind: 'local'; node: number }
  | { kind: 'send'; from: number; to: number }
  | { kind: 'deliver'; pick: number };

const eventArbitrary: fc.Arbitrary<ClusterEvent> = fc.oneof(
  // Mostly no or little time passing, so that many events share a millisecond.
  fc.record({
    kind: fc.constant('advance' as const),
    ms: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 30 })),
  }),
  fc.record({ kind: fc.constant('local' as const), node: fc.nat(2) }),
  fc.record({ kind: fc.constant('send' as const), from: fc.nat(2), to: fc.nat(2) }),
  fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat(100) }),
);

/**
 * Three nodes whose physical clocks run at true time plus a fixed offset in [0, maxOffsetMs],
 * exchanging messages delivered in any order; checks the HLC guarantees after every event.
 */
function runCluster(offsetsMs: number[], events: ClusterEvent[]): void {
  let trueTimeMs = epochMs;
  let maxPhysicalSeenMs = 0;
  const physical = (node: number) => ({
    now: () => {
      const reading = trueTimeMs + offsetsMs[node]!;
      maxPhysicalSeenMs = Math.max(maxPhysicalSeenMs, reading);
      return reading;
    },
  });
  const clocks = offsetsMs.map(
    (_, node) => new HybridLogicalClock({ physicalClock: physical(node), maxOffsetMs }),
  );
  const lastIssued: (HlcTimestamp | undefined)[] = offsetsMs.map(() => undefined);
  const inFlight: { to: number; stamp: HlcTimestamp }[] = [];
  const check = (node: number, stamp: HlcTimestamp) => {
    const previous = lastIssued[node];
    if (previous !== undefined) assert.equal(compareHlc(previous, stamp), -1, 'monotonic');
    assert.ok(stamp.wallMs <= maxPhysicalSeenMs, 'never ahead of every physical clock seen');
    assert.ok(
      stamp.wallMs - (trueTimeMs + offsetsMs[node]!) <= maxOffsetMs,
      'within max offset of local time',
    );
    lastIssued[node] = stamp;
  };
  for (const event of events) {
    if (event.kind === 'advance') trueTimeMs += event.ms;
    else if (event.kind === 'local') check(event.node, clocks[event.node]!.now());
    else if (event.kind === 'send') {
      const stamp = clocks[event.from]!.send();
      check(event.from, stamp);
      inFlight.push({ to: event.to, stamp });
    } else if (inFlight.length > 0) {
      const [message] = inFlight.splice(event.pick % inFlight.length, 1);
      const received = clocks[message!.to]!.receive(message!.stamp);
      assert.equal(compareHlc(message!.stamp, received), -1, 'a receive follows its send');
      check(message!.to, received);
    }
  }
}

describe('HybridLogicalClock', () => {
  test('is monotonic, never ahead of the physical clocks seen, and within max offset of local time', () => {
    fc.assert(
      fc.property(
        // Offsets of 0 are common on purpose: equal physical clocks exercise the logical tie rules.
        fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: maxOffsetMs })), {
          minLength: 3,
          maxLength: 3,
        }),
        fc.array(eventArbitrary, { minLength: 10, maxLength: 200, size: 'max' }),
        runCluster,
      ),
      { numRuns: 200 },
    );
  });

  test('stays monotonic when the physical clock stalls or steps backwards', () => {
    const readings = [1000, 1000, 1000, 990, 1001];
    const clock = new HybridLogicalClock({ physicalClock: { now: () => readings.shift() ?? 1001 } });
    const stamps = Array.from({ length: 5 }, () => clock.now());
    assert.deepEqual(
      stamps.map((stamp) => [stamp.wallMs, stamp.logical]),
      [
        [1000, 0],
        [1000, 1],
        [1000, 2],
        [1000, 3],
        [1001, 0],
      ],
    );
  });

  test('rejects a remote timestamp too far ahead with a typed error and leaves the clock as it was', () => {
    const clock = new HybridLogicalClock({ physicalClock: { now: () => 5000 }, maxOffsetMs: 100 });
    const before = clock.now();
    const error = (() => {
      try {
        clock.receive({ wallMs: 5101, logical: 0 });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    assert.ok(error instanceof ClockOffsetError);
    assert.equal(error.code, 'CLOCK_OFFSET_EXCEEDED');
    assert.equal(error.remoteWallMs - error.localWallMs, 101);
    assert.deepEqual(clock.last, before);
    assert.deepEqual(clock.receive({ wallMs: 5100, logical: 7 }), { wallMs: 5100, logical: 8 });
  });

  test('a receive at the same wall time moves past the larger of both logical counters', () => {
    const clock = new HybridLogicalClock({ physicalClock: { now: () => 700 } });
    clock.now();
    assert.deepEqual(clock.receive({ wallMs: 700, logical: 9 }), { wallMs: 700, logical: 10 });
    assert.deepEqual(clock.receive({ wallMs: 700, logical: 3 }), { wallMs: 700, logical: 11 });
  });

  test('refuses to wrap the logical counter', () => {
    const clock = new HybridLogicalClock({ physicalClock: { now: () => 10 } });
    clock.receive({ wallMs: 10, logical: hlcLogicalMax - 1 });
    assert.throws(() => clock.now(), ClockLogicalOverflowError);
  });
});

describe('HLC encoding', () => {
  const stampArbitrary = fc
    .tuple(fc.integer({ min: 0, max: 2 ** 48 - 1 }), fc.integer({ min: 0, max: hlcLogicalMax }))
    .map(([wallMs, logical]): HlcTimestamp => ({ wallMs, logical }));

  test('the 64-bit and text forms round-trip and sort exactly as compareHlc does', () => {
    fc.assert(
      fc.property(stampArbitrary, stampArbitrary, (left, right) => {
        assert.deepEqual(decodeHlc(encodeHlc(left)), left);
        assert.deepEqual(parseHlc(formatHlc(left)), left);
        const order = compareHlc(left, right);
        const encodedLeft = encodeHlc(left);
        const encodedRight = encodeHlc(right);
        assert.equal(order, encodedLeft < encodedRight ? -1 : encodedLeft > encodedRight ? 1 : 0);
        const textLeft = formatHlc(left);
        const textRight = formatHlc(right);
        assert.equal(order, textLeft < textRight ? -1 : textLeft > textRight ? 1 : 0);
      }),
    );
  });
});
