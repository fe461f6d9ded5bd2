// Where a CPU profile's time goes: the functions with the most self time, and the same time
// grouped by file and by package. Reads the .cpuprofile format of node:inspector (V8's Profiler).
import type { Profiler } from 'node:inspector';

export const TOP_FUNCTIONS = 25;
export const TOP_GROUPS = 15;
/** Pseudo-frames V8 puts in every profile; they have no url. */
const IDLE = '(idle)';
const PSEUDO_FRAMES = new Set(['(root)', '(program)', '(idle)', '(garbage collector)']);

export interface Cost {
  readonly name: string;
  /** file:line (1-based) for functions; empty for groups and V8's pseudo-frames. */
  readonly location: string;
  readonly selfMs: number;
  /** Percent of busy (non-idle) time spent in this function itself. */
  readonly selfPercent: number;
  /** Percent of busy time with this function anywhere on the stack. */
  readonly totalPercent: number;
}

export interface ProfileSummary {
  readonly durationMs: number;
  readonly samples: number;
  readonly busyMs: number;
  readonly idlePercent: number;
  readonly topFunctions: readonly Cost[];
  readonly byFile: readonly Cost[];
  readonly byPackage: readonly Cost[];
}

interface Frame {
  /** Native code (a binding or builtin): counted in its JS caller's file and package. */
  readonly native: boolean;
  readonly functionKey: string;
  readonly functionName: string;
  readonly location: string;
  readonly file: string;
  readonly packageName: string;
}

/** Summarises a profile; paths inside `repoRoot` are shown relative to it. */
export function summariseCpuProfile(profile: Profiler.Profile, repoRoot: string): ProfileSummary {
  const frames = new Map<number, Frame>();
  const parents = new Map<number, number>();
  for (const node of profile.nodes) {
    frames.set(node.id, frameOf(node.callFrame, repoRoot));
    for (const child of node.children ?? []) parents.set(child, node.id);
  }
  attributeNativeFrames(frames, parents);
  const self = {
    fn: new Map<string, number>(),
    file: new Map<string, number>(),
    pkg: new Map<string, number>(),
  };
  const total = {
    fn: new Map<string, number>(),
    file: new Map<string, number>(),
    pkg: new Map<string, number>(),
  };
  const durations = sampleDurations(profile);
  const ownerOf = (id: number): Frame => {
    let frame = frames.get(id)!;
    for (let at = parents.get(id); frame.native && at !== undefined; at = parents.get(at))
      frame = frames.get(at)!;
    return frame;
  };
  let idleMs = 0;
  profile.samples?.forEach((nodeId, index) => {
    const durationMs = durations[index]!;
    const frame = frames.get(nodeId)!;
    if (frame.functionName === IDLE) {
      idleMs += durationMs;
      return;
    }
    const owner = ownerOf(nodeId);
    add(self.fn, frame.functionKey, durationMs);
    add(self.file, owner.file, durationMs);
    add(self.pkg, owner.packageName, durationMs);
    // Inclusive time: once per sample for each function, file and package on its stack.
    const seen = { fn: new Set<string>(), file: new Set<string>(), pkg: new Set<string>() };
    for (let id: number | undefined = nodeId; id !== undefined; id = parents.get(id)) {
      const onStack = frames.get(id)!;
      seen.fn.add(onStack.functionKey);
      if (onStack.native) continue;
      seen.file.add(onStack.file);
      seen.pkg.add(onStack.packageName);
    }
    for (const key of seen.fn) add(total.fn, key, durationMs);
    for (const key of seen.file) add(total.file, key, durationMs);
    for (const key of seen.pkg) add(total.pkg, key, durationMs);
  });
  const durationMs = (profile.endTime - profile.startTime) / 1000;
  const busyMs = durationMs - idleMs;
  const byKey = new Map([...frames.values()].map((frame) => [frame.functionKey, frame]));
  const rank = (selfOf: Map<string, number>, totalOf: Map<string, number>, limit: number, named: boolean) =>
    [...selfOf.entries()]
      .sort((left, right) => right[1] - left[1])
      .slice(0, limit)
      .map(([key, selfMs]) => ({
        name: named ? byKey.get(key)!.functionName : key,
        location: named ? byKey.get(key)!.location : '',
        selfMs,
        selfPercent: (100 * selfMs) / busyMs,
        totalPercent: (100 * (totalOf.get(key) ?? 0)) / busyMs,
      }));
  return {
    durationMs,
    samples: profile.samples?.length ?? 0,
    busyMs,
    idlePercent: (100 * idleMs) / durationMs,
    topFunctions: rank(self.fn, total.fn, TOP_FUNCTIONS, true),
    byFile: rank(self.file, total.file, TOP_GROUPS, false),
    byPackage: rank(self.pkg, total.pkg, TOP_GROUPS, false),
  };
}

/**
 * A native function (writeBuffer, fdatasync…) is named after the nearest workspace function
 * that called it, so the table says whose socket writes or syncs these are.
 */
function attributeNativeFrames(frames: Map<number, Frame>, parents: ReadonlyMap<number, number>): void {
  for (const [id, frame] of frames) {
    if (!frame.native) continue;
    let caller: Frame | undefined;
    for (
      let at = parents.get(id);
      at !== undefined && !caller?.file.startsWith('packages/');
      at = parents.get(at)
    ) {
      const candidate = frames.get(at)!;
      if (
        !candidate.native &&
        candidate.location !== '' &&
        (!caller || candidate.file.startsWith('packages/'))
      )
        caller = candidate;
    }
    if (!caller) continue;
    const location = `(native) via ${caller.functionName} ${caller.location}`;
    frames.set(id, { ...frame, functionKey: `${frame.functionName} ${location}`, location });
  }
}

function add(costs: Map<string, number>, key: string, ms: number): void {
  costs.set(key, (costs.get(key) ?? 0) + ms);
}

/** Each sample lasts until the next one; the last until the profile's end. */
function sampleDurations(profile: Profiler.Profile): number[] {
  const deltas = profile.timeDeltas ?? [];
  const stamps: number[] = [];
  let at = profile.startTime;
  for (const delta of deltas) {
    at += delta;
    stamps.push(at);
  }
  return stamps.map((stamp, index) => ((stamps[index + 1] ?? profile.endTime) - stamp) / 1000);
}

function frameOf(callFrame: Profiler.ProfileNode['callFrame'], repoRoot: string): Frame {
  const functionName = callFrame.functionName || '(anonymous)';
  if (PSEUDO_FRAMES.has(functionName)) {
    return {
      native: false,
      functionKey: functionName,
      functionName,
      location: '',
      file: functionName,
      packageName: functionName,
    };
  }
  if (callFrame.url === '') {
    const location = '(native)';
    return {
      native: true,
      functionKey: `${functionName} ${location}`,
      functionName,
      location,
      file: location,
      packageName: location,
    };
  }
  const file = relativePath(callFrame.url, repoRoot);
  const location = `${file}:${callFrame.lineNumber + 1}`;
  return {
    native: false,
    functionKey: `${functionName} ${location}:${callFrame.columnNumber + 1}`,
    functionName,
    location,
    file,
    packageName: packageOf(file),
  };
}

function relativePath(url: string, repoRoot: string): string {
  const path = url.startsWith('file://') ? decodeURIComponent(new URL(url).pathname) : url;
  return path.startsWith(repoRoot) ? path.slice(repoRoot.length).replace(/^\//, '') : path;
}

/** @synod/<name> for workspace sources, the npm name for dependencies, node for its internals. */
function packageOf(file: string): string {
  const dependency = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(file);
  if (dependency) return dependency[1]!;
  const workspace = /^packages\/([^/]+)\//.exec(file);
  if (workspace) return `@synod/${workspace[1]}`;
  if (file.startsWith('node:')) return 'node (built-in modules)';
  return file.split('/')[0] ?? file;
}
