// The Raft spans of one replicated command (OpenTelemetry, no-op unless an SDK is registered):
// raft.propose (handing it to Raft), raft.commit (until it is applied here), and raft.apply on
// every member, parented by the trace context the command carries in the log.
import { type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  activeContext,
  contextFromCarried,
  encodeTraceContext,
  RAFT_SPAN,
  startRaftSpan,
  synodTracer,
} from '../observability/tracing.js';

const GROUP_ATTRIBUTES = { 'raft.group': '0' };

export interface ProposeSpans {
  /** The trace context to carry in the logged command. */
  readonly carried: Uint8Array;
  proposed(): void;
  committed(ok: boolean): void;
  fail(reason: string): void;
}

/** Spans for a command proposed by the current request, or undefined when nothing is traced. */
export function startProposeSpans(): ProposeSpans | undefined {
  const parent = activeContext();
  if (!trace.getSpan(parent)?.isRecording()) return undefined;
  const tracer = synodTracer();
  const propose = startRaftSpan(tracer, RAFT_SPAN.propose, parent, GROUP_ATTRIBUTES);
  const carried = encodeTraceContext(trace.setSpan(parent, propose));
  if (!carried) {
    propose.end();
    return undefined;
  }
  let commit: Span | undefined;
  return {
    carried,
    proposed() {
      propose.end();
      commit = startRaftSpan(tracer, RAFT_SPAN.commit, parent, GROUP_ATTRIBUTES);
    },
    committed(ok) {
      if (!ok) commit?.setStatus({ code: SpanStatusCode.ERROR });
      commit?.end();
    },
    fail(reason) {
      propose.setStatus({ code: SpanStatusCode.ERROR, message: reason });
      propose.end();
    },
  };
}

/** The apply span of a command that carried a trace context. */
export function startApplySpan(carried: Uint8Array): Span {
  return startRaftSpan(synodTracer(), RAFT_SPAN.apply, contextFromCarried(carried), GROUP_ATTRIBUTES);
}
