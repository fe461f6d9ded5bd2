// A stand-in for `synod start` in the supervisor's tests: it takes the same flags, serves the two
// admin routes the supervisor uses on client port + 2 (GET /api/node, POST /api/dev/faults), and
// records what it received in its data directory.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  args: process.argv.slice(3),
  strict: false,
  options: {
    name: { type: 'string' },
    'data-dir': { type: 'string' },
    'listen-client-urls': { type: 'string' },
    'initial-cluster': { type: 'string' },
  },
});
const name = String(values.name);
const dataDir = String(values['data-dir']);
mkdirSync(dataDir, { recursive: true });
writeFileSync(join(dataDir, 'control-url.txt'), process.env.SYNOD_DEV_CONTROL_URL ?? '');
const adminPort = Number(new URL(String(values['listen-client-urls'])).port) + 2;
const members = String(values['initial-cluster'])
  .split(',')
  .map((entry) => entry.split('=')[0])
  .map((member) => ({ name: member, raftId: `r-${member}` }));

const server = createServer((request, response) => {
  if (request.method === 'GET' && request.url === '/api/node') {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ name, raftId: `r-${name}`, leader: '', members }));
    return;
  }
  if (request.method === 'POST' && request.url === '/api/dev/faults') {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      appendFileSync(join(dataDir, 'faults.log'), `${JSON.stringify(JSON.parse(body).blockedPeers)}\n`);
      response.writeHead(200).end('{}');
    });
    return;
  }
  response.writeHead(404).end();
});
server.listen(adminPort, '127.0.0.1', () => {
  process.stdout.write(`synod ${name}: serving client requests (fake)\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
