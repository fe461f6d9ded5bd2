// `npm run lab`: a simulated Synod cluster running in real time in the terminal. The real Raft core
// and KV state machine run on simulated disks and network while the nemesis injects faults;
// the screen shows roles, terms, commit indexes, client throughput and recent events.
// Ctrl-C stops it and checks the recorded history for linearizability.
import { parseArgs } from 'node:util';
import type { SimCluster, TraceEvent } from './cluster/run.js';
import { buildSimCluster, runLoop } from './cluster/run.js';
import type { NemesisKind } from './engine/nemesis.js';
import { checkKvHistory } from './history/linearizability.js';

/** Recent events kept for the screen. */
const EVENT_LINES_MAX = 14;
const FRAME_MS = 250;

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '3' },
    seed: { type: 'string' },
    speed: { type: 'string', default: '1' },
    nemesis: { type: 'string', default: 'all' },
    'duration-s': { type: 'string', default: '3600' },
    'exit-after-s': { type: 'string' },
  },
});

const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Date.now() % 1_000_000);
const speed = Number(values.speed);
const durationMs = Number(values['duration-s']) * 1000;
const nemesis =
  values.nemesis === 'all' || values.nemesis === 'none'
    ? values.nemesis
    : (values.nemesis!.split(',') as NemesisKind[]);
const events: string[] = [];
const remember = (event: TraceEvent) => {
  if (event.kind === 'message') return;
  if (event.kind === 'node' && !/leader|crash|start|snapshot|torn/.test(event.text)) return;
  events.push(`${(event.atMs / 1000).toFixed(2).padStart(8)}s ${(event.node ?? '').padEnd(4)} ${event.text}`);
  if (events.length > EVENT_LINES_MAX) events.shift();
};

const cluster = buildSimCluster({
  seed,
  nodes: Number(values.nodes),
  nemesis,
  durationMs,
  quiesceFraction: 0.98,
  intensity: 0.5,
  trace: remember,
});
const interactive = process.stdout.isTTY === true;
const startedMs = performance.now();
let lastOk = 0;
let lastFrameMs = startedMs;
let lastPlainReportMs = 0;

console.log(
  `Synod lab: a ${values.nodes}-node cluster (seed ${seed}) under a nemesis, in real time. Ctrl-C stops and checks the history.`,
);

const timer = setInterval(frame, FRAME_MS);
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

function frame(): void {
  const now = performance.now();
  const targetMs = Math.min(durationMs, (now - startedMs) * speed);
  if (targetMs > cluster.loop.now) runLoop(cluster.loop, targetMs, cluster.observer);
  const exitAfter = values['exit-after-s'];
  if (
    cluster.loop.now >= durationMs ||
    (exitAfter !== undefined && now - startedMs >= Number(exitAfter) * 1000)
  ) {
    stop();
    return;
  }
  const okPerSecond = ((cluster.pool.okOperations - lastOk) * 1000) / (now - lastFrameMs);
  lastOk = cluster.pool.okOperations;
  lastFrameMs = now;
  if (interactive) {
    process.stdout.write(`\x1b[H\x1b[2J${render(cluster, okPerSecond)}\n`);
  } else if (now - lastPlainReportMs >= 2_000) {
    lastPlainReportMs = now;
    console.log(statusLine(cluster));
  }
}

function render(sim: SimCluster, okPerSecond: number): string {
  const lines = [
    `Synod lab — seed ${seed} — t=${(sim.loop.now / 1000).toFixed(1)}s — ${Math.round(okPerSecond)} ops/s — ${sim.pool.okOperations} ok — violations: ${sim.observer.violations.length}`,
    '',
    'node  state      role          term   commit  applied  last',
  ];
  for (const [id, node] of sim.nodes) {
    const raft = node.raft?.raft;
    if (!raft) {
      lines.push(`${id.padEnd(5)} crashed`);
      continue;
    }
    lines.push(
      `${id.padEnd(5)} up         ${raft.role.padEnd(13)} ${String(raft.term).padStart(4)} ${String(raft.log.committed).padStart(8)} ${String(raft.log.applied).padStart(8)} ${String(raft.log.lastIndex()).padStart(5)}`,
    );
  }
  lines.push('', 'recent events:', ...events);
  return lines.join('\n');
}

function statusLine(sim: SimCluster): string {
  const roles = [...sim.nodes]
    .map(([id, node]) => {
      const raft = node.raft?.raft;
      return raft ? `${id}:${raft.role[0]}${raft.term}@${raft.log.committed}` : `${id}:down`;
    })
    .join(' ');
  return `t=${(sim.loop.now / 1000).toFixed(1)}s ok=${sim.pool.okOperations} violations=${sim.observer.violations.length} ${roles}`;
}

function stop(): void {
  clearInterval(timer);
  const history = cluster.recorder.operations();
  process.stdout.write('\nchecking the recorded history for linearizability...\n');
  const report = checkKvHistory(history);
  const violations = cluster.observer.violations.map((v) => `${v.kind}: ${v.message.split('\n')[0]}`);
  console.log(
    JSON.stringify({
      seed,
      virtualSeconds: Number((cluster.loop.now / 1000).toFixed(1)),
      operations: history.length,
      ok: history.filter((op) => op.outcome === 'ok').length,
      linearizable: report.verdict,
      leaderElections: cluster.observer.leaderElections(),
      violations,
    }),
  );
  process.exit(violations.length > 0 || report.verdict === 'violation' ? 1 : 0);
}
