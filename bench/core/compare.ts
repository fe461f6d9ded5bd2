// Shared measurement for the core comparisons: warm both (all) sides up, run them in rotating
// order so neither always goes first, and report medians. One JSON line per comparison is the
// caller's job.
import { readFileSync } from 'node:fs';

export const RUN_COUNT = 7;
export const WARMUP_RUN_COUNT = 2;

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** "name x.y.z" of an installed baseline package. */
export function versionOf(name: string): string {
  const manifest = new URL(`../../node_modules/${name}/package.json`, import.meta.url);
  return `${name} ${(JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version}`;
}

/** Runs `gc()` when node was started with --expose-gc (npm run bench does), so runs start even. */
export const collectGarbage = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

/** Every run's result per side, sides in rotating order after the warm-up. */
export async function compareRuns<T>(
  label: string,
  sides: readonly (() => T | Promise<T>)[],
): Promise<T[][]> {
  for (let run = 0; run < WARMUP_RUN_COUNT; run++) for (const side of sides) await side();
  const results: T[][] = sides.map(() => []);
  for (let run = 0; run < RUN_COUNT; run++) {
    for (let offset = 0; offset < sides.length; offset++) {
      const index = (run + offset) % sides.length;
      results[index]!.push(await sides[index]!());
    }
    console.error(`  ${label}: run ${run + 1}/${RUN_COUNT}`);
  }
  return results;
}

/** The median rate of each side; each side returns its rate (ops/s) for one run. */
export async function compareSides(
  label: string,
  sides: readonly (() => number | Promise<number>)[],
): Promise<number[]> {
  return (await compareRuns(label, sides)).map(median);
}

/** Synod against one baseline: [synod median, baseline median]. */
export async function comparePair(
  label: string,
  synod: () => number | Promise<number>,
  baseline: () => number | Promise<number>,
): Promise<[number, number]> {
  const [synodRate = Number.NaN, baselineRate = Number.NaN] = await compareSides(label, [synod, baseline]);
  return [synodRate, baselineRate];
}
