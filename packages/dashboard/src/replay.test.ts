// The replay view: its pure model (public/assets/replay-model.js) against real simulator traces,
// its colours against WCAG AA, and the page in headless Chromium served by a tiny HTTP server
// that answers /api/sim/trace the way a member's admin server does.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { SimTrace } from '@synod/sim';
import { runTracedSimulationJson, traceRequestFromQuery, traceSimulation } from '@synod/sim';
import type { Browser, Page } from 'playwright-core';
import { chromiumSkipReason, launchChromium, saveScreenshot } from './browser.fixture.js';

/** A mutant run the checker rejects, with a counterexample (see packages/sim/src/trace/trace.test.ts). */
const FAILING = { seed: 9, nodes: 3, mutant: 'vote-without-log-check' } as const;
/** Short correct runs keep the model tests fast. */
const SHORT_RUN_MS = 3_000;
/** Bound for anything the page should show once its data is there (the failing run takes ~1–2 s). */
const SHOW_TIMEOUT_MS = 15_000;

interface ReplayNode {
  name: string;
  up: boolean;
  role: string;
  term: number;
  leader: string;
  commit: number;
  applied: number;
  lastIndex: number;
  log: { index: number; term: number; command: string }[];
}
interface ReplayState {
  atMs: number;
  nodes: Map<string, ReplayNode>;
  partition: { description: string; groups: string[][] } | null;
  violations: unknown[];
  recentEvents: { atMs: number; text: string; kind: string }[];
}
interface ReplayMessage {
  id: number;
  from: string;
  to: string;
  sentAtMs: number;
  endAtMs: number;
  fate: string;
}
interface ReplayIndex {
  nodes: string[];
  endMs: number;
  operations: { op: number; atMs: number }[];
  messages: ReplayMessage[];
  counterexampleIds: Set<number>;
  firstCounterexampleMs: number | null;
}
/** The module's exports, typed here because it is plain JS served to browsers as is. */
interface ReplayModel {
  validateTrace(value: unknown): { ok: true; trace: SimTrace } | { ok: false; error: string };
  indexTrace(trace: SimTrace): ReplayIndex;
  ReplayCursor: new (index: ReplayIndex) => { seek(atMs: number): ReplayState };
  messagesAt(
    index: ReplayIndex,
    atMs: number,
    limit: number,
  ): {
    inFlight: { message: ReplayMessage; progress: number }[];
    inFlightTotal: number;
    dropped: ReplayMessage[];
  };
  stepTime(index: ReplayIndex, atMs: number, direction: 1 | -1, by: 'event' | 'state' | number): number;
  layoutNodes(
    nodes: string[],
    groups: string[][] | null,
    width: number,
    height: number,
  ): { positions: Map<string, { x: number; y: number }>; regions: { group: string[] }[] };
  verdictSummary(verdict: SimTrace['verdict']): { tone: string; verdict: string; headline: string };
}

const publicDir = fileURLToPath(new URL('../public/', import.meta.url));
const model = (await import(
  new URL('../public/assets/replay-model.js', import.meta.url).href
)) as ReplayModel;

describe('replay model', () => {
  const trace = traceSimulation({ seed: 4, nodes: 5, durationMs: SHORT_RUN_MS });
  const index = model.indexTrace(trace);

  test('refuses what is not a version-1 Synod trace, saying why', () => {
    assert.equal(model.validateTrace(trace).ok, true);
    const wrongFormat = model.validateTrace({ ...trace, format: 'jepsen' });
    assert.ok(!wrongFormat.ok && wrongFormat.error.includes('jepsen'));
    const newer = model.validateTrace({ ...trace, version: 2 });
    assert.ok(!newer.ok && newer.error.includes('version 2'));
    assert.equal(model.validateTrace('[]').ok, false);
  });

  test("the state at the end matches each node's last recorded state", () => {
    const state = new model.ReplayCursor(index).seek(index.endMs);
    for (const name of index.nodes) {
      const last = trace.records.findLast((record) => record.kind === 'node' && record.node === name);
      assert.ok(last?.kind === 'node');
      const node = state.nodes.get(name)!;
      assert.deepEqual(
        [node.role, node.term, node.commit, node.applied],
        [last.role, last.term, last.commit, last.applied],
        name,
      );
      const lastAppend = trace.records.findLast((record) => record.kind === 'append' && record.node === name);
      if (lastAppend?.kind === 'append' && node.up) assert.equal(node.log.at(-1)?.index, lastAppend.index);
    }
  });

  test('seeking backwards gives the same state as seeking there directly', () => {
    const cursor = new model.ReplayCursor(index);
    const middle = index.endMs / 2;
    const direct = JSON.stringify([...new model.ReplayCursor(index).seek(middle).nodes.values()]);
    cursor.seek(index.endMs);
    assert.equal(JSON.stringify([...cursor.seek(middle).nodes.values()]), direct);
  });

  test('a message is in flight between its send and its delivery, and only then', () => {
    const message = index.messages.find((m) => m.fate === 'delivered' && m.endAtMs - m.sentAtMs > 1)!;
    const midway = (message.sentAtMs + message.endAtMs) / 2;
    const during = model.messagesAt(index, midway, 10_000).inFlight.find((f) => f.message.id === message.id);
    assert.ok(during && during.progress > 0 && during.progress < 1);
    const afterwards = model.messagesAt(index, message.endAtMs, 10_000).inFlight;
    assert.equal(
      afterwards.some((f) => f.message.id === message.id),
      false,
    );
  });

  test('steps land on record times, forward and back, and stop at the ends', () => {
    const first = model.stepTime(index, 0, 1, 'event');
    assert.ok(first > 0);
    assert.ok(trace.records.some((record) => record.atMs === first));
    assert.equal(model.stepTime(index, first, -1, 'event'), 0);
    assert.equal(model.stepTime(index, index.endMs, 1, 'event'), index.endMs);
    assert.equal(model.stepTime(index, 50, 1, 100), 150);
    assert.equal(model.stepTime(index, 50, -1, 100), 0);
  });

  test('a partition lays out one region per side holding exactly its nodes', () => {
    const groups = [
      ['n1', 'n4'],
      ['n2', 'n3', 'n5'],
    ];
    const { positions, regions } = model.layoutNodes(index.nodes, groups, 720, 400);
    assert.deepEqual(
      regions.map((region) => region.group),
      groups,
    );
    assert.equal(positions.size, 5);
    assert.ok(positions.get('n1')!.x < positions.get('n2')!.x, 'the first side is drawn on the left');
    assert.equal(model.layoutNodes(index.nodes, null, 720, 400).regions.length, 0);
  });

  test('the verdict banner words: green linearizable, red NOT linearizable', () => {
    assert.deepEqual(model.verdictSummary(trace.verdict), {
      tone: 'good',
      verdict: 'linearizable',
      headline: 'linearizable',
      detail: 'no invariant violated',
    });
    const failing = traceSimulation({
      seed: FAILING.seed,
      nodes: FAILING.nodes,
      mutations: [FAILING.mutant],
    });
    const summary = model.verdictSummary(failing.verdict);
    assert.equal(summary.tone, 'bad');
    assert.equal(summary.headline, 'NOT linearizable');
    const failingIndex = model.indexTrace(failing);
    assert.ok(failingIndex.counterexampleIds.size > 0);
    assert.ok(failingIndex.firstCounterexampleMs !== null);
  });
});

describe('replay colours', () => {
  const css = readFile(new URL('../public/assets/replay.css', import.meta.url), 'utf8');
  /** WCAG 2.x minimums: normal text, and non-text cues (lines, focus rings). */
  const TEXT_CONTRAST_MIN = 4.5;
  const NON_TEXT_CONTRAST_MIN = 3;
  const TEXT_PAIRS = [
    ['--text', '--page'],
    ['--text', '--surface'],
    ['--text-muted', '--surface'],
    ['--leader-text', '--leader-bg'],
    ['--follower-text', '--follower-bg'],
    ['--candidate-text', '--candidate-bg'],
    ['--crashed-text', '--crashed-bg'],
    ['--good-text', '--good-bg'],
    ['--bad-text', '--bad-bg'],
    ['--warn-text', '--warn-bg'],
    ['--highlight-text', '--highlight-bg'],
    ['--running-text', '--running-bg'],
    ['--now-text', '--now-bg'],
    ['--side-text', '--side-bg'],
    ['--msg-dropped', '--surface'],
    ['--text-muted', '--highlight-bg'],
  ] as const;
  const NON_TEXT_PAIRS = [
    ['--focus', '--surface'],
    ['--focus', '--page'],
    ['--surface', '--good-bg'],
    ['--surface', '--bad-bg'],
    ['--focus', '--warn-bg'],
    ['--msg-append', '--surface'],
    ['--msg-response', '--surface'],
    ['--msg-vote', '--surface'],
    ['--msg-heartbeat', '--surface'],
    ['--msg-dropped', '--side-bg'],
    ['--border', '--surface'],
  ] as const;

  test('every text pair reaches 4.5:1 and every line or focus cue 3:1', async () => {
    const properties = customProperties(await css);
    const ratio = (foreground: string, background: string) =>
      contrast(hexColour(properties, foreground), hexColour(properties, background));
    for (const [foreground, background] of TEXT_PAIRS) {
      const value = ratio(foreground, background);
      assert.ok(value >= TEXT_CONTRAST_MIN, `${foreground} on ${background}: ${value.toFixed(2)}:1`);
    }
    for (const [foreground, background] of NON_TEXT_PAIRS) {
      const value = ratio(foreground, background);
      assert.ok(value >= NON_TEXT_CONTRAST_MIN, `${foreground} on ${background}: ${value.toFixed(2)}:1`);
    }
  });
});

function customProperties(source: string): Map<string, string> {
  const root = /:root\s*\{([^}]*)\}/.exec(source)?.[1] ?? '';
  return new Map(
    [...root.matchAll(/(--[\w-]+)\s*:\s*([^;]+);/g)].map((match) => [match[1]!, match[2]!.trim()]),
  );
}

function hexColour(properties: Map<string, string>, name: string): [number, number, number] {
  const value = properties.get(name);
  const match = value === undefined ? null : /^#([0-9a-f]{6})$/i.exec(value);
  assert.ok(match, `${name} must be a #rrggbb colour, got ${value}`);
  const hex = match[1]!;
  return [0, 2, 4].map((at) => Number.parseInt(hex.slice(at, at + 2), 16)) as [number, number, number];
}

/** WCAG 2.x contrast ratio of two sRGB colours. */
function contrast(first: [number, number, number], second: [number, number, number]): number {
  const luminance = (rgb: [number, number, number]) => {
    const [r, g, b] = rgb.map((channel) => {
      const c = channel / 255;
      return c <= 0.039_28 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    }) as [number, number, number];
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [light, dark] = [luminance(first), luminance(second)].sort((a, b) => b - a) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
};

/** Serves public/ and /api/sim/trace (one run at a time, 429 otherwise), as the admin server will. */
async function startReplayServer(): Promise<{ server: Server; url: string }> {
  let running = false;
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/api/sim/trace') {
      const parsed = traceRequestFromQuery(url.searchParams);
      if (!parsed.ok) return void response.writeHead(400).end(JSON.stringify({ error: parsed.error }));
      if (running) return void response.writeHead(429).end('{"error":"busy"}');
      running = true;
      runTracedSimulationJson(parsed.options)
        .then((json) => response.writeHead(200, { 'content-type': 'application/json' }).end(json))
        .catch((error: Error) => response.writeHead(500).end(error.message))
        .finally(() => {
          running = false;
        });
      return;
    }
    const file = normalize(join(publicDir, url.pathname === '/replay' ? 'replay.html' : url.pathname));
    if (!file.startsWith(publicDir.endsWith(sep) ? publicDir : publicDir + sep))
      return void response.writeHead(403).end();
    readFile(file).then(
      (content) =>
        response
          .writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream' })
          .end(content),
      () => response.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const skip = chromiumSkipReason();

describe('replay page in Chromium', { skip: skip ?? false }, () => {
  let browser: Browser | undefined;
  let page: Page;
  let server: Server | undefined;
  let baseUrl = '';
  const pageErrors: string[] = [];
  before(async () => {
    ({ server, url: baseUrl } = await startReplayServer());
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });
  after(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  const shownTimeMs = async () => Number(await page.getByTestId('scrubber').inputValue());
  /** Page-side expressions are strings: this package type-checks without the DOM library. */
  const SCRUBBER_VALUE = `Number(document.querySelector('[data-testid="scrubber"]').value)`;

  test('a failing mutant run shows the red verdict and its counterexample operations, and scrubs', async () => {
    await page.goto(`${baseUrl}/replay.html`);
    await page.getByTestId('seed').fill(String(FAILING.seed));
    await page.getByTestId('nodes').selectOption(String(FAILING.nodes));
    await page.getByTestId('mutant').selectOption(FAILING.mutant);
    await page.getByTestId('load-button').click();
    const verdict = page.locator('[data-testid="verdict"][data-verdict="not-linearizable"]');
    await verdict.waitFor({ timeout: SHOW_TIMEOUT_MS });
    assert.equal(await page.getByTestId('verdict-headline').textContent(), 'NOT linearizable');
    assert.equal(await verdict.getAttribute('data-tone'), 'bad');
    const violations = page.locator('[data-testid="violation"]');
    assert.ok((await violations.count()) >= 1, 'counterexample rows are marked');
    assert.match((await violations.first().textContent()) ?? '', /counterexample/);
    assert.equal(await page.locator('[data-testid="cluster-view"] .node').count(), FAILING.nodes);
    await saveScreenshot(page, 'replay-failing-start');

    await page.getByTestId('jump-to-violation').click();
    await page.waitForFunction(
      `document.activeElement?.getAttribute('data-testid') === 'violation'`,
      undefined,
      {
        timeout: SHOW_TIMEOUT_MS,
      },
    );
    const jumpedTo = await shownTimeMs();
    assert.ok(jumpedTo > 0, `jumped to t=${jumpedTo}`);
    assert.match((await page.getByTestId('time').textContent()) ?? '', /^t = /);
    await saveScreenshot(page, 'replay-failing-counterexample');

    // Scrub with the keyboard: End, Home, then one step forward lands on the first event.
    await page.getByTestId('scrubber').focus();
    await page.keyboard.press('End');
    await page.waitForFunction(`${SCRUBBER_VALUE} > ${jumpedTo}`);
    assert.ok((await shownTimeMs()) > jumpedTo);
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowRight');
    await page.waitForFunction(`${SCRUBBER_VALUE} > 0 && ${SCRUBBER_VALUE} < 1000`);
    assert.equal(pageErrors.length, 0, pageErrors.join('\n'));
  });

  test('a message in flight is drawn as an arrow while the scrubber is mid-flight', async () => {
    const trace = traceSimulation({ seed: FAILING.seed, nodes: FAILING.nodes, mutations: [FAILING.mutant] });
    const index = model.indexTrace(trace);
    const message = index.messages.find((m) => m.fate === 'delivered' && m.endAtMs - m.sentAtMs > 2)!;
    const midway = Math.round(((message.sentAtMs + message.endAtMs) / 2) * 1000) / 1000;
    await page.getByTestId('scrubber').fill(String(midway));
    await page.locator(`[data-testid="cluster-view"] [data-message-id="${message.id}"]`).waitFor({
      timeout: SHOW_TIMEOUT_MS,
    });
    assert.match((await page.getByTestId('flight-line').textContent()) ?? '', /in flight/);
    await saveScreenshot(page, 'replay-message-in-flight');
  });

  test('a trace file loads through the file input and a correct run shows green', async () => {
    const trace = traceSimulation({ seed: 2, nodes: 3, durationMs: SHORT_RUN_MS });
    await page.getByTestId('trace-file').setInputFiles({
      name: 'seed-2.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify(trace)),
    });
    await page
      .locator('[data-testid="verdict"][data-verdict="linearizable"]')
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    assert.equal(await page.getByTestId('verdict-headline').textContent(), 'linearizable');
    assert.equal(await page.locator('[data-testid="violation"]').count(), 0);
    assert.equal(await page.getByTestId('jump-to-violation').isHidden(), true);
    assert.match((await page.getByTestId('status').textContent()) ?? '', /seed-2\.json/);
    await page.keyboard.press('End');
    await saveScreenshot(page, 'replay-correct-run');
    assert.equal(pageErrors.length, 0, pageErrors.join('\n'));
  });

  test('a file that is not a trace is refused with a message', async () => {
    await page.getByTestId('trace-file').setInputFiles({
      name: 'other.json',
      mimeType: 'application/json',
      buffer: Buffer.from('{"format":"something-else"}'),
    });
    await page.waitForFunction(
      `document.querySelector('[data-testid="status"]').textContent.includes('not a Synod simulator trace')`,
    );
  });
});
