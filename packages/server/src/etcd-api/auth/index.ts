// etcd v3 authentication at the server edge: tokens, password hashing, per-request authorization
// and the etcdserverpb.Auth gRPC service. The replicated state is @synod/state's AuthStore.

export {
  AUTHENTICATE_ATTEMPTS_MAX,
  AuthEdge,
  type AuthEdgeOptions,
  type AuthProposal,
  type AuthProposer,
  applyAuthCommand,
  localAuthProposer,
} from './auth-edge.js';
export {
  AUTH_MESSAGES,
  type AuthMethodName,
  type AuthRequestOf,
  type AuthResponseOf,
  authMethodCodec,
} from './auth-messages.js';
export {
  type AuthBackend,
  type AuthBackendResult,
  type AuthCaller,
  etcdErrorToGrpc,
  registerAuthService,
} from './auth-service.js';
export {
  type AuthorizeOptions,
  type AuthorizeResult,
  EtcdAuthorizer,
  type EtcdAuthorizerOptions,
  TOKEN_METADATA_KEY,
  tokenFromMetadata,
} from './authorizer.js';
export { type AlarmAction, ETCD_AUTH_REQUIREMENTS } from './method-requirements.js';
export * from './password.js';
export * from './simple-token-manager.js';
