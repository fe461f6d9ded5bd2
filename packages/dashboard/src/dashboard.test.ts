// The dashboard in headless Chromium against a fake cluster that speaks the admin HTTP contract
// (fake-admin.fixture.ts): what it shows, the dev fault controls, keys, watch, keyboard use.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import {
  chromiumSkipReason,
  launchChromium,
  saveScreenshot,
  shownLeader,
  waitForHealthyView,
  waitForNewLeader,
} from './browser.fixture.js';
import { FakeAdminCluster, type FakeClusterOptions } from './fake-admin.fixture.js';

/** Generous bound for anything the page should show after a change (the fake elects in 300 ms). */
const SHOW_TIMEOUT_MS = 5_000;
/** Tab presses allowed to reach a control before the tab order counts as broken. */
const MAX_TAB_PRESSES = 40;

const skip = chromiumSkipReason();

describe('dashboard against a fake cluster', { skip: skip ?? false }, () => {
  let browser: Browser | undefined;
  let page: Page;
  before(async () => {
    browser = await launchChromium();
    page = await browser.newPage();
  });
  after(async () => {
    await browser?.close();
  });

  /** Loads the page from n1 of a fresh fake cluster (navigating away ends the previous page's scripts). */
  async function withDashboard(
    options: FakeClusterOptions,
    run: (page: Page, cluster: FakeAdminCluster) => Promise<void>,
  ): Promise<void> {
    const cluster = await FakeAdminCluster.start(options);
    try {
      await page.goto(`${cluster.adminUrl('n1')}/`, { waitUntil: 'domcontentloaded' });
      await run(page, cluster);
    } finally {
      await page.goto('about:blank');
      await cluster.stop();
    }
  }

  const card = (page: Page, name: string) =>
    page.locator(`[data-testid="member-card"][data-member="${name}"]`);

  test('shows every member, its role as text, and exactly one leader', async () => {
    await withDashboard({}, async (page) => {
      await waitForHealthyView(page, 3, SHOW_TIMEOUT_MS);
      assert.equal(await shownLeader(page), 'n1');
      assert.equal(await card(page, 'n1').getByTestId('member-role').textContent(), 'leader');
      assert.equal(await card(page, 'n2').getByTestId('member-role').textContent(), 'follower');
      assert.equal(await card(page, 'n3').getByTestId('member-lag').textContent(), '0 entries');
      assert.equal(await page.getByTestId('members-up').textContent(), '3');
      const elections = await page.getByTestId('election-table').locator('tbody tr').allTextContents();
      assert.deepEqual(elections.length, 1);
      assert.match(elections[0] ?? '', /^2n1/);
      // n1 sends heartbeats to n2 and n3, each answers n1.
      assert.equal(await page.getByTestId('rate-table').locator('tbody tr').count(), 4);
      assert.equal(await page.getByTestId('rate-graph').locator('svg line').count(), 2);
      await saveScreenshot(page, 'fake-cluster');
    });
  });

  test("Kill on the leader's card shows another leader, announces it, and Restart brings the member back", async () => {
    await withDashboard({}, async (page, cluster) => {
      await waitForHealthyView(page, 3, SHOW_TIMEOUT_MS);
      await card(page, 'n1').getByTestId('kill').click();
      const leader = await waitForNewLeader(page, 'n1', SHOW_TIMEOUT_MS);
      assert.equal(leader, 'n2');
      assert.equal(await card(page, 'n1').getAttribute('data-status'), 'down');
      assert.equal(await card(page, 'n1').getByTestId('member-role').textContent(), 'unknown');
      assert.match((await page.getByTestId('announcer').textContent()) ?? '', /Leader is now n2 \(term 3\)/);
      // The request went through a member other than the one being killed (the page was served by n1).
      assert.deepEqual(
        cluster.devRequests.map((request) => request.path),
        ['kill?member=n1'],
      );
      assert.notEqual(cluster.devRequests[0]?.via, 'n1');
      await saveScreenshot(page, 'fake-leader-killed');
      await card(page, 'n1').getByTestId('restart').click();
      await waitForHealthyView(page, 3, SHOW_TIMEOUT_MS);
      assert.equal(await shownLeader(page), 'n2');
      assert.equal(await page.getByTestId('election-table').locator('tbody tr').count(), 2);
    });
  });

  test('Isolate the leader shows the cut-off leader as stale beside the new one; Heal ends it', async () => {
    await withDashboard({}, async (page, cluster) => {
      await waitForHealthyView(page, 3, SHOW_TIMEOUT_MS);
      await page.getByTestId('isolate-leader').click();
      assert.equal(await waitForNewLeader(page, 'n1', SHOW_TIMEOUT_MS), 'n2');
      assert.deepEqual(JSON.parse(cluster.devRequests[0]?.body ?? '{}'), { groups: [['n1'], ['n2', 'n3']] });
      await page.waitForFunction(
        `document.querySelector('[data-member="n1"] [data-testid="member-role"]').textContent === 'stale leader'`,
        undefined,
        { timeout: SHOW_TIMEOUT_MS },
      );
      await saveScreenshot(page, 'fake-leader-isolated');
      await page.getByTestId('heal').click();
      await page.waitForFunction(
        `document.querySelector('[data-member="n1"] [data-testid="member-role"]').textContent === 'follower'`,
        undefined,
        { timeout: SHOW_TIMEOUT_MS },
      );
      assert.equal(cluster.devRequests.at(-1)?.path, 'heal');
    });
  });

  test('the keys browser lists keys under a prefix and the watch tail shows new changes under it', async () => {
    await withDashboard({}, async (page, cluster) => {
      cluster.put('app/a', '1');
      cluster.put('app/b', '2');
      cluster.put('other', 'x');
      await page.getByLabel('Key prefix').first().fill('app/');
      await page.getByTestId('keys-form').getByRole('button', { name: 'Search' }).click();
      await page.getByTestId('keys-status').filter({ hasText: '2 keys at revision 4' }).waitFor();
      const rows = await page.getByTestId('keys-table').locator('tbody tr').allTextContents();
      assert.equal(rows.length, 2);
      assert.match(rows[0] ?? '', /^app\/a1/);

      await page.locator('#watch-prefix').fill('app/');
      await page.getByTestId('watch-start').click();
      await page.getByTestId('watch-status').filter({ hasText: 'Watching "app/"' }).waitFor();
      cluster.put('other', 'y');
      cluster.put('app/c', '3');
      await page.getByTestId('watch-event').first().waitFor();
      const events = await page.getByTestId('watch-event').allTextContents();
      assert.deepEqual(events, ['PUT app/c = 3 (revision 6)']);
      await saveScreenshot(page, 'fake-keys-and-watch');
    });
  });

  test('a Kill button is reached with Tab, pressed with Space, and shows a visible focus ring', async () => {
    await withDashboard({}, async (page) => {
      await waitForHealthyView(page, 3, SHOW_TIMEOUT_MS);
      const focusedKillOf = `(() => {
        const active = document.activeElement;
        return active && active.dataset.testid === 'kill' ? active.closest('[data-member]').dataset.member : '';
      })()`;
      let presses = 0;
      while ((await page.evaluate(focusedKillOf)) !== 'n2') {
        assert.ok(++presses <= MAX_TAB_PRESSES, "Tab never reached n2's Kill button");
        await page.keyboard.press('Tab');
      }
      const outline = await page.evaluate('getComputedStyle(document.activeElement).outlineStyle');
      assert.equal(outline, 'solid');
      const accessibleName = await page.evaluate('document.activeElement.textContent');
      assert.equal(accessibleName, 'Kill n2');
      await page.keyboard.press('Space');
      await page.waitForFunction(
        `document.querySelector('[data-member="n2"]').dataset.status === 'down'`,
        undefined,
        {
          timeout: SHOW_TIMEOUT_MS,
        },
      );
      assert.equal(await shownLeader(page), 'n1');
    });
  });

  test('a member first listed without a name gets one card, named once it publishes its name', async () => {
    await withDashboard({ n2NamelessForMs: 60_000 }, async (page, cluster) => {
      await waitForHealthyView(page, 3, SHOW_TIMEOUT_MS);
      // n2's own stream names it at once; n1 and n3 still list it nameless. Still three cards.
      assert.equal(await page.getByTestId('member-card').count(), 3);
      assert.equal(await card(page, 'n2').getByTestId('member-role').textContent(), 'follower');
      await cluster.kill('n2');
      await page.waitForFunction(
        `document.querySelector('[data-member="n2"]').dataset.status === 'down'`,
        undefined,
        {
          timeout: SHOW_TIMEOUT_MS,
        },
      );
      assert.equal(await page.getByTestId('member-card').count(), 3);
    });
  });

  test('fault controls are hidden for a cluster not started by synod dev', async () => {
    await withDashboard({ dev: false }, async (page) => {
      await waitForHealthyView(page, 3, SHOW_TIMEOUT_MS);
      assert.equal(await page.getByTestId('fault-controls').isHidden(), true);
      assert.equal(await page.getByTestId('kill').count(), 3);
      for (const button of await page.getByTestId('kill').all()) assert.equal(await button.isHidden(), true);
    });
  });
});
