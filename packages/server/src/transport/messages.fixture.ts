// Messages for tests and benchmarks: one of every type, and fast-check arbitraries.
import type { ConfState, Entry, Message } from '@synod/raft';
import fc from 'fast-check';

const header = { group: 'shard-7', from: 'a', to: 'b', term: 5 } as const;

const confState: ConfState = {
  voters: ['a', 'b', 'c'],
  votersOutgoing: [],
  learners: ['d'],
  learnersNext: [],
  autoLeave: false,
};

/** Binary data with every byte value, so encoding mistakes show. */
export function binaryData(length: number, seed = 1): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + seed * 7) & 0xff);
}

/** One message of every type, with binary payloads. */
export function oneOfEveryType(): Message[] {
  const entries: Entry[] = [
    { term: 4, index: 11, kind: 'normal', data: binaryData(100) },
    { term: 5, index: 12, kind: 'config', data: binaryData(3, 2) },
    { term: 5, index: 13, kind: 'normal', data: new Uint8Array(0) },
  ];
  return [
    { ...header, type: 'propose', entries: [binaryData(10), new Uint8Array(0)] },
    { ...header, type: 'append', prevLogIndex: 10, prevLogTerm: 4, entries, commit: 9 },
    { ...header, type: 'appendResponse', reject: true, index: 10, rejectHint: 7, hintTerm: 3 },
    { ...header, type: 'vote', lastLogIndex: 2 ** 40, lastLogTerm: 4, transfer: true },
    { ...header, type: 'preVote', lastLogIndex: 12, lastLogTerm: 4, transfer: false },
    { ...header, type: 'voteResponse', reject: false },
    { ...header, type: 'preVoteResponse', reject: true },
    { ...header, type: 'heartbeat', commit: 13, context: '', sentTick: 77 },
    { ...header, type: 'heartbeatResponse', context: 'read-1', sentTick: 77 },
    {
      ...header,
      type: 'snapshot',
      metadata: { index: 500, term: 4, confState },
      offset: 1024,
      totalBytes: 4096,
      chunk: binaryData(1024, 3),
      done: false,
    },
    { ...header, type: 'snapshotResponse', snapshotIndex: 500, receivedBytes: -1, done: false },
    { ...header, type: 'timeoutNow' },
    { ...header, type: 'readIndex', context: 'ctx-ü-☃' },
    { ...header, type: 'readIndexResponse', context: 'ctx', index: -1 },
  ];
}

/** A heartbeat, the smallest and most frequent message. */
export function heartbeat(from: string, to: string, group: string, sentTick: number): Message {
  return { type: 'heartbeat', group, from, to, term: 3, commit: 1000 + sentTick, context: '', sentTick };
}

/** An append carrying `count` entries of `entryBytes` each. */
export function append(
  from: string,
  to: string,
  firstIndex: number,
  count: number,
  entryBytes: number,
): Message {
  const entries: Entry[] = [];
  for (let i = 0; i < count; i++) {
    entries.push({
      term: 3,
      index: firstIndex + i,
      kind: 'normal',
      data: binaryData(entryBytes, firstIndex + i),
    });
  }
  return {
    type: 'append',
    group: 'g1',
    from,
    to,
    term: 3,
    prevLogIndex: firstIndex - 1,
    prevLogTerm: 3,
    entries,
    commit: firstIndex - 1,
  };
}

const id = fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme' });
const count = fc.nat();
const index = fc.nat({ max: Number.MAX_SAFE_INTEGER - 100_000 });
const bytes = fc.uint8Array({ maxLength: 64 });
const members = fc.array(id, { maxLength: 4 });

/** Arbitrary valid messages (including the cross-field rules the decoder enforces). */
export const arbitraryMessage: fc.Arbitrary<Message> = fc
  .record({ group: id, from: id, to: id, term: fc.nat({ max: 1_000_000 }) })
  .filter((base) => base.from !== base.to)
  .chain((base) =>
    fc
      .oneof(
        fc.record({ type: fc.constant('propose' as const), entries: fc.array(bytes, { maxLength: 4 }) }),
        fc
          .record({
            prevLogIndex: index,
            entries: fc.array(
              fc.record({ kind: fc.constantFrom('normal' as const, 'config' as const), data: bytes }),
              {
                maxLength: 4,
              },
            ),
            commit: count,
            termSteps: fc.array(fc.nat({ max: 2 }), { minLength: 4, maxLength: 4 }),
          })
          .map(({ prevLogIndex, entries, commit, termSteps }) => {
            let term = Math.max(0, base.term - 8);
            const prevLogTerm = term;
            const withIndexes: Entry[] = entries.map((entry, i) => {
              term = Math.min(base.term, term + termSteps[i]!);
              return { ...entry, term, index: prevLogIndex + 1 + i };
            });
            return { type: 'append' as const, prevLogIndex, prevLogTerm, entries: withIndexes, commit };
          }),
        fc.record({
          type: fc.constant('appendResponse' as const),
          reject: fc.boolean(),
          index,
          rejectHint: index,
          hintTerm: count,
        }),
        fc.record({
          type: fc.constantFrom('vote' as const, 'preVote' as const),
          lastLogIndex: index,
          lastLogTerm: count,
          transfer: fc.boolean(),
        }),
        fc.record({
          type: fc.constantFrom('voteResponse' as const, 'preVoteResponse' as const),
          reject: fc.boolean(),
        }),
        fc.record({
          type: fc.constant('heartbeat' as const),
          commit: count,
          context: fc.string(),
          sentTick: count,
        }),
        fc.record({ type: fc.constant('heartbeatResponse' as const), context: fc.string(), sentTick: count }),
        fc
          .record({
            index,
            voters: members,
            votersOutgoing: members,
            learners: members,
            learnersNext: members,
            autoLeave: fc.boolean(),
            offset: fc.nat({ max: 1_000_000 }),
            slack: fc.nat({ max: 1_000 }),
            chunk: bytes,
            done: fc.boolean(),
          })
          .map(({ index, offset, slack, chunk, done, autoLeave, ...lists }) => ({
            type: 'snapshot' as const,
            metadata: { index, term: base.term, confState: { ...lists, autoLeave } },
            offset,
            totalBytes: offset + chunk.byteLength + slack,
            chunk,
            done,
          })),
        fc.record({
          type: fc.constant('snapshotResponse' as const),
          snapshotIndex: index,
          receivedBytes: fc.integer({ min: -1, max: 1_000_000 }),
          done: fc.boolean(),
        }),
        fc.record({ type: fc.constant('timeoutNow' as const) }),
        fc.record({ type: fc.constant('readIndex' as const), context: fc.string() }),
        fc.record({
          type: fc.constant('readIndexResponse' as const),
          context: fc.string(),
          index: fc.integer({ min: -1 }),
        }),
      )
      .map((body): Message => ({ ...base, ...body }) as Message),
  );
