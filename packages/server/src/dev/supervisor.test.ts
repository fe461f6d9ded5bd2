// The dev supervisor with stand-in members (fake-member.fixture.mjs): kill keeps a member down,
// restart brings it back and re-applies a partition, crashes are reported, partitions reach
// every member as raft ids to block.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from '../e2e/process-cluster.js';
import { type DevMember, DevSupervisor } from './supervisor.js';

const FAKE_MEMBER = fileURLToPath(new URL('./fake-member.fixture.mjs', import.meta.url));
const CONTROL_URL = 'http://127.0.0.1:9';
const WAIT_TIMEOUT_MS = 5_000;
const WAIT_POLL_MS = 20;

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + WAIT_TIMEOUT_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
  }
}

async function answers(member: DevMember): Promise<true | undefined> {
  try {
    return (await fetch(`${member.adminUrl}/api/node`)).ok ? true : undefined;
  } catch {
    return undefined;
  }
}

function faultLog(member: DevMember): string[][] {
  const file = join(member.dataDir, 'faults.log');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as string[]);
}

describe('synod dev supervisor', () => {
  const rootDir = mkdtempSync(join(tmpdir(), 'synod-dev-'));
  const warnings: string[] = [];
  let members: DevMember[];
  let supervisor: DevSupervisor;

  before(async () => {
    members = [];
    for (const name of ['n1', 'n2']) {
      const adminPort = await freePort();
      members.push({
        name,
        clientUrl: `http://127.0.0.1:${adminPort - 2}`,
        peerUrl: `http://127.0.0.1:${adminPort - 1}`,
        adminUrl: `http://127.0.0.1:${adminPort}`,
        dataDir: join(rootDir, name),
      });
    }
    supervisor = new DevSupervisor({
      synodBin: FAKE_MEMBER,
      members,
      controlUrl: CONTROL_URL,
      warn: (line) => warnings.push(line),
    });
    supervisor.startAll();
    for (const member of members) await waitFor(`${member.name} to answer`, () => answers(member));
  });

  after(async () => {
    await supervisor?.stopAll();
    rmSync(rootDir, { recursive: true, force: true });
  });

  const n1 = () => members[0]!;
  const n2 = () => members[1]!;

  test('members learn the control URL from the environment', () => {
    assert.equal(readFileSync(join(n1().dataDir, 'control-url.txt'), 'utf8'), CONTROL_URL);
  });

  test('a partition tells each member the raft ids outside its group', async () => {
    const result = await supervisor.partition([['n1'], ['n2']]);
    assert.deepEqual(result, { ok: true, message: 'partitioned: n1 | n2' });
    assert.deepEqual(faultLog(n1()).at(-1), ['r-n2']);
    assert.deepEqual(faultLog(n2()).at(-1), ['r-n1']);
  });

  test('a killed member stays down, without a crash report; killing it again is refused', async () => {
    const result = await supervisor.kill('n1');
    assert.equal(result.ok, true);
    assert.equal(await answers(n1()), undefined);
    assert.deepEqual(await supervisor.kill('n1'), { ok: false, status: 409, error: 'n1 is not running' });
    assert.equal(supervisor.status().find((member) => member.name === 'n1')?.running, false);
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.deepEqual(warnings, []);
  });

  test('a restarted member comes back and gets the partition again', async () => {
    const before = faultLog(n1()).length;
    assert.deepEqual(await supervisor.restart('n1'), { ok: true, message: 'n1 starting' });
    await waitFor('n1 to answer again', () => answers(n1()));
    const log = await waitFor('the partition to be re-applied', () => {
      const entries = faultLog(n1());
      return entries.length > before ? entries : undefined;
    });
    assert.deepEqual(log.at(-1), ['r-n2']);
  });

  test('healing clears every blocked peer', async () => {
    assert.equal((await supervisor.heal()).ok, true);
    assert.deepEqual(faultLog(n1()).at(-1), []);
    assert.deepEqual(faultLog(n2()).at(-1), []);
  });

  test('unknown members are refused with the list of members', async () => {
    assert.deepEqual(await supervisor.restart('n9'), {
      ok: false,
      status: 404,
      error: 'no member "n9" (members: n1, n2)',
    });
  });

  test('a member that dies by itself is reported, with how to restart it', async () => {
    const pid = supervisor.status().find((member) => member.name === 'n2')?.pid;
    assert.ok(pid);
    process.kill(pid, 'SIGKILL');
    const report = await waitFor('a crash report', () => warnings.find((line) => line.includes('n2')));
    assert.match(report, /n2 exited by itself \(signal SIGKILL\); it stays down/);
    assert.match(report, /curl -X POST 'http:\/\/127\.0\.0\.1:9\/api\/dev\/restart\?member=n2'/);
  });
});
