// Public surface of the peer transport.
export {
  decodeHello,
  decodeRaftBatch,
  ENTRIES_PER_MESSAGE_MAX,
  encodeHello,
  encodeRaftBatch,
  type Hello,
  ID_BYTES_MAX,
  MEMBERS_PER_LIST_MAX,
  MESSAGE_TYPE_CODES,
  MESSAGES_PER_BATCH_MAX,
  messageBytesEstimate,
  READ_CONTEXT_BYTES_MAX,
  STRINGS_PER_BATCH_MAX,
} from './codec.js';
export {
  encodeFrame,
  FRAME_HEADER_BYTES,
  FRAME_MAGIC,
  FRAME_PAYLOAD_BYTES_MAX,
  FRAME_TYPE_CODES,
  type Frame,
  FrameDecoder,
  type FrameType,
  HELLO_PAYLOAD_BYTES_MAX,
  PING_PAYLOAD_BYTES_MAX,
  PROTOCOL_VERSION,
  sealFrame,
} from './frame.js';
export { FrameError, type FrameErrorCode, TransportInvariantError } from './frame-error.js';
export { PeerTransport, type PeerTransportOptions, type TransportStats } from './peer-transport.js';
export {
  type ConnectToPeer,
  type CreatePeerServer,
  connectTcp,
  createTcpServer,
  DEFAULT_TRANSPORT_LIMITS,
  type PeerAddress,
  type PeerEndpoint,
  type PeerStats,
  type TransportLimits,
  type TransportLogger,
} from './transport-options.js';
