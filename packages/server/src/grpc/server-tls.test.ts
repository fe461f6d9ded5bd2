// TLS and client-certificate authentication with a @grpc/grpc-js client. The test makes a throwaway
// CA, server and client certificate with the openssl command line in a temporary directory.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { unary } from './methods.js';
import { GrpcServer } from './server.js';

interface Certificates {
  readonly ca: Buffer;
  readonly serverCert: Buffer;
  readonly serverKey: Buffer;
  readonly clientCert: Buffer;
  readonly clientKey: Buffer;
}

function makeCertificates(dir: string): Certificates {
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  };
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...ecKey,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-subj',
    '/CN=synod-test-ca',
    '-days',
    '2',
  );
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, subject] of [
    ['server', '/CN=localhost'],
    ['client', '/CN=synod-test-client'],
  ] as const) {
    openssl('req', ...ecKey, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    );
  }
  const read = (file: string): Buffer => readFileSync(join(dir, file));
  return {
    ca: read('ca.crt'),
    serverCert: read('server.crt'),
    serverKey: read('server.key'),
    clientCert: read('client.crt'),
    clientKey: read('client.key'),
  };
}

const textCodec = {
  decode: (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8'),
  encode: (text: string) => Buffer.from(text, 'utf8'),
};

function whoAmI(
  client: grpc.Client,
): Promise<{ error: grpc.ServiceError | null; value: string | undefined }> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      '/test.Tls/WhoAmI',
      (text: string) => Buffer.from(text),
      (bytes: Buffer) => bytes.toString(),
      '',
      (error, value) => resolve({ error, value }),
    );
  });
}

describe('gRPC over TLS with client-certificate authentication', () => {
  const dir = mkdtempSync(join(tmpdir(), 'synod-grpc-tls-'));
  let certificates: Certificates;
  let server: GrpcServer;
  let address: string;

  before(async () => {
    certificates = makeCertificates(dir);
    server = new GrpcServer({
      tls: {
        cert: certificates.serverCert,
        key: certificates.serverKey,
        ca: certificates.ca,
        requestCert: true,
        rejectUnauthorized: true,
      },
      logger: { warn: () => {}, error: () => {} },
    });
    server.addService('test.Tls', {
      WhoAmI: unary(textCodec, async (_request, context) => String(context.peer.certificate?.subject?.CN)),
    });
    address = `127.0.0.1:${await server.listen('127.0.0.1', 0)}`;
  });

  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a client with a certificate signed by the trusted CA is served and seen by its certificate', async () => {
    const credentials = grpc.credentials.createSsl(
      certificates.ca,
      certificates.clientKey,
      certificates.clientCert,
    );
    const client = new grpc.Client(address, credentials);
    const outcome = await whoAmI(client);
    client.close();
    assert.equal(outcome.error, null);
    assert.equal(outcome.value, 'synod-test-client');
  });

  test('a client without a certificate is refused at the handshake', async () => {
    const client = new grpc.Client(address, grpc.credentials.createSsl(certificates.ca));
    const outcome = await whoAmI(client);
    client.close();
    assert.equal(outcome.error?.code, grpc.status.UNAVAILABLE);
  });
});
