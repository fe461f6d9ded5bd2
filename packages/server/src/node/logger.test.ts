import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { context as contextApi, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { AsyncLocalContextManager } from '../observability/memory-tracer.fixture.js';
import { createLogger } from './logger.js';

function capture(level: Parameters<typeof createLogger>[0], base: Record<string, unknown> = { node: 'n1' }) {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger(level, base, (line) => {
    assert.ok(line.endsWith('\n'), 'one JSON document per line');
    lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  return { logger, lines };
}

describe('createLogger', () => {
  it('writes one JSON line per event with level, ISO time, node and message', () => {
    const { logger, lines } = capture('info');
    logger.info({ index: 7 }, 'snapshot saved');
    const [line] = lines;
    assert.equal(line?.level, 'info');
    assert.match(String(line?.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(line?.node, 'n1');
    assert.equal(line?.index, 7);
    assert.equal(line?.msg, 'snapshot saved');
  });

  it('drops events below the configured level', () => {
    const { logger, lines } = capture('warn');
    logger.debug({}, 'd');
    logger.info({}, 'i');
    logger.warn({}, 'w');
    logger.error({}, 'e');
    assert.deepEqual(
      lines.map((line) => line.msg),
      ['w', 'e'],
    );
  });

  it('writes 64-bit ids as exact decimal strings and errors with their stack', () => {
    const { logger, lines } = capture('info');
    const memberId = 0xfedcba9876543210n;
    logger.error({ memberId, nested: { ids: [memberId] }, err: new Error('disk full') }, 'persist failed');
    const [line] = lines;
    assert.equal(line?.memberId, '18364758544493064720');
    assert.deepEqual(line?.nested, { ids: ['18364758544493064720'] });
    const err = line?.err as { message: string; stack: string };
    assert.equal(err.message, 'disk full');
    assert.match(err.stack, /Error: disk full/);
  });

  it('names the member `node`, also for callers that pass `member`', () => {
    const { logger, lines } = capture('info', { member: 'n2' });
    logger.info({}, 'x');
    assert.equal(lines[0]?.node, 'n2');
    assert.equal(lines[0]?.member, undefined);
  });

  it('children add their bindings; bound context adds group and term as they are now', () => {
    const { logger, lines } = capture('info');
    let term = 3;
    logger.bindContext(() => ({ group: '0', term }));
    const peerLogger = logger.child({ peer: 'b2' });
    peerLogger.warn({}, 'connection lost');
    term = 4;
    logger.info({}, 'elected');
    assert.deepEqual([lines[0]?.peer, lines[0]?.group, lines[0]?.term], ['b2', '0', 3]);
    assert.deepEqual([lines[1]?.peer, lines[1]?.term], [undefined, 4]);
  });

  it('a failing context source costs its fields, not the line', () => {
    const { logger, lines } = capture('info');
    logger.bindContext(() => {
      throw new Error('driver gone');
    });
    logger.info({}, 'still logged');
    assert.equal(lines[0]?.msg, 'still logged');
  });

  it('adds the active span’s trace id as the request id', () => {
    const { logger, lines } = capture('info');
    const spanContext = {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: 1,
    };
    contextApi.setGlobalContextManager(new AsyncLocalContextManager());
    try {
      contextApi.with(trace.setSpanContext(ROOT_CONTEXT, spanContext), () => logger.info({}, 'in a request'));
      logger.info({}, 'outside');
    } finally {
      contextApi.disable();
    }
    assert.equal(lines[0]?.traceId, spanContext.traceId);
    assert.equal(lines[0]?.spanId, spanContext.spanId);
    assert.equal(lines[1]?.traceId, undefined);
  });

  it('the last line before an abort reaches stdout', () => {
    const loggerUrl = new URL('./logger.ts', import.meta.url).href;
    const script = `import { createLogger } from ${JSON.stringify(loggerUrl)};
      const logger = createLogger('info', { node: 'n1' });
      for (let i = 0; i < 1000; i++) logger.info({ i }, 'filler');
      logger.error({}, 'the last words');
      process.abort();`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
    });
    assert.equal(child.signal, 'SIGABRT');
    const lines = child.stdout.trim().split('\n');
    assert.equal(lines.length, 1001);
    assert.equal((JSON.parse(lines.at(-1)!) as { msg: string }).msg, 'the last words');
  });
});
