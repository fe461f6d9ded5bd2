// Simulated clients in the manner of etcd's: send to the node believed to lead, follow the
// leader hint on "not leader", give up at a deadline. Each outcome is recorded for the checker.
import type { EventLoop } from '../engine/event-loop.js';
import type { Prng } from '../engine/prng.js';
import type { HistoryRecorder, KvCall, KvResult } from '../history/history.js';
import type { KvWorkload } from '../history/workload.js';
import type { ClientResponse, SimNode } from './sim-node.js';

export interface ClientOptions {
  /** Client ↔ node latency each way (clients sit beside the cluster, outside the nemesis). */
  readonly requestLatencyMs: number;
  /** A client stops waiting after this long: the operation becomes indeterminate (or fails if never sent). */
  readonly operationTimeoutMs: number;
  /** Pause before retrying elsewhere after "not leader". */
  readonly retryBackoffMs: number;
  /** Pause between a client's operations. */
  readonly thinkTimeMs: number;
  /** No new operations after this virtual time. */
  readonly stopAtMs: number;
}

interface Operation {
  readonly id: number;
  readonly call: KvCall;
  readonly requestId: string;
  readonly deadlineMs: number;
  /** Some attempt reached a node and was not definitively refused: it may take effect. */
  mayHaveEffect: boolean;
  finished: boolean;
}

/** Counts shared by all clients of a run; process ids are unique, a timed-out process is retired. */
export interface ClientPool {
  nextProcess: number;
  okOperations: number;
  lastOkAtMs: number;
  lastOkInvokedAtMs: number;
}

export class SimClient {
  private process: number;
  private leaderGuess: string | undefined;
  private readonly loop: EventLoop;
  private readonly random: Prng;
  private readonly nodes: ReadonlyMap<string, SimNode>;
  private readonly workload: KvWorkload;
  private readonly recorder: HistoryRecorder;
  private readonly options: ClientOptions;
  private readonly pool: ClientPool;
  private requestCount = 0;

  constructor(
    loop: EventLoop,
    random: Prng,
    nodes: ReadonlyMap<string, SimNode>,
    workload: KvWorkload,
    recorder: HistoryRecorder,
    options: ClientOptions,
    pool: ClientPool,
  ) {
    this.loop = loop;
    this.random = random;
    this.nodes = nodes;
    this.workload = workload;
    this.recorder = recorder;
    this.options = options;
    this.pool = pool;
    this.process = pool.nextProcess++;
  }

  start(delayMs: number): void {
    this.loop.schedule(delayMs, () => this.nextOperation());
  }

  private nextOperation(): void {
    if (this.loop.now >= this.options.stopAtMs) return;
    const call = this.workload.nextCall(this.process);
    const id = this.recorder.invoke(this.process, call, this.loop.now);
    const operation: Operation = {
      id,
      call,
      requestId: `c${this.process}-${this.requestCount++}`,
      deadlineMs: this.loop.now + this.options.operationTimeoutMs,
      mayHaveEffect: false,
      finished: false,
    };
    this.loop.schedule(this.options.operationTimeoutMs, () => this.timeOut(operation));
    this.attempt(operation);
  }

  private attempt(operation: Operation): void {
    if (operation.finished) return;
    const names = [...this.nodes.keys()];
    // Reads are spread over all members (followers forward ReadIndex), writes go to the leader we know.
    const spreadRead = operation.call.kind === 'get' && this.random.chance(0.5);
    const target = (spreadRead ? undefined : this.leaderGuess) ?? this.random.pick(names);
    const node = this.nodes.get(target)!;
    this.loop.schedule(this.options.requestLatencyMs, () => {
      if (!node.alive) {
        // Connection refused: a crashed process answers nothing, but its socket fails fast.
        this.loop.schedule(this.options.requestLatencyMs, () =>
          this.onResponse(operation, target, { kind: 'notLeader', leader: '' }),
        );
        return;
      }
      if (operation.call.kind !== 'get') operation.mayHaveEffect = true;
      node.handleClientRequest(operation.requestId, operation.call, (response) => {
        this.loop.schedule(this.options.requestLatencyMs, () => this.onResponse(operation, target, response));
      });
    });
  }

  private onResponse(operation: Operation, target: string, response: ClientResponse): void {
    if (operation.finished) return;
    switch (response.kind) {
      case 'ok':
        this.finish(operation, () => this.recorder.complete(operation.id, response.result, this.loop.now));
        this.workload.observe(operation.call, response.result as KvResult);
        this.pool.okOperations++;
        this.pool.lastOkAtMs = this.loop.now;
        return;
      case 'notLeader':
        // Not proposed there: follow the hint (or try another node) and retry.
        this.leaderGuess = response.leader !== '' && response.leader !== target ? response.leader : undefined;
        this.loop.schedule(this.options.retryBackoffMs, () => this.attempt(operation));
        return;
      case 'fail':
        if (operation.call.kind === 'get' || response.reason !== 'entry replaced') {
          this.loop.schedule(this.options.retryBackoffMs, () => this.attempt(operation));
          return;
        }
        // Our entry was overwritten by another, so it can never take effect. Attempts are sequential
        // (a new one only after a definite answer to the last), so no other copy is in any log.
        this.finish(operation, () => this.recorder.fail(operation.id, this.loop.now));
        return;
    }
  }

  private timeOut(operation: Operation): void {
    if (operation.finished) return;
    this.leaderGuess = undefined; // that node may be down or cut off: try elsewhere next time
    if (operation.mayHaveEffect) {
      this.finish(operation, () => this.recorder.indeterminate(operation.id, this.loop.now));
      // The operation may still be in flight: this process is retired (Jepsen's convention).
      this.process = this.pool.nextProcess++;
    } else {
      this.finish(operation, () => this.recorder.fail(operation.id, this.loop.now));
    }
  }

  private finish(operation: Operation, record: () => void): void {
    operation.finished = true;
    record();
    this.loop.schedule(this.options.thinkTimeMs, () => this.nextOperation());
  }
}
