export type { Counterexample } from './counterexample.js';
export { renderOperation } from './counterexample.js';
export type {
  CasResult,
  GetResult,
  KvCall,
  KvOperation,
  KvResult,
  OperationOutcome,
  PutResult,
  RecordedOperation,
} from './history.js';
export { HistoryFormatError, HistoryRecorder, isCasResult, isGetResult, validateHistory } from './history.js';
export { historyFormatName, historyFormatVersion, historyFromJson, historyToJson } from './history-json.js';
export { formatCall, formatOperation, formatResult, historyFromText, historyToText } from './history-text.js';
export type { KvApplied, KvStoreState, Model, RegisterValue, StepOutcome } from './kv-model.js';
export { applyKv, applyKvToStore, kvRegisterModel, kvStoreModel, sameKvResult } from './kv-model.js';
export type {
  CheckOptions,
  LinearizabilityReport,
  PartitionReport,
  SearchDeadline,
  StopReason,
  Verdict,
} from './linearizability.js';
export {
  checkKvHistory,
  checkLinearizability,
  deadlineCheckIntervalSteps,
  defaultMaxSearchStepsPerKey,
} from './linearizability.js';
export type { KvWorkloadOptions, RandomSource, SyntheticHistoryOptions } from './workload.js';
export { generateLinearizableHistory, KvWorkload, seededRandom } from './workload.js';
