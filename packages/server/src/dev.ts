// `synod dev`: a local cluster in one command, in etcd's local-cluster convention: members n1..nN
// with client ports 2379, 22379, 32379 and peer ports 2380, 22380, 32380 (`--base-port` shifts
// them), data under ./.synod/. Each member is a real `synod start` process.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

/** etcd's local-cluster Procfile: the second member adds 20000 to the ports, the third 30000. */
const PORT_OFFSETS = [0, 20_000, 30_000] as const;
const MAX_DEV_NODES = PORT_OFFSETS.length;
/** Grace period for members to stop after SIGTERM before they are killed. */
const STOP_GRACE_MS = 5_000;

export interface DevMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDir: string;
}

export function devMembers(nodes: number, basePort: number, rootDir: string): DevMember[] {
  return Array.from({ length: nodes }, (_, i) => {
    const clientPort = basePort + PORT_OFFSETS[i]!;
    return {
      name: `n${i + 1}`,
      clientUrl: `http://127.0.0.1:${clientPort}`,
      peerUrl: `http://127.0.0.1:${clientPort + 1}`,
      dataDir: join(rootDir, `n${i + 1}`),
    };
  });
}

export async function runDev(argv: readonly string[], synodBin: string): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      nodes: { type: 'string', default: '3' },
      'base-port': { type: 'string', default: '2379' },
      'data-dir': { type: 'string', default: '.synod' },
    },
  });
  const nodes = Number(values.nodes);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > MAX_DEV_NODES) {
    throw new Error(`--nodes must be between 1 and ${MAX_DEV_NODES}`);
  }
  const rootDir = resolve(String(values['data-dir']));
  const members = devMembers(nodes, Number(values['base-port']), rootDir);
  const initialCluster = members.map((member) => `${member.name}=${member.peerUrl}`).join(',');
  mkdirSync(rootDir, { recursive: true });
  const children = members.map((member) => startMember(synodBin, member, initialCluster));
  console.log(`synod dev: ${nodes}-member cluster, data under ${rootDir}`);
  for (const member of members)
    console.log(`  ${member.name}  client ${member.clientUrl}  peer ${member.peerUrl}`);
  // etcdctl 3.4's endpoint status wants endpoints without the scheme (see docs/ARCHITECTURE.md).
  const bare = members.map((member) => member.clientUrl.replace('http://', '')).join(',');
  console.log(
    `try: etcdctl --endpoints=${bare} put greeting hello && etcdctl --endpoints=${bare} endpoint status -w table`,
  );
  await stopOnSignal(children);
}

function startMember(synodBin: string, member: DevMember, initialCluster: string): ChildProcess {
  const args = [
    synodBin,
    'start',
    '--name',
    member.name,
    '--data-dir',
    member.dataDir,
    '--listen-client-urls',
    member.clientUrl,
    '--listen-peer-urls',
    member.peerUrl,
    '--initial-cluster',
    initialCluster,
    '--log-level',
    'warn',
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM')
      console.error(`synod dev: ${member.name} exited (${signal ?? code})`);
  });
  return child;
}

function stopOnSignal(children: readonly ChildProcess[]): Promise<void> {
  return new Promise((resolvePromise) => {
    const stop = () => {
      for (const child of children) child.kill('SIGTERM');
      const deadline = setTimeout(() => {
        for (const child of children) child.kill('SIGKILL');
      }, STOP_GRACE_MS);
      deadline.unref();
      let remaining = children.filter((child) => child.exitCode === null).length;
      if (remaining === 0) resolvePromise();
      for (const child of children) {
        child.once('exit', () => {
          if (--remaining === 0) resolvePromise();
        });
      }
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
