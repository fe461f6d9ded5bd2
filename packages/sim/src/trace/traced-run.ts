// Runs one simulation with a TraceRecorder attached and returns its SimTrace: synchronously here
// (`traceSimulation`, for the CLI and tests), or on a worker thread (`runTracedSimulation`, for a
// server: a run takes a few hundred milliseconds of CPU and must not stall the caller's event loop).
import { Worker } from 'node:worker_threads';
import type { Mutation } from '@synod/raft';
import type { SimulationOptions } from '../cluster/run.js';
import { buildSimCluster, DEFAULT_SIMULATION, runLoop, summarizeSimulation } from '../cluster/run.js';
import type { SimTrace } from './sim-trace.js';
import { TraceRecorder } from './trace-recorder.js';

/** The broken cores a trace request may ask for (see @synod/raft's Mutation). */
export const TRACE_MUTANTS = [
  'vote-without-log-check',
  'commit-quorum-off-by-one',
  'truncate-without-conflict',
  'read-index-without-quorum',
  'commit-previous-term-by-counting',
] as const satisfies readonly Mutation[];

export type TraceMutant = (typeof TRACE_MUTANTS)[number];

/** Bounds on a trace request: a traced run must stay a few seconds of CPU at most. */
export const TRACE_NODES_MAX = 7;
export const TRACE_SEED_MAX = 0xffff_ffff;
export const TRACE_DURATION_MS_MIN = 2_000;
export const TRACE_DURATION_MS_MAX = 30_000;
/** A worker run that takes longer than this is stopped (a 15 s run of 5 nodes takes well under 2 s). */
export const TRACE_RUN_TIMEOUT_MS = 60_000;

/** What a caller (the admin server's `/api/sim/trace`, the replay view) chooses about a run. */
export interface TracedRunOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly mutant?: TraceMutant;
  /** Virtual duration; default 15 000 ms. */
  readonly durationMs?: number;
}

/**
 * Some mutants only show with a setting the correct core does not need; the simulation tests
 * use the same ones (check-quorum would step a deposed leader down before it serves stale reads).
 */
const MUTANT_PRESETS: Partial<Record<TraceMutant, Partial<SimulationOptions>>> = {
  'read-index-without-quorum': { raft: { ...DEFAULT_SIMULATION.raft, checkQuorum: false } },
};

export type TraceRequestResult =
  | { readonly ok: true; readonly options: TracedRunOptions }
  | { readonly ok: false; readonly error: string };

function isMutant(name: string): name is TraceMutant {
  return (TRACE_MUTANTS as readonly string[]).includes(name);
}

function integerIn(text: string | null, name: string, minimum: number, maximum: number): number | string {
  if (text === null || !/^\d+$/.test(text)) return `${name} must be an integer from ${minimum} to ${maximum}`;
  const value = Number(text);
  return value >= minimum && value <= maximum ? value : `${name} must be from ${minimum} to ${maximum}`;
}

/**
 * Validates `seed`, `nodes` (default 3), `mutant` and `durationMs` from a query string; errors
 * are messages to send back with a 400.
 *
 * @example
 * const parsed = traceRequestFromQuery(new URL(request.url, 'http://x').searchParams);
 * if (!parsed.ok) return reply(400, { error: parsed.error });
 * reply(200, await runTracedSimulationJson(parsed.options));
 */
export function traceRequestFromQuery(query: URLSearchParams): TraceRequestResult {
  const seed = integerIn(query.get('seed'), 'seed', 0, TRACE_SEED_MAX);
  if (typeof seed === 'string') return { ok: false, error: seed };
  const nodes = integerIn(query.get('nodes') ?? '3', 'nodes', 1, TRACE_NODES_MAX);
  if (typeof nodes === 'string') return { ok: false, error: nodes };
  const durationText = query.get('durationMs');
  const durationMs =
    durationText === null
      ? undefined
      : integerIn(durationText, 'durationMs', TRACE_DURATION_MS_MIN, TRACE_DURATION_MS_MAX);
  if (typeof durationMs === 'string') return { ok: false, error: durationMs };
  const mutant = query.get('mutant') ?? '';
  if (mutant !== '' && !isMutant(mutant)) {
    return { ok: false, error: `unknown mutant "${mutant}"; known: ${TRACE_MUTANTS.join(', ')}` };
  }
  return {
    ok: true,
    options: {
      seed,
      nodes,
      ...(mutant === '' ? {} : { mutant }),
      ...(durationMs === undefined ? {} : { durationMs }),
    },
  };
}

/** The full simulation options for a traced run; throws RangeError on options out of bounds. */
export function tracedRunSimulationOptions(
  options: TracedRunOptions,
): Partial<SimulationOptions> & { seed: number } {
  const { seed, nodes, mutant, durationMs } = options;
  if (!(Number.isSafeInteger(seed) && seed >= 0 && seed <= TRACE_SEED_MAX))
    throw new RangeError(`seed must be an integer from 0 to ${TRACE_SEED_MAX}, got ${seed}`);
  if (!(Number.isSafeInteger(nodes) && nodes >= 1 && nodes <= TRACE_NODES_MAX))
    throw new RangeError(`nodes must be an integer from 1 to ${TRACE_NODES_MAX}, got ${nodes}`);
  if (
    durationMs !== undefined &&
    !(
      Number.isSafeInteger(durationMs) &&
      durationMs >= TRACE_DURATION_MS_MIN &&
      durationMs <= TRACE_DURATION_MS_MAX
    )
  ) {
    throw new RangeError(
      `durationMs must be from ${TRACE_DURATION_MS_MIN} to ${TRACE_DURATION_MS_MAX}, got ${durationMs}`,
    );
  }
  if (mutant !== undefined && !isMutant(mutant)) throw new RangeError(`unknown mutant "${String(mutant)}"`);
  return {
    ...(mutant === undefined ? {} : { ...MUTANT_PRESETS[mutant], mutations: [mutant] }),
    seed,
    nodes,
    ...(durationMs === undefined ? {} : { durationMs }),
  };
}

/**
 * Runs one simulation on this thread and returns its trace. Takes any simulation options (the
 * CLI passes its flags); the same options always give the same trace.
 *
 * @example
 * const trace = traceSimulation({ seed: 9, nodes: 3, mutations: ['vote-without-log-check'] });
 * trace.verdict.linearizability; // 'not-linearizable'
 */
export function traceSimulation(options: Partial<SimulationOptions> & { seed: number }): SimTrace {
  const nodeCount = options.nodes ?? DEFAULT_SIMULATION.nodes;
  const ids = Array.from({ length: nodeCount }, (_, i) => `n${i + 1}`);
  const recorder = new TraceRecorder(ids);
  const cluster = buildSimCluster({ ...options, probe: recorder });
  const built = [...cluster.nodes.keys()].join(',');
  if (built !== ids.join(',')) throw new Error(`trace expected nodes ${ids.join(',')}, cluster has ${built}`);
  runLoop(cluster.loop, cluster.options.durationMs, cluster.observer);
  return recorder.finish(cluster.options, cluster.quiesceAtMs, summarizeSimulation(cluster));
}

/**
 * Runs one traced simulation on a worker thread and resolves with the trace as JSON text: what
 * an HTTP route sends as is. Rejects on options out of bounds (RangeError) or a failed worker.
 */
export function runTracedSimulationJson(options: TracedRunOptions): Promise<string> {
  const simulationOptions = tracedRunSimulationOptions(options); // validate before starting a thread
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./trace-worker.mjs', import.meta.url), {
      workerData: simulationOptions,
    });
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      outcome();
    };
    const timer = setTimeout(
      () => settle(() => reject(new Error(`traced run took longer than ${TRACE_RUN_TIMEOUT_MS} ms`))),
      TRACE_RUN_TIMEOUT_MS,
    );
    worker.on('message', (message: { json?: string; error?: string }) =>
      settle(() =>
        message.json === undefined
          ? reject(new Error(`traced run failed: ${message.error ?? 'no result'}`))
          : resolve(message.json),
      ),
    );
    worker.on('error', (error) => settle(() => reject(error)));
    worker.on('exit', (code) => settle(() => reject(new Error(`trace worker exited (code ${code})`))));
  });
}

/**
 * Runs one traced simulation on a worker thread (the caller's event loop stays free).
 *
 * @example
 * const trace = await runTracedSimulation({ seed: 9, nodes: 3, mutant: 'vote-without-log-check' });
 * if (trace.verdict.counterexample) highlight(trace.verdict.counterexample.opIds);
 */
export async function runTracedSimulation(options: TracedRunOptions): Promise<SimTrace> {
  return JSON.parse(await runTracedSimulationJson(options)) as SimTrace;
}
