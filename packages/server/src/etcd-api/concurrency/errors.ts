import { GrpcError, GrpcStatus } from '../../grpc/status.js';
import { etcdErrorToGrpc } from '../etcd-grpc-error.js';

export const toGrpcError = etcdErrorToGrpc;

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
