// Headless Chromium for the dashboard tests: Debian's /usr/bin/chromium driven by playwright-core.
// Without it the tests skip, unless SYNOD_REQUIRE_CHROMIUM=1 (CI), where they fail and say why.
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';
/** Screenshots land here, at the repository root (ignored by git). */
export const SCREENSHOT_DIR = fileURLToPath(new URL('../../../test-artifacts/dashboard/', import.meta.url));

/**
 * Why the browser tests cannot run here, or undefined when they can. Throws when Chromium is
 * required (SYNOD_REQUIRE_CHROMIUM=1) but missing, so CI never silently skips them.
 */
export function chromiumSkipReason(): string | undefined {
  if (existsSync(CHROMIUM_PATH)) return undefined;
  const message = `${CHROMIUM_PATH} is missing: install it with 'apt-get install chromium' to run the dashboard's browser tests`;
  if (process.env.SYNOD_REQUIRE_CHROMIUM === '1') throw new Error(message);
  return message;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true });
}

export async function saveScreenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOT_DIR}${name}.png`, fullPage: true });
}

/** The name of the member the page shows as leader ('none' while there is none). */
export async function shownLeader(page: Page): Promise<string> {
  return (await page.getByTestId('leader-name').textContent()) ?? '';
}

/**
 * Browser-side check (a string, so no transpiler helper leaks into the page): the page shows
 * `count` reachable members and exactly one leader among them.
 */
export function healthyViewCheck(count: number): string {
  return `(() => {
    const cards = [...document.querySelectorAll('[data-testid="member-card"]')];
    const up = cards.filter((card) => card.dataset.status === 'up');
    const leaders = cards.filter((card) => card.dataset.leader === 'true');
    return cards.length === ${count} && up.length === ${count} && leaders.length === 1;
  })()`;
}

/** Waits until the page shows `count` reachable members and exactly one leader among them. */
export async function waitForHealthyView(page: Page, count: number, timeoutMs: number): Promise<void> {
  await page.waitForFunction(healthyViewCheck(count), undefined, { timeout: timeoutMs, polling: 20 });
}

/** Waits until the page shows a reachable leader other than `previous`; returns its name. */
export async function waitForNewLeader(page: Page, previous: string, timeoutMs: number): Promise<string> {
  const check = `(() => {
    const leader = document.querySelector('[data-testid="member-card"][data-leader="true"][data-status="up"]');
    const name = leader ? leader.dataset.member : undefined;
    return name && name !== ${JSON.stringify(previous)} ? name : false;
  })()`;
  const handle = await page.waitForFunction(check, undefined, { timeout: timeoutMs, polling: 10 });
  return String(await handle.jsonValue());
}
