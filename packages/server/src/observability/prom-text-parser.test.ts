import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';
import { parsePrometheusText } from './prom-text-parser.js';

function parsed(text: string) {
  const result = parsePrometheusText(text);
  if (!result.ok) assert.fail(`line ${result.error.line}: ${result.error.message}`);
  return result.families;
}

function refused(text: string, message: RegExp): void {
  const result = parsePrometheusText(text);
  assert.equal(result.ok, false, `accepted:\n${text}`);
  if (!result.ok) assert.match(result.error.message, message);
}

const HISTOGRAM = [
  '# HELP latency_seconds Time taken.',
  '# TYPE latency_seconds histogram',
  'latency_seconds_bucket{le="0.1"} 1',
  'latency_seconds_bucket{le="1"} 3',
  'latency_seconds_bucket{le="+Inf"} 4',
  'latency_seconds_sum 5.5',
  'latency_seconds_count 4',
  '',
].join('\n');

describe('parsePrometheusText', () => {
  it('reads what prom-client writes, every metric type and escaped labels included', async () => {
    const registry = new Registry();
    const counter = new Counter({
      name: 'requests_total',
      help: 'Requests\\served\nso far.',
      labelNames: ['path'],
      registers: [registry],
    });
    counter.inc({ path: 'a "quoted"\\ path\nwith newline' }, 3);
    new Gauge({ name: 'temperature', help: 'Now.', registers: [registry] }).set(-1.5);
    const histogram = new Histogram({
      name: 'latency_seconds',
      help: 'Latency.',
      labelNames: ['method'],
      buckets: [0.01, 0.1, 1],
      registers: [registry],
    });
    histogram.observe({ method: 'get' }, 0.05);
    histogram.observe({ method: 'get' }, 5);
    histogram.observe({ method: 'put' }, 0.001);
    new Summary({ name: 'size_bytes', help: 'Sizes.', registers: [registry] }).observe(10);
    const families = parsed(await registry.metrics());
    const requests = families.get('requests_total');
    assert.equal(requests?.type, 'counter');
    assert.equal(requests?.help, 'Requests\\served\nso far.');
    assert.deepEqual(requests?.samples[0]?.labels, { path: 'a "quoted"\\ path\nwith newline' });
    assert.equal(requests?.samples[0]?.value, 3);
    assert.equal(families.get('temperature')?.samples[0]?.value, -1.5);
    const latency = families.get('latency_seconds');
    assert.equal(latency?.type, 'histogram');
    assert.equal(latency?.samples.length, 2 * (4 + 2));
    assert.equal(families.get('size_bytes')?.type, 'summary');
  });

  it('round-trips any label value prom-client can write', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 20 }),
        fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }),
        async (label, value) => {
          const registry = new Registry();
          new Counter({ name: 'c_total', help: 'h', labelNames: ['l'], registers: [registry] }).inc(
            { l: label },
            value,
          );
          const sample = parsed(await registry.metrics()).get('c_total')?.samples[0];
          assert.equal(sample?.labels.l, label);
          assert.equal(sample?.value, value);
        },
      ),
    );
  });

  it('accepts a histogram whose buckets rise to +Inf and match _count', () => {
    assert.equal(parsed(HISTOGRAM).get('latency_seconds')?.samples.length, 5);
  });

  it('refuses histograms that break the bucket rules', () => {
    refused(HISTOGRAM.replace('le="1"} 3', 'le="1"} 0'), /bucket counts decrease/);
    refused(HISTOGRAM.replace('le="1"', 'le="0.05"'), /bounds \(le\) do not increase/);
    refused(
      HISTOGRAM.replace('latency_seconds_count 4', 'latency_seconds_count 5'),
      /differs from the \+Inf/,
    );
    refused(HISTOGRAM.replace('latency_seconds_bucket{le="+Inf"} 4\n', ''), /last bucket must be le="\+Inf"/);
    refused(HISTOGRAM.replace('latency_seconds_sum 5.5\n', ''), /_sum or _count is missing/);
    refused(HISTOGRAM.replace('{le="0.1"}', '{le="x"}'), /no valid le/);
  });

  it('refuses structural mistakes with the line they are on', () => {
    const cases: [string, RegExp][] = [
      ['a 1\nb 2\na 3\n', /not contiguous/],
      ['a 1\n# TYPE a gauge\n', /TYPE line of a comes after its samples/],
      ['# TYPE a gauge\n# TYPE a gauge\n', /second TYPE/],
      ['# HELP a x\n# HELP a y\n', /second HELP/],
      ['# TYPE a thing\n', /unknown metric type/],
      ['a 1\na 2\n', /appears twice/],
      ['a{x="1",x="2"} 1\n', /label x appears twice/],
      ['a{x="\\t"} 1\n', /invalid escape/],
      ['a{x="open} 1\n', /unterminated|expected/],
      ['a{x=1} 1\n', /double quotes/],
      ['a{1x="1"} 1\n', /invalid label name/],
      ['a one\n', /invalid value/],
      ['a 1 12.5\n', /invalid timestamp/],
      ['a 1 2 3\n', /expected a value/],
      ['1a 1\n', /invalid metric name/],
      ['a\n', /expected a value/],
      ['a 1', /must end with \\n/],
      ['a 1\r\n', /carriage returns/],
      ['# TYPE c_total counter\nc_total -1\n', /counter is negative/],
      ['# HELP a bad \\t escape\n', /invalid escape/],
    ];
    for (const [text, message] of cases) refused(text, message);
    const located = parsePrometheusText('ok 1\n\nbad value\n');
    assert.deepEqual(located.ok ? undefined : located.error.line, 3);
  });

  it('accepts what the format allows: comments, blank lines, timestamps, special values, trailing commas', () => {
    const families = parsed(
      [
        '# a free comment',
        '# TYPE g gauge',
        'g{a="1",} +Inf 1700000000000',
        'g{a="2"} -Inf',
        'g{a="3"} NaN',
        'g{a="4"} 1.5e-3',
        '',
        'untyped_thing 7',
        '',
      ].join('\n'),
    );
    const samples = families.get('g')!.samples;
    assert.equal(samples[0]?.timestampMs, 1_700_000_000_000);
    assert.equal(samples[1]?.value, -Infinity);
    assert.ok(Number.isNaN(samples[2]?.value));
    assert.equal(samples[3]?.value, 0.0015);
    assert.equal(families.get('untyped_thing')?.type, 'untyped');
  });

  it('never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        parsePrometheusText(text);
      }),
    );
  });
});
