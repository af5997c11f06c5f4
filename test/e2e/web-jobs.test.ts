/**
 * The jobs pages in real Chromium against a real server and a real agent
 * (authentication off, so the agent needs no node key): the dashboard of a
 * fresh install, then its counts, charts and last runs; a running job's log
 * followed live until the job succeeds; its items previewed and downloaded
 * as JSON lines, JSON and CSV; a running job cancelled from its page; the
 * job list's filters and pages over seeded jobs; a 50,000-line log; the
 * narrow window. SQLite only, to stay fast: the server side (downloads, log
 * parts, GetJobStats) is tested on both databases in
 * test/integration/job-downloads.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseDatabaseUrl } from '../../src/config/database-url.js';
import { openDatabase } from '../../src/storage/database.js';
import * as jobsRepo from '../../src/storage/jobs-repo.js';
import * as projectsRepo from '../../src/storage/projects-repo.js';
import { startPageSite, type PageSite } from '../support/agent-pages.js';
import { schedule, uploadProject } from '../support/agent-jobs.js';
import { removeAgentDir, startTestAgent, type TestAgent } from '../support/agent-process.js';
import { NARROW, openPage, screenshot, scrollsSideways, useBrowser } from '../support/browser.js';
import { useServer } from '../support/http-harness.js';
import { ids } from '../support/job-rows.js';

const B = 'behaviours';
const RUN_MS = 40_000;
const jobUrl = (spider: string, id: string) => `/ui/projects/${B}/spiders/${spider}/jobs/${id}`;

describe('web UI jobs, job and dashboard pages in Chromium with a real agent (SQLite)', () => {
  const h = useServer('sqlite', { settings: { enable_authentication: 'false' } });
  const browser = useBrowser();
  const server = () => h().server;
  let agent: TestAgent | undefined;
  let site: PageSite;

  before(async () => {
    site = await startPageSite(1);
  });
  after(async () => {
    await agent?.stop();
    if (agent) await removeAgentDir(agent);
    await site?.close();
  });

  it('explains a fresh install on the dashboard, then deploys and starts an agent', async () => {
    const { page, close } = await openPage(browser(), server());
    try {
      await page.goto('/ui');
      await page.getByRole('heading', { name: 'Nothing here yet' }).waitFor();
      await page.getByText('Deploy a project.').waitFor();
      await page.getByText('Start an agent').waitFor();
      await screenshot(page, 'jobs-dashboard-empty');
    } finally {
      await close();
    }
    await uploadProject(server(), undefined, B);
    agent = await startTestAgent({ servers: [server().address], settings: { slots: '3' } });
    await agent.waitForLog((e) => e.msg === 'session accepted', 30_000, 'SessionAccepted');
  });

  it('follows a running job\'s log without reload until it succeeds, then previews and downloads its items', async () => {
    const id = await schedule(server(), undefined, 'ticker', { url: site.url, count: '20', interval: '0.3' }, B);
    const { page, close } = await openPage(browser(), server());
    try {
      await page.goto(jobUrl('ticker', id));
      await page.getByRole('heading', { name: `Job ${id}`, level: 1 }).waitFor();
      await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
      const log = page.getByTestId('log');
      await log.getByText(/tick 2\b/).waitFor({ timeout: RUN_MS });
      // Running, and the log grows while we watch.
      await page.locator('.job-facts').getByText('Running', { exact: true }).waitFor();
      await page.getByTestId('log-status').getByText(/Following the log/).waitFor();
      await log.getByText(/tick 12\b/).waitFor({ timeout: RUN_MS });
      await screenshot(page, 'jobs-job-running');
      await page.locator('.job-facts').getByText('Succeeded', { exact: true }).waitFor({ timeout: RUN_MS });
      await page.getByTestId('log-status').getByText(/Not following/).waitFor();
      await log.getByText(/tick 19\b/).waitFor();
      assert.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 42, 'no reload');

      // Items: a preview table of the first ones and the three downloads.
      const preview = page.getByRole('table', { name: 'First items' });
      await preview.getByRole('columnheader', { name: 'text' }).waitFor();
      assert.equal(await preview.locator('tbody tr').count(), 20);
      await page.getByRole('table', { name: 'Scrapy stats' }).getByText('item_scraped_count').waitFor();
      await screenshot(page, 'jobs-job');

      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'CSV' }).click()]);
      assert.equal(download.suggestedFilename(), `${B}-ticker-${id}.csv`);
      // With the page's session (here: authentication off), as the links do.
      const got = await page.evaluate(async (items: string) => ({
        jsonl: await (await fetch(`${items}?format=jsonl`)).text(),
        json: await (await fetch(`${items}?format=json`)).text(),
        csv: await (await fetch(`${items}?format=csv`)).text(),
      }), `/items/${B}/ticker/${id}.jl`);
      const expected = Array.from({ length: 20 }, (_, n) => ({ n, text: `tick ${n}, "quoted"`, nested: { n } }));
      assert.deepEqual(got.jsonl.trim().split('\n').map((l) => JSON.parse(l)), expected);
      assert.deepEqual(JSON.parse(got.json), expected);
      const csv = got.csv.split('\r\n');
      assert.equal(csv[0], 'n,text,nested');
      assert.equal(csv[1], '0,"tick 0, ""quoted""","{""n"":0}"');
      assert.equal(csv.length, 22); // header, 20 rows, '' after the last CRLF
    } finally {
      await close();
    }
  });

  it('cancels a running job from its page after confirmation', async () => {
    const id = await schedule(server(), undefined, 'ticker', { url: site.url, count: '60', interval: '0.2' }, B);
    const { page, close } = await openPage(browser(), server());
    try {
      await page.goto(jobUrl('ticker', id));
      await page.getByTestId('log').getByText(/tick 1\b/).waitFor({ timeout: RUN_MS });
      await page.getByRole('button', { name: 'Cancel job' }).click();
      const dialog = page.getByRole('dialog', { name: 'Cancel this job?' });
      await dialog.waitFor();
      await dialog.getByRole('button', { name: 'Cancel job' }).click();
      await dialog.waitFor({ state: 'hidden' });
      await page.locator('.job-facts').getByText(/^(Cancelling|Cancelled)$/).waitFor();
      await page.locator('.job-facts').getByText('Cancelled', { exact: true }).waitFor({ timeout: RUN_MS });
      assert.equal(await page.getByRole('button', { name: 'Cancel job' }).count(), 0, 'no Cancel for an ended job');
    } finally {
      await close();
    }
  });

  it('filters the job list by state and spider, keeps filters in the URL, and pages through 55 jobs', async () => {
    await seedJobs(h().db.url);
    const { page, close } = await openPage(browser(), server());
    try {
      await page.goto('/ui/jobs');
      await page.getByRole('heading', { name: 'Jobs', level: 1 }).waitFor();
      const table = page.getByRole('table', { name: 'Jobs' });
      await table.locator('tbody tr').first().waitFor();
      await page.getByLabel('State').selectOption('FAILED');
      await page.waitForURL(/\/ui\/jobs\?state=FAILED$/);
      // The unfiltered rows stay until the filtered page has loaded.
      await table.locator('tbody tr').nth(5).waitFor({ state: 'detached' });
      await table.locator('tbody tr').nth(4).waitFor();
      assert.equal(await table.locator('tbody tr').count(), 5);
      assert.equal(await table.getByText('Failed', { exact: true }).count(), 5);
      await screenshot(page, 'jobs-list');

      await page.getByLabel('State').selectOption('');
      await page.getByLabel('Project').fill(B);
      await page.getByLabel('Spider').fill('warning');
      await page.getByRole('button', { name: 'Apply' }).click();
      await page.waitForURL(/\/ui\/jobs\?project=behaviours&spider=warning$/);
      await page.reload(); // the filters survive a reload
      await page.getByText('Page 1.').waitFor();
      assert.equal(await page.getByLabel('Spider').inputValue(), 'warning');
      await table.locator('tbody tr').nth(49).waitFor();
      assert.equal(await table.locator('tbody tr').count(), 50);
      await page.getByRole('button', { name: 'Next →' }).click();
      await page.getByText('Page 2.').waitFor();
      // "Page 2." shows with the new token; the rows follow when the page has loaded.
      await table.locator('tbody tr').nth(5).waitFor({ state: 'detached' });
      assert.equal(await table.locator('tbody tr').count(), 5);
      await page.getByRole('button', { name: '← Previous' }).click();
      await page.getByText('Page 1.').waitFor();
      await table.locator('tbody tr').nth(49).waitFor();

      await page.goto('/ui/jobs?state=LOST');
      await page.getByText('No jobs match these filters.').waitFor();
    } finally {
      await close();
    }
  });

  it('shows counts, hourly charts and each spider\'s last run on the dashboard', async () => {
    const { page, close } = await openPage(browser(), server());
    try {
      await page.goto('/ui');
      const cards = page.getByRole('list', { name: 'Job counts' });
      await cards.getByText('Finished (24 h)').waitFor();
      await cards.getByText('Online nodes').waitFor();
      await page.getByRole('img', { name: /Jobs started per hour: [\d,]+ jobs in the last 24 hours/ }).waitFor();
      await page.getByRole('img', { name: /Items scraped per hour: [\d,]+ items/ }).waitFor();
      const spiders = page.getByRole('table', { name: 'Spiders and their last runs' });
      const ticker = spiders.getByRole('row').filter({ hasText: `${B} / ticker` });
      await ticker.getByText('Cancelled', { exact: true }).waitFor();
      await spiders.getByRole('row').filter({ hasText: `${B} / many` }).getByText('never ran').waitFor();
      await screenshot(page, 'jobs-dashboard');
      await ticker.getByRole('link').last().click();
      await page.getByRole('heading', { name: /^Job / }).waitFor();
    } finally {
      await close();
    }
  });

  it('opens a job with a 50,000-line log quickly, showing only its tail with a way to earlier lines', async () => {
    const id = await seedHugeLog(h().db.url);
    const { page, close } = await openPage(browser(), server());
    try {
      const started = Date.now();
      await page.goto(jobUrl('raiser', id));
      await page.getByTestId('log').getByText('log line 49999').waitFor();
      assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
      const shown = await page.getByTestId('log').evaluate((el) => el.textContent!.split('\n').length);
      assert.ok(shown <= 1000, `${shown} lines rendered`);
      await page.getByTestId('log-status').getByText(/lines 49,001–50,000 of 50,000/).waitFor();
      await page.getByRole('button', { name: 'Load earlier lines' }).click();
      await page.getByTestId('log-status').getByText(/lines 48,001–50,000 of 50,000/).waitFor();
      await page.getByRole('link', { name: 'Full log' }).waitFor();
    } finally {
      await close();
    }
  });

  it('fits a 360 px window on the dashboard, the job list and a job page', async () => {
    const { page, close } = await openPage(browser(), server(), NARROW);
    try {
      await page.goto('/ui');
      await page.getByRole('list', { name: 'Job counts' }).waitFor();
      assert.equal(await scrollsSideways(page), false, 'dashboard');
      await screenshot(page, 'jobs-dashboard-narrow');
      await page.goto('/ui/jobs');
      await page.getByRole('table', { name: 'Jobs' }).waitFor();
      assert.equal(await scrollsSideways(page), false, 'jobs');
      await screenshot(page, 'jobs-list-narrow');
      const first = page.getByRole('table', { name: 'Jobs' }).locator('tbody tr a').first();
      await first.click();
      await page.getByRole('heading', { name: /^Job / }).waitFor();
      await page.getByTestId('log-status').waitFor();
      assert.equal(await scrollsSideways(page), false, 'job');
      await screenshot(page, 'jobs-job-narrow');
    } finally {
      await close();
    }
  });
});

/** 55 finished jobs of `warning` and 5 failed ones of `raiser`, a day old (tagged for no agent, so none runs). */
async function seedJobs(url: string): Promise<void> {
  const db = await openDatabase(parseDatabaseUrl(url));
  try {
    const project = (await projectsRepo.findProjectRef(db, B))!;
    const spiderId = async (name: string) => (await projectsRepo.findSpider(db, project.id, name))!.id;
    const [warning, raiser] = [await spiderId('warning'), await spiderId('raiser')];
    const day = Date.now() - 86_400_000;
    const jobs: jobsRepo.NewJob[] = Array.from({ length: 60 }, (_, i) => {
      const id = ids.next();
      return { id, key: `seeded-${i}-${'x'.repeat(i === 0 ? 300 : 0)}`, projectId: project.id, spiderId: i < 55 ? warning : raiser, versionName: 'v1',
        eggSha256: 'a'.repeat(64), eggSize: 1, settingsModule: 'behaviours.settings', priority: 0, tag: 'nowhere', args: {}, settings: {},
        timeoutSeconds: 60, attempt: 1, createTime: new Date(day + i * 1000).toISOString() };
    });
    await jobsRepo.insertJobs(db, jobs);
    for (const [i, j] of jobs.entries()) {
      await db.query(`UPDATE jobs SET state = ?, started_at = created_at, ended_at = created_at, item_count = ? WHERE id = ?`, [i < 55 ? 'SUCCEEDED' : 'FAILED', i, j.id]);
    }
  } finally {
    await db.close();
  }
}

/** A finished job of `raiser` whose log has 50,000 lines. */
async function seedHugeLog(url: string): Promise<string> {
  const db = await openDatabase(parseDatabaseUrl(url));
  try {
    const project = (await projectsRepo.findProjectRef(db, B))!;
    const spider = (await projectsRepo.findSpider(db, project.id, 'raiser'))!.id;
    const id = ids.next();
    await jobsRepo.insertJobs(db, [{ id, key: `huge-${id}`, projectId: project.id, spiderId: spider, versionName: 'v1', eggSha256: 'a'.repeat(64), eggSize: 1,
      settingsModule: 'behaviours.settings', priority: 0, tag: 'nowhere', args: {}, settings: {}, timeoutSeconds: 60, attempt: 1 }]);
    for (let first = 0; first < 50_000; first += 1000) {
      const lines = Array.from({ length: 1000 }, (_, i) => `2024-01-01 00:00:00 [huge] INFO: log line ${first + i} ${'-'.repeat(60)}`);
      await db.query('INSERT INTO job_chunks (job_id, kind, first_index, count, data) VALUES (?, ?, ?, ?, ?)', [id, 'log', first, 1000, JSON.stringify(lines)]);
    }
    await db.query(`UPDATE jobs SET state = 'SUCCEEDED', started_at = created_at, ended_at = created_at, log_line_count = 50000 WHERE id = ?`, [id]);
    return `huge-${id}`;
  } finally {
    await db.close();
  }
}
