// A strict parser for the Prometheus text exposition format (version 0.0.4, as `/metrics` serves
// it): HELP and TYPE lines, samples with escaped label values, and the rules a scraper relies on —
// a family's lines are contiguous, TYPE comes before its samples, no series appears twice,
// counters are not negative, and a histogram's buckets rise with `le`, end at +Inf and agree with
// `_count`. Input comes from the network: every problem is a returned error naming the line.

export type PromMetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface PromSample {
  /** The sample's own name (`foo_bucket`, `foo_sum`… for histograms). */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  readonly timestampMs: number | undefined;
}

export interface PromFamily {
  readonly name: string;
  help: string | undefined;
  type: PromMetricType;
  readonly samples: PromSample[];
}

export interface PromParseError {
  /** 1-based; 0 for problems found after reading every line (e.g. an incomplete histogram). */
  readonly line: number;
  readonly message: string;
}

export type PromParseResult =
  | { readonly ok: true; readonly families: ReadonlyMap<string, PromFamily> }
  | { readonly ok: false; readonly error: PromParseError };

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const INFINITY = /^([+-]?)inf(?:inity)?$/i;
const TIMESTAMP = /^-?\d{1,19}$/;
const METADATA_LINE = /^#[ \t]+(HELP|TYPE)[ \t]+(\S+)(?:[ \t]+(.*))?$/;
const TYPES: ReadonlySet<string> = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

class ParseFailure extends Error {
  readonly line: number;
  constructor(line: number, message: string) {
    super(message);
    this.line = line;
  }
}

/**
 * Parses a whole exposition. Families come back in the order they appear.
 *
 * @example
 * const result = parsePrometheusText(await (await fetch(url)).text());
 * if (!result.ok) throw new Error(`line ${result.error.line}: ${result.error.message}`);
 * result.families.get('synod_raft_term')?.samples[0]?.value;
 */
export function parsePrometheusText(text: string): PromParseResult {
  try {
    return { ok: true, families: new ExpositionReader().read(text) };
  } catch (error) {
    if (error instanceof ParseFailure)
      return { ok: false, error: { line: error.line, message: error.message } };
    throw error;
  }
}

class ExpositionReader {
  private readonly families = new Map<string, PromFamily>();
  /** Families whose lines ended (another family's line came): they may not reappear. */
  private readonly closed = new Set<string>();
  private readonly seriesSeen = new Set<string>();
  /** Families that had a TYPE line (at most one each). */
  private readonly typed = new Set<string>();
  private current: PromFamily | undefined;
  private lineNumber = 0;

  read(text: string): Map<string, PromFamily> {
    if (text.length > 0 && !text.endsWith('\n')) throw new ParseFailure(0, 'the last line must end with \\n');
    const lines = text.split('\n');
    lines.pop();
    for (const line of lines) {
      this.lineNumber++;
      if (line.includes('\r')) this.fail('carriage returns are not allowed (lines end with \\n)');
      if (line.trim() === '') continue;
      if (line.startsWith('#')) this.readComment(line);
      else this.readSample(line);
    }
    this.lineNumber = 0;
    for (const family of this.families.values()) checkFamily(family);
    return this.families;
  }

  private fail(message: string): never {
    throw new ParseFailure(this.lineNumber, message);
  }

  private readComment(line: string): void {
    const match = METADATA_LINE.exec(line);
    if (match === null) return; // any other comment is ignored
    const [, keyword, name, rest] = match as unknown as [string, 'HELP' | 'TYPE', string, string | undefined];
    if (!METRIC_NAME.test(name)) this.fail(`invalid metric name ${JSON.stringify(name)}`);
    const family = this.enter(name);
    if (keyword === 'HELP') {
      if (family.help !== undefined) this.fail(`a second HELP line for ${name}`);
      family.help = unescapeHelp(rest ?? '', (message) => this.fail(message));
      return;
    }
    const type = (rest ?? '').trim();
    if (!TYPES.has(type)) this.fail(`unknown metric type ${JSON.stringify(type)} for ${name}`);
    if (this.typed.has(name)) this.fail(`a second TYPE line for ${name}`);
    if (family.samples.length > 0) this.fail(`the TYPE line of ${name} comes after its samples`);
    this.typed.add(name);
    family.type = type as PromMetricType;
  }

  private readSample(line: string): void {
    const sample = new SampleScanner(line, (message) => this.fail(message)).scan();
    const family = this.enter(this.familyNameOf(sample.name));
    const seriesKey = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (this.seriesSeen.has(seriesKey))
      this.fail(`the series ${sample.name} with these labels appears twice`);
    this.seriesSeen.add(seriesKey);
    family.samples.push(sample);
  }

  /** Histogram and summary samples carry a suffix; they belong to the family named by TYPE. */
  private familyNameOf(sampleName: string): string {
    for (const suffix of ['_bucket', '_sum', '_count'] as const) {
      if (!sampleName.endsWith(suffix)) continue;
      const base = sampleName.slice(0, -suffix.length);
      const type = this.families.get(base)?.type;
      if (type === 'histogram' || (type === 'summary' && suffix !== '_bucket')) return base;
    }
    return sampleName;
  }

  /** The family `name`, made current; a family whose lines already ended may not come back. */
  private enter(name: string): PromFamily {
    if (this.current?.name === name) return this.current;
    if (this.closed.has(name)) this.fail(`the lines of ${name} are not contiguous`);
    if (this.current !== undefined) this.closed.add(this.current.name);
    const family: PromFamily = { name, help: undefined, type: 'untyped', samples: [] };
    this.families.set(name, family);
    this.current = family;
    return family;
  }
}

/** Reads `name{label="value",…} value [timestamp]` left to right. */
class SampleScanner {
  private readonly line: string;
  private readonly fail: (message: string) => never;
  private position = 0;

  constructor(line: string, fail: (message: string) => never) {
    this.line = line;
    this.fail = fail;
  }

  scan(): PromSample {
    const name = this.token(/[a-zA-Z0-9_:]/);
    if (!METRIC_NAME.test(name)) this.fail(`invalid metric name ${JSON.stringify(name)}`);
    const labels = this.line[this.position] === '{' ? this.labels() : {};
    const fields = this.line
      .slice(this.position)
      .trim()
      .split(/[ \t]+/);
    if (this.position < this.line.length && !/[ \t]/.test(this.line[this.position]!)) {
      this.fail(`expected a space after ${name}`);
    }
    if (fields.length < 1 || fields.length > 2 || fields[0] === '')
      this.fail(`expected a value after ${name}`);
    const value = parseValue(fields[0]!);
    if (value === undefined) this.fail(`invalid value ${JSON.stringify(fields[0])}`);
    const timestamp = fields[1];
    if (timestamp !== undefined && !TIMESTAMP.test(timestamp)) {
      this.fail(`invalid timestamp ${JSON.stringify(timestamp)}`);
    }
    return { name, labels, value, timestampMs: timestamp === undefined ? undefined : Number(timestamp) };
  }

  private token(allowed: RegExp): string {
    const start = this.position;
    while (this.position < this.line.length && allowed.test(this.line[this.position]!)) this.position++;
    return this.line.slice(start, this.position);
  }

  private labels(): Record<string, string> {
    const labels: Record<string, string> = {};
    this.position++; // '{'
    for (;;) {
      this.skipBlanks();
      if (this.line[this.position] === '}') break;
      const name = this.token(/[a-zA-Z0-9_]/);
      if (!LABEL_NAME.test(name)) this.fail(`invalid label name ${JSON.stringify(name)}`);
      if (Object.hasOwn(labels, name)) this.fail(`label ${name} appears twice`);
      this.skipBlanks();
      if (this.line[this.position] !== '=') this.fail(`expected = after label ${name}`);
      this.position++;
      this.skipBlanks();
      labels[name] = this.quoted();
      this.skipBlanks();
      if (this.line[this.position] === ',') this.position++;
      else if (this.line[this.position] !== '}') this.fail(`expected , or } after label ${name}`);
    }
    this.position++; // '}'
    return labels;
  }

  /** A double-quoted label value; the only escapes are \\, \" and \n. */
  private quoted(): string {
    if (this.line[this.position] !== '"') this.fail('a label value must be in double quotes');
    this.position++;
    let value = '';
    for (;;) {
      const char = this.line[this.position++];
      if (char === undefined) this.fail('unterminated label value');
      if (char === '"') return value;
      if (char !== '\\') {
        value += char;
        continue;
      }
      const escaped = this.line[this.position++];
      if (escaped === '\\' || escaped === '"') value += escaped;
      else if (escaped === 'n') value += '\n';
      else this.fail(`invalid escape \\${escaped ?? ''} in a label value`);
    }
  }

  private skipBlanks(): void {
    while (this.line[this.position] === ' ' || this.line[this.position] === '\t') this.position++;
  }
}

function parseValue(text: string): number | undefined {
  if (DECIMAL.test(text)) return Number(text);
  const infinity = INFINITY.exec(text);
  if (infinity !== null) return infinity[1] === '-' ? -Infinity : Infinity;
  // Go's ParseFloat (what Prometheus uses) reads NaN in any case; prom-client writes "Nan".
  if (/^nan$/i.test(text)) return Number.NaN;
  return undefined;
}

function unescapeHelp(text: string, fail: (message: string) => never): string {
  return text.replace(/\\(.?)/g, (_match, escaped: string) => {
    if (escaped === '\\') return '\\';
    if (escaped === 'n') return '\n';
    return fail(`invalid escape \\${escaped} in a HELP line`);
  });
}

/** Checks that need the whole family: counters and histogram/summary structure. */
function checkFamily(family: PromFamily): void {
  const fail = (message: string): never => {
    throw new ParseFailure(0, `${family.name}: ${message}`);
  };
  if (family.type === 'counter') {
    for (const sample of family.samples) if (sample.value < 0) fail('a counter is negative');
  }
  if (family.type === 'histogram') checkHistogram(family, fail);
  if (family.type === 'summary') checkSummary(family, fail);
}

interface HistogramSeries {
  buckets: { le: number; count: number }[];
  sum: number | undefined;
  count: number | undefined;
}

function checkHistogram(family: PromFamily, fail: (message: string) => never): void {
  const series = new Map<string, HistogramSeries>();
  for (const sample of family.samples) {
    const { le, ...rest } = sample.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    let entry = series.get(key);
    if (entry === undefined) {
      entry = { buckets: [], sum: undefined, count: undefined };
      series.set(key, entry);
    }
    if (sample.name === `${family.name}_bucket`) {
      const bound = le === undefined ? undefined : parseValue(le);
      if (bound === undefined || Number.isNaN(bound)) fail(`a bucket has no valid le label (${String(le)})`);
      entry.buckets.push({ le: bound, count: sample.value });
    } else if (sample.name === `${family.name}_sum`) {
      entry.sum = sample.value;
    } else if (sample.name === `${family.name}_count`) {
      entry.count = sample.value;
    } else {
      fail(`${sample.name} is not a histogram sample (_bucket, _sum or _count)`);
    }
  }
  for (const entry of series.values()) checkBuckets(entry, fail);
}

function checkBuckets(series: HistogramSeries, fail: (message: string) => never): void {
  const { buckets } = series;
  for (let i = 1; i < buckets.length; i++) {
    if (!(buckets[i]!.le > buckets[i - 1]!.le)) fail('bucket bounds (le) do not increase');
    if (buckets[i]!.count < buckets[i - 1]!.count) fail('bucket counts decrease as le grows');
  }
  const last = buckets.at(-1);
  if (last === undefined || last.le !== Infinity) fail('the last bucket must be le="+Inf"');
  if (series.count === undefined || series.sum === undefined) fail('_sum or _count is missing');
  if (series.count !== last.count)
    fail(`_count (${series.count}) differs from the +Inf bucket (${last.count})`);
}

function checkSummary(family: PromFamily, fail: (message: string) => never): void {
  for (const sample of family.samples) {
    if (sample.name !== family.name) continue;
    const quantile = sample.labels.quantile === undefined ? undefined : parseValue(sample.labels.quantile);
    if (quantile === undefined || !(quantile >= 0 && quantile <= 1))
      fail('a quantile label is not in [0, 1]');
  }
}
