// Client and peer TLS with etcd's flags, using a throwaway CA made at test time with openssl.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ProcessCluster } from './process-cluster.js';

function makeCertificates(dir: string): void {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=synod-test-ca',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
  );
  writeFileSync(
    join(dir, 'san.cnf'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n',
  );
  for (const name of ['server', 'client']) {
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
    );
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
      '-days',
      '1',
      '-extfile',
      'san.cnf',
      '-out',
      `${name}.crt`,
    );
  }
}

function etcdctl(endpoints: string, args: readonly string[]) {
  return spawnSync(
    'etcdctl',
    [`--endpoints=${endpoints}`, '--command-timeout=5s', '--dial-timeout=2s', ...args],
    {
      env: { ...process.env, ETCDCTL_API: '3' },
      encoding: 'utf8',
    },
  );
}

const etcdctlMissing = spawnSync('etcdctl', ['version'], { stdio: 'ignore' }).error !== undefined;

describe('TLS for clients and peers', {
  skip: etcdctlMissing && process.env.SYNOD_REQUIRE_ETCDCTL !== '1' ? 'etcdctl is not installed' : false,
}, () => {
  let dir: string;
  let cluster: ProcessCluster;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'synod-tls-'));
    makeCertificates(dir);
    const file = (name: string) => join(dir, name);
    cluster = await ProcessCluster.create(
      3,
      [
        '--cert-file',
        file('server.crt'),
        '--key-file',
        file('server.key'),
        '--trusted-ca-file',
        file('ca.crt'),
        '--client-cert-auth',
        '--peer-cert-file',
        file('server.crt'),
        '--peer-key-file',
        file('server.key'),
        '--peer-trusted-ca-file',
        file('ca.crt'),
        '--peer-client-cert-auth',
      ],
      'https',
    );
    await cluster.startAll();
  });
  after(async () => {
    await cluster?.stopAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a client with a certificate from the trusted CA reads and writes over TLS; peers replicate over mutual TLS', () => {
    const auth = [
      `--cacert=${join(dir, 'ca.crt')}`,
      `--cert=${join(dir, 'client.crt')}`,
      `--key=${join(dir, 'client.key')}`,
    ];
    const [first, , third] = cluster.members.map((member) => member.clientUrl);
    const put = etcdctl(first!, [...auth, 'put', 'secret', 'kept']);
    assert.equal(put.status, 0, put.stderr);
    const get = etcdctl(third!, [...auth, 'get', 'secret', '--print-value-only']);
    assert.equal(get.stdout.trim(), 'kept', get.stderr);
  });

  test('a client without a certificate is refused when client-cert-auth is on', () => {
    const refused = etcdctl(cluster.members[0]!.clientUrl, [
      `--cacert=${join(dir, 'ca.crt')}`,
      'put',
      'intruder',
      'x',
    ]);
    assert.notEqual(refused.status, 0, 'the write must not succeed without a client certificate');
  });

  test('HTTP/1.1 over TLS on the same port: /health and the JSON gateway, with and without a client certificate', async () => {
    const url = new URL(cluster.members[1]!.clientUrl);
    const request = (path: string, withCertificate: boolean, body?: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = https.request(
          {
            host: url.hostname,
            port: Number(url.port),
            path,
            method: body === undefined ? 'GET' : 'POST',
            ca: readFileSync(join(dir, 'ca.crt')),
            ...(withCertificate
              ? { cert: readFileSync(join(dir, 'client.crt')), key: readFileSync(join(dir, 'client.key')) }
              : {}),
            servername: 'localhost',
            checkServerIdentity: () => undefined,
          },
          (response) => {
            let text = '';
            response.on('data', (chunk: Buffer) => {
              text += chunk.toString();
            });
            response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    const health = await request('/health', true);
    assert.equal(health.status, 200);
    assert.equal(JSON.parse(health.body).health, 'true');
    const put = await request('/v3/kv/put', true, JSON.stringify({ key: 'aHR0cA==', value: 'MQ==' }));
    assert.equal(put.status, 200, put.body);
    await assert.rejects(request('/health', false), 'no client certificate: the TLS handshake fails');
  });
});
