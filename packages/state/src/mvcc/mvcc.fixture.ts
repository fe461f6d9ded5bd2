// Request builders for tests: etcd's defaults (what a client sends when it sets nothing) with
// string keys, so a test reads like the etcdctl command it stands for.
import type {
  Compare,
  CompareResult,
  CompareTarget,
  DeleteRangeRequest,
  KvWriteRequest,
  PutRequest,
  RangeRequest,
  RequestOp,
  TxnRequest,
} from './etcd-types.js';
import { rangeRequest as rangeRequestOf } from './etcd-types.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A string as bytes; "\0" and other escapes become those bytes (UTF-8 for code points ≥ 0x80). */
export function bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

export function text(value: Uint8Array): string {
  return decoder.decode(value);
}

/** The prefix range end etcd's clients compute: the key with its last byte < 0xff incremented. */
export function prefixEnd(prefix: string): string {
  const key = bytes(prefix);
  for (let i = key.length - 1; i >= 0; i--) {
    if (key[i]! < 0xff) return decoder.decode(new Uint8Array([...key.subarray(0, i), key[i]! + 1]));
  }
  return '\0';
}

export function putRequest(key: string, value: string, options: Partial<PutRequest> = {}): PutRequest {
  return {
    key: bytes(key),
    value: bytes(value),
    lease: 0n,
    prevKv: false,
    ignoreValue: false,
    ignoreLease: false,
    ...options,
  };
}

export function rangeRequest(key: string, rangeEnd = '', options: Partial<RangeRequest> = {}): RangeRequest {
  return rangeRequestOf(bytes(key), { rangeEnd: bytes(rangeEnd), ...options });
}

export function deleteRequest(key: string, rangeEnd = '', prevKv = false): DeleteRangeRequest {
  return { key: bytes(key), rangeEnd: bytes(rangeEnd), prevKv };
}

/** A compare whose operand is `operand` in the field `target` names. */
export function compare(
  key: string,
  target: CompareTarget,
  result: CompareResult,
  operand: number | bigint | string,
  rangeEnd = '',
): Compare {
  return {
    key: bytes(key),
    rangeEnd: bytes(rangeEnd),
    target,
    result,
    version: target === 'VERSION' ? Number(operand) : 0,
    createRevision: target === 'CREATE' ? Number(operand) : 0,
    modRevision: target === 'MOD' ? Number(operand) : 0,
    value: target === 'VALUE' ? bytes(String(operand)) : new Uint8Array(0),
    lease: target === 'LEASE' ? BigInt(operand) : 0n,
  };
}

export function txnRequest(
  compares: readonly Compare[],
  success: readonly RequestOp[],
  failure: readonly RequestOp[] = [],
): TxnRequest {
  return { compare: compares, success, failure };
}

export const op = {
  put: (key: string, value: string, options: Partial<PutRequest> = {}): RequestOp => ({
    kind: 'put',
    request: putRequest(key, value, options),
  }),
  range: (key: string, rangeEnd = '', options: Partial<RangeRequest> = {}): RequestOp => ({
    kind: 'range',
    request: rangeRequest(key, rangeEnd, options),
  }),
  delete: (key: string, rangeEnd = '', prevKv = false): RequestOp => ({
    kind: 'deleteRange',
    request: deleteRequest(key, rangeEnd, prevKv),
  }),
  txn: (
    compares: readonly Compare[],
    success: readonly RequestOp[],
    failure: readonly RequestOp[] = [],
  ): RequestOp => ({
    kind: 'txn',
    request: txnRequest(compares, success, failure),
  }),
};

export const write = {
  put: (key: string, value: string, options: Partial<PutRequest> = {}): KvWriteRequest => ({
    kind: 'put',
    request: putRequest(key, value, options),
  }),
  delete: (key: string, rangeEnd = '', prevKv = false): KvWriteRequest => ({
    kind: 'deleteRange',
    request: deleteRequest(key, rangeEnd, prevKv),
  }),
  txn: (
    compares: readonly Compare[],
    success: readonly RequestOp[],
    failure: readonly RequestOp[] = [],
  ): KvWriteRequest => ({ kind: 'txn', request: txnRequest(compares, success, failure) }),
  compact: (revision: number): KvWriteRequest => ({
    kind: 'compact',
    request: { revision, physical: false },
  }),
};
