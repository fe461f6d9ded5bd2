import assert from 'node:assert/strict';
import { test } from 'node:test';
import { context as contextApi, trace } from '@opentelemetry/api';
import { enableBuiltInTracing, RECORDED_SPANS_MAX } from './built-in-tracing.js';
import { synodTracer } from './tracing.js';

test('the built-in recorder traces through async work, keeps a bounded ring, and yields to an SDK', async () => {
  const recorder = enableBuiltInTracing();
  assert.ok(recorder, 'installed when no provider is registered');
  assert.equal(enableBuiltInTracing(), undefined, 'a registered provider is left in charge');
  const tracer = synodTracer();
  const parent = tracer.startSpan('request');
  await contextApi.with(trace.setSpan(contextApi.active(), parent), async () => {
    await new Promise((resolve) => setTimeout(resolve, 1));
    const child = tracer.startSpan('raft.propose');
    child.end();
  });
  parent.end();
  const [child, request] = recorder.recent();
  assert.equal(child?.name, 'raft.propose');
  assert.equal(child?.parentSpanId, request?.spanId, 'the context survived the await');
  assert.equal(child?.traceId, request?.traceId);
  for (let i = 0; i < RECORDED_SPANS_MAX + 10; i++) tracer.startSpan(`s${i}`).end();
  const recent = recorder.recent();
  assert.equal(recent.length, RECORDED_SPANS_MAX);
  assert.equal(recent.at(-1)?.name, `s${RECORDED_SPANS_MAX + 9}`, 'newest last');
});
