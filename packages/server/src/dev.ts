// `synod dev`: a local cluster in one command, in etcd's local-cluster convention: members n1..nN
// with client ports 2379, 22379, 32379, peer ports one above and admin HTTP (dashboard) two above
// (`--base-port` shifts them), data under ./.synod/. Each member is a real `synod start` process.
// A control server on base port + 8 (2387; `--control-port`) lets the dashboard kill, restart and
// partition members (see dev/control-server.ts).
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createControlServer, listenControlServer } from './dev/control-server.js';
import { type DevMember, DevSupervisor } from './dev/supervisor.js';

export type { DevMember } from './dev/supervisor.js';

/** etcd's local-cluster Procfile: the second member adds 20000 to the ports, the third 30000. */
const PORT_OFFSETS = [0, 20_000, 30_000] as const;
const MAX_DEV_NODES = PORT_OFFSETS.length;
/** Admin HTTP sits two above the client port (2381 beside 2379). */
const ADMIN_PORT_OFFSET = 2;
/** The supervisor's control server: base port + 8 (2387 by default). */
const CONTROL_PORT_OFFSET = 8;
/** How long to wait for every member to report a leader before giving up on the "ready" line. */
const READY_TIMEOUT_MS = 30_000;
const READY_POLL_MS = 250;

const DEV_USAGE = `Usage: synod dev [--nodes 3] [--base-port 2379] [--data-dir .synod] [--control-port <base+8>]
  Runs a local cluster of real 'synod start' processes, n1..n3:
    client ports base, base+20000, base+30000 (2379, 22379, 32379); peer ports one above,
    admin HTTP (dashboard, /metrics, /api/*) two above: the dashboard is http://127.0.0.1:2381/
  --control-port   the supervisor's fault-injection HTTP server on 127.0.0.1 (default base+8 = 2387):
                   POST /api/dev/kill?member=n1, /api/dev/restart?member=n1,
                   /api/dev/partition {"groups":[["n1"],["n2","n3"]]}, /api/dev/heal; GET /api/dev/members
  A member killed through it stays down until restarted; a member that exits by itself is reported.`;

export function devMembers(nodes: number, basePort: number, rootDir: string): DevMember[] {
  return Array.from({ length: nodes }, (_, i) => {
    const clientPort = basePort + PORT_OFFSETS[i]!;
    return {
      name: `n${i + 1}`,
      clientUrl: `http://127.0.0.1:${clientPort}`,
      peerUrl: `http://127.0.0.1:${clientPort + 1}`,
      adminUrl: `http://127.0.0.1:${clientPort + ADMIN_PORT_OFFSET}`,
      dataDir: join(rootDir, `n${i + 1}`),
    };
  });
}

function port(value: string, flag: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > 65_535) {
    throw new Error(`${flag} must be a port number (1-65535), not "${value}"`);
  }
  return parsed;
}

export async function runDev(argv: readonly string[], synodBin: string): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      nodes: { type: 'string', default: '3' },
      'base-port': { type: 'string', default: '2379' },
      'data-dir': { type: 'string', default: '.synod' },
      'control-port': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(DEV_USAGE);
    return;
  }
  const nodes = Number(values.nodes);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > MAX_DEV_NODES) {
    throw new Error(`--nodes must be between 1 and ${MAX_DEV_NODES}`);
  }
  const basePort = port(String(values['base-port']), '--base-port');
  const controlPort = port(
    values['control-port'] ?? String(basePort + CONTROL_PORT_OFFSET),
    '--control-port',
  );
  const rootDir = resolve(String(values['data-dir']));
  const members = devMembers(nodes, basePort, rootDir);
  mkdirSync(rootDir, { recursive: true });
  const controlUrl = `http://127.0.0.1:${controlPort}`;
  const supervisor = new DevSupervisor({ synodBin, members, controlUrl });
  // Listen first: a busy control port should stop us before any member starts.
  const controlServer = createControlServer(supervisor);
  await listenControlServer(controlServer, controlPort);
  supervisor.startAll();
  printEndpoints(members, rootDir, controlUrl);
  const readyWatch = reportWhenReady(members);
  await untilSignal();
  readyWatch.cancel();
  const stopped = supervisor.stopAll();
  console.log('synod dev: stopping members');
  controlServer.closeAllConnections();
  controlServer.close();
  await stopped;
}

function printEndpoints(members: readonly DevMember[], rootDir: string, controlUrl: string): void {
  console.log(`synod dev: ${members.length}-member cluster, data under ${rootDir}`);
  for (const member of members) {
    console.log(
      `  ${member.name}  client ${member.clientUrl}  peer ${member.peerUrl}  admin ${member.adminUrl}`,
    );
  }
  console.log(`dashboard: ${members[0]!.adminUrl}/`);
  console.log(
    `dev control: ${controlUrl}  (POST /api/dev/kill?member=n1, /api/dev/restart?member=n1, /api/dev/partition {"groups":[["n1"],["n2","n3"]]}, /api/dev/heal)`,
  );
  // etcdctl 3.4's endpoint status wants endpoints without the scheme (see docs/ARCHITECTURE.md).
  const bare = members.map((member) => member.clientUrl.replace('http://', '')).join(',');
  console.log(
    `try: etcdctl --endpoints=${bare} put greeting hello && etcdctl --endpoints=${bare} endpoint status -w table`,
  );
}

/** Prints one line once every member's admin server answers and they agree on a leader. */
function reportWhenReady(members: readonly DevMember[]): { cancel(): void } {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  let cancelled = false;
  const poll = async () => {
    const views = await Promise.all(members.map((member) => nodeLeader(member.adminUrl)));
    if (cancelled) return;
    const leaders = new Set(views);
    const leader = views[0];
    if (leader && leaders.size === 1) {
      console.log(`synod dev: ready, leader ${leader}`);
      return;
    }
    if (Date.now() < deadline) timer = setTimeout(() => void poll(), READY_POLL_MS);
  };
  timer = setTimeout(() => void poll(), READY_POLL_MS);
  return {
    cancel: () => {
      cancelled = true;
      clearTimeout(timer);
    },
  };
}

/** The name of the leader a member's admin server reports, or undefined. */
async function nodeLeader(adminUrl: string): Promise<string | undefined> {
  try {
    const response = await fetch(`${adminUrl}/api/node`, { signal: AbortSignal.timeout(READY_POLL_MS * 4) });
    if (!response.ok) return undefined;
    const view = (await response.json()) as {
      leader?: string;
      raftId?: string;
      name?: string;
      members?: { name?: string; raftId?: string }[];
    };
    if (!view.leader) return undefined;
    if (view.leader === view.raftId) return view.name;
    return view.members?.find((member) => member.raftId === view.leader)?.name ?? view.leader;
  } catch {
    return undefined;
  }
}

function untilSignal(): Promise<void> {
  return new Promise((resolvePromise) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolvePromise();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
