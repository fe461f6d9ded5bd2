import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GrpcError } from '../grpc/status.js';
import { ETCD_SCHEMA } from './etcd-schema.generated.js';
import { GATEWAY_ROUTES, jsonValues } from './http-gateway.js';

async function collect(chunks: readonly string[], limit = 1024): Promise<string[]> {
  const values: string[] = [];
  for await (const value of jsonValues(
    (async function* () {
      yield* chunks;
    })(),
    limit,
  ))
    values.push(value);
  return values;
}

describe('jsonValues (the requests of a streaming gateway call)', () => {
  test('splits objects however the body is chunked, strings and nesting included', async () => {
    const body = ' {"a":{"b":[1,{"c":"}"}]}}\n{"s":"quote \\" brace { and \\\\"}\t{}';
    const expected = ['{"a":{"b":[1,{"c":"}"}]}}', '{"s":"quote \\" brace { and \\\\"}', '{}'];
    assert.deepEqual(await collect([body]), expected);
    for (let size = 1; size < body.length; size += 3) {
      const chunks: string[] = [];
      for (let i = 0; i < body.length; i += size) chunks.push(body.slice(i, i + size));
      assert.deepEqual(await collect(chunks), expected, `chunks of ${size}`);
    }
    for (const value of expected) assert.doesNotThrow(() => JSON.parse(value));
  });

  test('refuses what is not a sequence of objects, a truncated body, and oversized requests', async () => {
    await assert.rejects(collect(['{} 42']), (error) => error instanceof GrpcError && error.code === 3);
    await assert.rejects(collect(['{"a":"b"']), /ends inside a JSON object/);
    await assert.rejects(collect([`{"a":"${'x'.repeat(2000)}"}`], 1024), /larger than 1024 bytes/);
  });
});

describe('gateway routes', () => {
  test('every route names a method of the schema, and every unary or server-streaming etcd method has a route', () => {
    const routed = new Set<string>();
    for (const [path, { service, method }] of GATEWAY_ROUTES) {
      assert.ok(
        ETCD_SCHEMA.services[service as keyof typeof ETCD_SCHEMA.services],
        `${path}: no service ${service}`,
      );
      const methods = ETCD_SCHEMA.services[service as keyof typeof ETCD_SCHEMA.services] as Record<
        string,
        unknown
      >;
      assert.ok(methods[method], `${path}: no method ${service}.${method}`);
      routed.add(`${service}.${method}`);
    }
    for (const [service, methods] of Object.entries(ETCD_SCHEMA.services)) {
      for (const method of Object.keys(methods))
        assert.ok(routed.has(`${service}.${method}`), `${service}.${method} has no route`);
    }
  });
});
