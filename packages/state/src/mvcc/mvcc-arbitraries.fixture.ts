// fast-check arbitraries for MVCC requests over a small key space, so that random sequences
// collide on keys, ranges and revisions often. Shared by the model tests and the etcd differential.
import fc from 'fast-check';
import type {
  Compare,
  CompareResult,
  CompareTarget,
  KvWriteRequest,
  RangeRequest,
  RequestOp,
  SortOrder,
  SortTarget,
  TxnRequest,
} from './etcd-types.js';

/** Highest revision a generated request names: a little past what 40 commands reach. */
export const REVISION_MAX = 24;

const keyArb = fc.constantFrom(
  ...[[0x61], [0x62], [0x63], [0x61, 0x62], [0x61, 0x00], [0x62, 0xff], [0x00], [0xff]].map(
    (b) => new Uint8Array(b),
  ),
);
const rangeEndArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant(new Uint8Array(0)) },
  { weight: 1, arbitrary: fc.constant(new Uint8Array([0])) },
  { weight: 2, arbitrary: keyArb },
);
const valueArb = fc.constantFrom('', 'x', 'y', 'zz').map((v) => new TextEncoder().encode(v));
const leaseArb = fc.constantFrom(0n, 1n, 2n);
const revisionArb = fc.integer({ min: -1, max: REVISION_MAX });
const boundArb = fc.oneof(
  { weight: 4, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 12 }) },
);

const putArb = fc.record({ key: keyArb, value: valueArb, lease: leaseArb, prevKv: fc.boolean() });
const sometimes = (rate: number) => fc.integer({ min: 0, max: 99 }).map((n) => n < rate);
const putRequestArb = fc
  .record({
    base: putArb,
    ignoreValue: sometimes(15),
    ignoreLease: sometimes(15),
    keepOperand: sometimes(20),
  })
  .map(({ base, ignoreValue, ignoreLease, keepOperand }) => ({
    ...base,
    ignoreValue,
    ignoreLease,
    // Mostly valid: the operand an ignore flag replaces is left empty, sometimes not (an error).
    value: ignoreValue && !keepOperand ? new Uint8Array(0) : base.value,
    lease: ignoreLease && !keepOperand ? 0n : base.lease,
  }));
const deleteRequestArb = fc.record({ key: keyArb, rangeEnd: rangeEndArb, prevKv: fc.boolean() });
const rangeRequestArb: fc.Arbitrary<RangeRequest> = fc.record({
  key: keyArb,
  rangeEnd: rangeEndArb,
  limit: fc.integer({ min: -1, max: 3 }),
  revision: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: revisionArb }),
  sortOrder: fc.constantFrom<SortOrder>('NONE', 'NONE', 'ASCEND', 'DESCEND'),
  sortTarget: fc.constantFrom<SortTarget>('KEY', 'KEY', 'VERSION', 'CREATE', 'MOD', 'VALUE'),
  serializable: fc.boolean(),
  keysOnly: sometimes(15),
  countOnly: sometimes(10),
  minModRevision: boundArb,
  maxModRevision: boundArb,
  minCreateRevision: boundArb,
  maxCreateRevision: boundArb,
});
const compareArb: fc.Arbitrary<Compare> = fc.record({
  key: keyArb,
  rangeEnd: fc.oneof(
    { weight: 4, arbitrary: fc.constant(new Uint8Array(0)) },
    { weight: 1, arbitrary: rangeEndArb },
  ),
  target: fc.constantFrom<CompareTarget>('VERSION', 'CREATE', 'MOD', 'VALUE', 'LEASE'),
  result: fc.constantFrom<CompareResult>('EQUAL', 'GREATER', 'LESS', 'NOT_EQUAL'),
  version: fc.integer({ min: 0, max: 4 }),
  createRevision: fc.integer({ min: 0, max: REVISION_MAX }),
  modRevision: fc.integer({ min: 0, max: REVISION_MAX }),
  value: valueArb,
  lease: leaseArb,
});

const { txn: txnArb } = fc.letrec<{ txn: TxnRequest; op: RequestOp }>((tie) => ({
  txn: fc.record({
    compare: fc.array(compareArb, { maxLength: 2 }),
    success: fc.array(tie('op'), { maxLength: 3 }),
    failure: fc.array(tie('op'), { maxLength: 3 }),
  }),
  op: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    putRequestArb.map((request): RequestOp => ({ kind: 'put', request })),
    deleteRequestArb.map((request): RequestOp => ({ kind: 'deleteRange', request })),
    rangeRequestArb.map((request): RequestOp => ({ kind: 'range', request })),
    tie('txn').map((request): RequestOp => ({ kind: 'txn', request })),
  ),
}));

export type Command = { kind: 'write'; request: KvWriteRequest } | { kind: 'read'; request: RangeRequest };

export const commandArb: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 4,
    arbitrary: putRequestArb.map(
      (request) => ({ kind: 'write', request: { kind: 'put', request } }) as const,
    ),
  },
  {
    weight: 2,
    arbitrary: deleteRequestArb.map(
      (request) => ({ kind: 'write', request: { kind: 'deleteRange', request } }) as const,
    ),
  },
  {
    weight: 3,
    arbitrary: txnArb.map((request) => ({ kind: 'write', request: { kind: 'txn', request } }) as const),
  },
  {
    weight: 1,
    arbitrary: revisionArb.map(
      (revision) =>
        ({ kind: 'write', request: { kind: 'compact', request: { revision, physical: false } } }) as const,
    ),
  },
  { weight: 2, arbitrary: rangeRequestArb.map((request) => ({ kind: 'read', request }) as const) },
);
