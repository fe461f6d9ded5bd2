// What the admin backends answer, and how an EtcdError becomes the gRPC status etcd sends (the
// same table as ../services.ts: etcd's code, etcd's exact message).
import type { EtcdError } from '@synod/state';
import { GrpcError, GrpcStatus, type GrpcStatusCode } from '../../grpc/status.js';

/** A backend's answer: a value, or etcd's error for the client. */
export type AdminResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: EtcdError };

const STATUS_OF: Record<EtcdError['code'], GrpcStatusCode> = {
  InvalidArgument: GrpcStatus.INVALID_ARGUMENT,
  OutOfRange: GrpcStatus.OUT_OF_RANGE,
  ResourceExhausted: GrpcStatus.RESOURCE_EXHAUSTED,
  NotFound: GrpcStatus.NOT_FOUND,
  FailedPrecondition: GrpcStatus.FAILED_PRECONDITION,
  PermissionDenied: GrpcStatus.PERMISSION_DENIED,
  Unauthenticated: GrpcStatus.UNAUTHENTICATED,
  Unavailable: GrpcStatus.UNAVAILABLE,
  DataLoss: GrpcStatus.DATA_LOSS,
  Canceled: GrpcStatus.CANCELLED,
};

export function toGrpcError(error: EtcdError): GrpcError {
  return new GrpcError(STATUS_OF[error.code], error.message);
}

/** The value, or the error thrown as etcd's gRPC status. */
export function answered<T>(result: AdminResult<T>): T {
  if (!result.ok) throw toGrpcError(result.error);
  return result.value;
}
