export { ClockFormatError, ClockLogicalOverflowError, ClockOffsetError } from './errors.js';
export {
  compareHlc,
  decodeHlc,
  defaultMaxOffsetMs,
  encodeHlc,
  formatHlc,
  type HlcOptions,
  type HlcTimestamp,
  HybridLogicalClock,
  hlcLogicalMax,
  hlcWallMsMax,
  parseHlc,
  wallClock,
} from './hlc.js';
export {
  defaultDriftPpm,
  defaultUncertaintyMs,
  IntervalClock,
  type IntervalClockOptions,
  type TimeInterval,
} from './interval-clock.js';
export { LamportClock } from './lamport.js';
export { replicaIdBytesMax, VectorClock, type VectorClockJson, type VectorOrder } from './vector-clock.js';
