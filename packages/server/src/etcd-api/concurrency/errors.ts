// How the Lock and Election services answer failures. Errors of the KV store keep etcd's status
// and message; errors of the recipe itself are plain Go errors in etcd, which gRPC-Go sends as
// UNKNOWN with the error's text, so clients matching on that text see it here too.
import type { EtcdError } from '@synod/state';
import { GrpcError, GrpcStatus, type GrpcStatusCode } from '../../grpc/status.js';

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

/** The recipe's own errors, verbatim from etcd (client/v3/concurrency, server/.../v3election). */
export const RECIPE_ERRORS = {
  /** Proclaim by a contender that no longer leads (its key is gone or was re-created). */
  notLeader: 'election: not leader',
  /** Leader (and Observe's first answer) when nobody campaigns. */
  noLeader: 'election: no leader',
  /** Proclaim or Resign without a leader key. */
  missingLeaderKey: '"leader" field must be provided',
  /** A waiting Lock whose key was deleted (its lease expired): etcd 3.5+'s mutex check. */
  sessionExpired: 'mutex: session is expired',
} as const;

export function recipeError(message: (typeof RECIPE_ERRORS)[keyof typeof RECIPE_ERRORS]): GrpcError {
  return new GrpcError(GrpcStatus.UNKNOWN, message);
}
