// What the admin backends answer, and how an EtcdError becomes the gRPC status etcd sends (the
// same table as ../services.ts: etcd's code, etcd's exact message).
import type { EtcdError } from '@synod/state';
import { etcdErrorToGrpc } from '../etcd-grpc-error.js';

/** A backend's answer: a value, or etcd's error for the client. */
export type AdminResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: EtcdError };

export const toGrpcError = etcdErrorToGrpc;

/** The value, or the error thrown as etcd's gRPC status. */
export function answered<T>(result: AdminResult<T>): T {
  if (!result.ok) throw toGrpcError(result.error);
  return result.value;
}
