// Figures, their Synod/etcd ratio, and the tables printed at the end. A ratio above 1 always means
// "Synod better": Synod ÷ etcd for rates, etcd ÷ Synod for times.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cost, ProfileSummary } from './cpu-profile.js';
import type { Part } from './options.js';

export interface Figure {
  readonly part: Part;
  readonly name: string;
  readonly unit: 'puts/s' | 'ops/s' | 'ms';
  readonly synod: number | undefined;
  readonly etcd: number | undefined;
  /** Set when a measurement behind the figure failed (e.g. lost puts). */
  readonly failure?: string;
}

/** > 1 means Synod did better, whatever the unit. */
export function ratioOf(figure: Figure): number | undefined {
  const { synod, etcd } = figure;
  if (synod === undefined || etcd === undefined || synod <= 0 || etcd <= 0) return undefined;
  return figure.unit === 'ms' ? etcd / synod : synod / etcd;
}

export function formatValue(value: number | undefined, unit: Figure['unit']): string {
  if (value === undefined || Number.isNaN(value)) return '—';
  if (unit === 'ms') return `${value < 10 ? value.toFixed(2) : value.toFixed(0)} ms`;
  return `${Math.round(value).toLocaleString('en-US')} ${unit}`;
}

export function formatRatio(figure: Figure): string {
  const ratio = ratioOf(figure);
  return ratio === undefined ? '—' : `${ratio.toFixed(2)}×`;
}

/** One line per figure, printed as soon as it is known. */
export function formatFigure(figure: Figure): string {
  const failed = figure.failure ? `  FAILED: ${figure.failure}` : '';
  return (
    `${figure.name}: synod ${formatValue(figure.synod, figure.unit)} · etcd ${formatValue(figure.etcd, figure.unit)}` +
    ` · synod/etcd ${formatRatio(figure)}${failed}`
  );
}

/** A plain text table; the first column is left-aligned, the others right-aligned. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join('  ');
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)];
}

export function formatSummary(figures: readonly Figure[]): string[] {
  return formatTable(
    ['figure', 'synod', 'etcd', 'ratio (>1 = synod better)', 'check'],
    figures.map((figure) => [
      figure.name,
      formatValue(figure.synod, figure.unit),
      formatValue(figure.etcd, figure.unit),
      formatRatio(figure),
      figure.failure ? 'FAILED' : 'ok',
    ]),
  );
}

function costRows(costs: readonly Cost[], withLocation: boolean): string[][] {
  return costs.map((cost) => [
    withLocation ? `${cost.name}  ${cost.location}` : cost.name,
    cost.selfMs.toFixed(0),
    `${cost.selfPercent.toFixed(1)}%`,
    `${cost.totalPercent.toFixed(1)}%`,
  ]);
}

export function formatProfile(summary: ProfileSummary): string[] {
  const columns = ['self ms', 'self %', 'total %'];
  return [
    `${(summary.durationMs / 1000).toFixed(1)} s profiled, ${summary.samples} samples, ` +
      `${summary.idlePercent.toFixed(1)}% idle; percentages are of the ${(summary.busyMs / 1000).toFixed(2)} s busy`,
    '',
    `Top ${summary.topFunctions.length} functions by self time:`,
    ...formatTable(['function  file:line', ...columns], costRows(summary.topFunctions, true)),
    '',
    'By file:',
    ...formatTable(['file', ...columns], costRows(summary.byFile, false)),
    '',
    'By package:',
    ...formatTable(['package', ...columns], costRows(summary.byPackage, false)),
  ];
}

/** Writes `results` as pretty JSON into `dir` and returns the file's path. */
export function writeResults(dir: string, stamp: string, results: unknown): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `kv-${stamp}.json`);
  writeFileSync(
    file,
    `${JSON.stringify(results, (_key, value) => (typeof value === 'bigint' ? String(value) : value), 2)}\n`,
  );
  return file;
}
