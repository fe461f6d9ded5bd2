// Flags that reproduce a run's options on the command line, for "replay this seed" hints.
import type { SimulationOptions } from './cluster/run.js';

export type SimOptionsInput = Omit<Partial<SimulationOptions>, 'seed'>;

export function replayFlags(base: SimOptionsInput): string {
  let flags = '';
  if (base.nemesis !== undefined && base.nemesis !== 'all') {
    flags += ` --nemesis ${Array.isArray(base.nemesis) ? base.nemesis.join(',') : base.nemesis}`;
  }
  if (base.readMode === 'lease') flags += ' --reads lease';
  if (base.pipelined) flags += ' --pipelined';
  if (base.intensity !== undefined) flags += ` --intensity ${base.intensity}`;
  if (base.durationMs !== undefined) flags += ` --duration-ms ${base.durationMs}`;
  for (const mutation of base.mutations ?? []) flags += ` --mutation ${mutation}`;
  return flags;
}
