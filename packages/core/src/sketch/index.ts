export {
  BloomFilter,
  type BloomParameters,
  bloomBitCountMax,
  bloomFormatVersion,
  bloomHashCountMax,
  bloomHeaderBytes,
  optimalBloomParameters,
} from './bloom.js';
export { type CountMinOptions, CountMinSketch, countMinCounterCountMax } from './count-min.js';
export {
  type CounterBits,
  CountingBloomFilter,
  countingBloomCounterCountMax,
  countingBloomFormatVersion,
  countingBloomHashCountMax,
  countingBloomHeaderBytes,
} from './counting-bloom.js';
export { SketchFormatError, SketchMismatchError } from './errors.js';
export {
  defaultHyperLogLogPrecision,
  HyperLogLog,
  hyperLogLogFormatVersion,
  hyperLogLogHeaderBytes,
  hyperLogLogPrecisionMax,
  hyperLogLogPrecisionMin,
  hyperLogLogStandardError,
} from './hyperloglog.js';
