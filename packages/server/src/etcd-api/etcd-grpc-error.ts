// How an etcd error reaches a client: the gRPC status etcd answers it with (etcd's rpctypes) and
// etcd's exact message, which clients match on. Every etcd service maps errors through this.
import type { EtcdError } from '@synod/state';
import { GrpcError, GrpcStatus, type GrpcStatusCode } from '../grpc/status.js';

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

/** The gRPC error a client sees for an etcd error: etcd's code and exact message. */
export function etcdErrorToGrpc(error: EtcdError): GrpcError {
  return new GrpcError(STATUS_OF[error.code], error.message);
}
