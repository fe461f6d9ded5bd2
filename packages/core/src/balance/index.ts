export type { Balancer, EndpointFilter, WeightedEndpoint } from './balancer.js';
export { LeastOutstanding, type LoadAwareBalancerOptions, PowerOfTwoChoices } from './least-outstanding.js';
export {
  type EjectionReason,
  OutlierDetection,
  type OutlierDetectionOptions,
  outlierDetectionDefaults,
} from './outlier-detection.js';
export { defaultDecayMs, defaultFailureLatencyMs, PeakEwma, type PeakEwmaOptions } from './peak-ewma.js';
export { RandomBalancer, type RandomBalancerOptions } from './random.js';
export { RoundRobin, SmoothWeightedRoundRobin } from './round-robin.js';
