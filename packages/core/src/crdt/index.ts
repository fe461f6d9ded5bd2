export { GCounter, type GCounterState, PNCounter, type PNCounterState } from './counters.js';
export { CrdtFormatError, canonicalJson, isJsonValue, type JsonValue } from './json.js';
export {
  LwwRegister,
  type LwwRegisterOptions,
  type LwwRegisterState,
  type LwwWrite,
} from './lww-register.js';
export { MvRegister, type MvRegisterState } from './mv-register.js';
export { type Dot, OrSet, type OrSetState } from './or-set.js';
