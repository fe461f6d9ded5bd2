// Figures of the watch bench, each with the direction that is better and a ratio that is > 1 when
// Synod did better (Synod ÷ etcd when higher is better, etcd ÷ Synod when lower is better), the
// same convention as bench/kv.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatTable } from '../kv/report.js';
import type { Part } from './options.js';

export type Better = 'lower' | 'higher';
export type Unit = 'ms' | 'events/s' | 'leases/s' | '% of a core' | 'MiB' | 'CPU s/M events';

export interface Figure {
  readonly part: Part;
  readonly name: string;
  readonly unit: Unit;
  readonly better: Better;
  readonly synod: number | undefined;
  readonly etcd: number | undefined;
  /** Set when a check behind the figure failed (lost or repeated events, expired leases…). */
  readonly failure?: string;
}

/** > 1 means Synod did better, whichever direction is better. */
export function ratioOf(figure: Figure): number | undefined {
  const { synod, etcd } = figure;
  if (synod === undefined || etcd === undefined || !(synod > 0) || !(etcd > 0)) return undefined;
  return figure.better === 'higher' ? synod / etcd : etcd / synod;
}

export function formatValue(value: number | undefined, unit: Unit): string {
  if (value === undefined || Number.isNaN(value)) return '—';
  if (unit === 'ms' || unit === '% of a core') {
    const digits = value < 10 ? 2 : value < 100 ? 1 : 0;
    return `${value.toFixed(digits)}${unit === 'ms' ? ' ms' : '%'}`;
  }
  if (unit === 'MiB') return `${value.toFixed(0)} MiB`;
  if (unit === 'CPU s/M events') return `${value.toFixed(2)} ${unit}`;
  return `${Math.round(value).toLocaleString('en-US')} ${unit}`;
}

function ratioText(figure: Figure): string {
  const ratio = ratioOf(figure);
  if (ratio === undefined) return '—';
  const formula = figure.better === 'higher' ? 'synod÷etcd' : 'etcd÷synod';
  const verdict = ratio >= 1 ? 'synod better' : 'etcd better';
  return `${formula} ${ratio.toFixed(2)}× (${verdict})`;
}

/** One line per figure, printed as soon as it is known. */
export function formatFigure(figure: Figure): string {
  const failed = figure.failure ? `  FAILED: ${figure.failure}` : '';
  return (
    `${figure.name}: synod ${formatValue(figure.synod, figure.unit)} · etcd ${formatValue(figure.etcd, figure.unit)}` +
    ` · ${figure.better} is better · ${ratioText(figure)}${failed}`
  );
}

export function formatSummary(figures: readonly Figure[]): string[] {
  return formatTable(
    ['figure', 'synod', 'etcd', 'better', 'ratio (>1 = synod better)', 'check'],
    figures.map((figure) => {
      const ratio = ratioOf(figure);
      return [
        figure.name,
        formatValue(figure.synod, figure.unit),
        formatValue(figure.etcd, figure.unit),
        figure.better,
        ratio === undefined ? '—' : `${ratio.toFixed(2)}×`,
        figure.failure ? 'FAILED' : 'ok',
      ];
    }),
  );
}

/** Writes `results` as pretty JSON (bigints as strings) into `dir`; returns the file's path. */
export function writeResults(dir: string, stamp: string, results: unknown): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `watch-${stamp}.json`);
  const json = JSON.stringify(
    results,
    (_key, value) => (typeof value === 'bigint' ? String(value) : value),
    2,
  );
  writeFileSync(file, `${json}\n`);
  return file;
}
