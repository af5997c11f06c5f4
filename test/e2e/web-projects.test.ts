/**
 * The Projects and Spider pages in real Chromium against a real server and a
 * real agent: create a project, upload eggs through the page (version from
 * the file name, a broken egg's error in place, a spider gone missing),
 * spider settings (a bad value in place, update_mask of the changed fields),
 * a trigger with its fire-time preview, fire history, enable/disable and delete, a webhook
 * set and deleted, a run that succeeds and a slow job cancelled from the
 * jobs table, deleting a version and the project, a 100-character project
 * name and a 360 px window. Browser tests run on SQLite only, to stay fast:
 * the API rules behind these pages are tested on both databases in
 * test/integration/.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { parseDatabaseUrl } from '../../src/config/database-url.js';
import { parseCron } from '../../src/domain/triggers/cron-expression.js';
import { nextFireTime } from '../../src/domain/triggers/cron-schedule.js';
import { openDatabase } from '../../src/storage/database.js';
import { recordFire } from '../../src/storage/triggers-repo.js';
import { createNodeKey } from '../support/agent-jobs.js';
import { startPageSite, type PageSite } from '../support/agent-pages.js';
import { agentWorkDir, registerAgent, removeAgentDir, startTestAgent, type TestAgent } from '../support/agent-process.js';
import { buildEgg, writeTempFile } from '../support/eggs.js';
import { request, type JsonObject } from '../support/http-client.js';
import { ADMIN, ALICE, BOB, authOf, quotesEgg, quotesEggWithoutGamma, useServer } from '../support/http-harness.js';
import { NARROW, openPage, screenshot, scrollsSideways, signIn, useBrowser } from '../support/browser.js';

const P = 'quotes';
const JOB_DEADLINE_MS = 60_000;

describe('web UI projects and spider pages in Chromium (SQLite)', () => {
  const h = useServer('sqlite', { users: [ADMIN, ALICE, BOB] });
  const browser = useBrowser();
  const server = () => h().server;
  let agent: TestAgent | undefined;
  const sites: PageSite[] = [];

  before(async () => {
    const key = await createNodeKey(server(), authOf(ADMIN));
    const workDir = await agentWorkDir();
    const reg = await registerAgent({ servers: [server().address], workDir }, `${key.name}\n${key.secret}\n`);
    assert.equal(reg.code, 0, reg.stderr);
    agent = await startTestAgent({ servers: [server().address], workDir, settings: { slots: '3' } });
    await agent.waitForLog((e) => e.msg === 'session accepted', 30_000, 'SessionAccepted');
  });
  after(async () => {
    for (const s of sites) await s.close();
    await agent?.stop();
    if (agent) await removeAgentDir(agent);
  });

  const api = async (method: string, path: string, json?: unknown): Promise<JsonObject> => {
    const reply = await request(server(), method, path, { auth: authOf(ALICE), json });
    assert.equal(reply.status, 200, `${method} ${path}: ${reply.text}`);
    return reply.json;
  };
  const row = (page: Page, table: string, text: string) => page.getByRole('table', { name: table }).getByRole('row').filter({ hasText: text });

  it('creates a project, uploads eggs through the page (version from the file name, broken egg in place), lists versions and spiders', async () => {
    const { page, close } = await openPage(browser(), server());
    try {
      await signIn(page, ALICE, '/ui/projects');
      await page.getByRole('heading', { name: 'Projects', level: 1 }).waitFor();
      await page.getByText('No projects yet.').waitFor();
      await page.getByText('scrapydd deploy').waitFor();

      await page.getByLabel('Project name').fill(P);
      await page.getByRole('button', { name: 'Create project' }).click();
      await page.waitForURL(/\/ui\/projects\/quotes$/);
      await page.getByRole('heading', { name: P, level: 1 }).waitFor();
      await page.getByText('No spiders yet').waitFor();
      // The same name again: the API's error in place.
      await page.goto('/ui/projects');
      await page.getByLabel('Project name').fill(P);
      await page.getByRole('button', { name: 'Create project' }).click();
      await page.getByRole('alert').filter({ hasText: new RegExp(`project '${P}' already exists`, 'i') }).waitFor();

      await page.getByRole('link', { name: P }).click();
      await page.getByRole('heading', { name: P, level: 1 }).waitFor();
      await page.getByLabel('Egg file').setInputFiles(await writeTempFile(await quotesEgg(), 'quotes-1.2.egg'));
      assert.equal(await page.getByLabel('Version', { exact: true }).inputValue(), '1.2', 'the version comes from the file name');
      await page.getByRole('button', { name: 'Upload version' }).click();
      await row(page, 'Versions', '1.2').waitFor();
      assert.match(await row(page, 'Versions', '1.2').innerText(), /alpha, beta, gamma/);
      for (const s of ['alpha', 'beta', 'gamma']) await page.getByRole('table', { name: 'Spiders' }).getByRole('link', { name: s }).waitFor();

      // A broken egg: the server's spider-listing error under the file field; nothing stored.
      const broken = await writeTempFile(await readFile(await buildEgg('broken_import')), 'broken.egg');
      await page.getByLabel('Egg file').setInputFiles(broken);
      assert.match(await page.getByLabel('Version', { exact: true }).inputValue(), /^\d{10}$/, 'no version in the name: the time');
      await page.getByRole('button', { name: 'Upload version' }).click();
      await page.locator('.field-error').filter({ hasText: /ModuleNotFoundError: No module named 'scrapydd_fixture_missing_dependency'/ }).waitFor();
      assert.equal(((await api('GET', `/v1/projects/${P}`)).versionCount), 1);

      // A version without gamma: gamma is marked missing.
      await page.getByLabel('Egg file').setInputFiles(await writeTempFile(await quotesEggWithoutGamma(), 'quotes-1.3.egg'));
      assert.equal(await page.getByLabel('Version', { exact: true }).inputValue(), '1.3');
      await page.getByRole('button', { name: 'Upload version' }).click();
      await row(page, 'Versions', '1.3').waitFor();
      await row(page, 'Spiders', 'gamma').getByText('missing').waitFor();
      await row(page, 'Spiders', 'alpha').getByText('ready').waitFor();
      await row(page, 'Versions', '1.3').getByText('latest').waitFor();
      await screenshot(page, 'projects-project');

      await page.getByRole('link', { name: '← All projects' }).click();
      const listed = row(page, 'Projects', P);
      await listed.waitFor();
      const cells = await listed.getByRole('cell').allInnerTexts();
      assert.deepEqual(cells.slice(0, 5), [P, ALICE.name, '1.3', '2', '2'], 'name, owner, latest version, spiders, versions');
      await screenshot(page, 'projects-list');
    } finally {
      await close();
    }
  });

  it('spider settings (bad value in place, only changed fields sent), a trigger with its preview, a webhook', async () => {
    const { page, close } = await openPage(browser(), server());
    try {
      await signIn(page, ALICE, `/ui/projects/${P}/spiders/alpha`);
      await page.getByRole('heading', { name: 'alpha', level: 1 }).waitFor();
      await page.getByText('No jobs yet').waitFor();

      const settings = page.getByRole('form', { name: 'Spider settings' });
      await settings.getByLabel('Concurrency').fill('5000');
      await settings.getByRole('button', { name: 'Save settings' }).click();
      await settings.locator('.field-invalid').filter({ hasText: 'Concurrency' }).getByRole('alert').filter({ hasText: 'settings.concurrency must be 1..1000' }).waitFor();
      assert.equal(((await api('GET', `/v1/projects/${P}/spiders/alpha`)).settings as JsonObject).concurrency, 1, 'nothing changed');

      await settings.getByLabel('Concurrency').fill('2');
      await settings.getByLabel('Disabled').check();
      const patch = page.waitForRequest((r) => r.method() === 'PATCH' && r.url().includes('/spiders/alpha'));
      await settings.getByRole('button', { name: 'Save settings' }).click();
      const sent = await patch;
      assert.equal(new URL(sent.url()).searchParams.get('updateMask'), 'settings.concurrency,settings.disabled');
      assert.deepEqual(sent.postDataJSON(), { settings: { concurrency: 2, disabled: true } });
      await page.getByText('This spider is disabled').waitFor();
      const stored = (await api('GET', `/v1/projects/${P}/spiders/alpha`)).settings as JsonObject;
      assert.deepEqual([stored.concurrency, stored.disabled], [2, true]);
      await settings.getByLabel('Disabled').uncheck();
      await settings.getByRole('button', { name: 'Save settings' }).click();
      await page.getByText('This spider is disabled').waitFor({ state: 'detached' });

      // Trigger: preview of the next five fire times, computed with the server's evaluator.
      const add = page.getByRole('form', { name: 'Add a trigger' });
      await add.getByLabel('Time zone').fill('Asia/Kolkata');
      await add.getByLabel('Cron').fill('61 * * * *');
      await add.locator('.cron-preview').getByText(/minute/).waitFor();
      await add.getByRole('button', { name: 'Add trigger', exact: true }).click();
      await add.locator('.field-invalid').filter({ hasText: 'Cron' }).getByRole('alert').waitFor();

      await add.getByLabel('Cron').fill('30 6 * * *');
      const times = add.locator('.cron-preview li time');
      await times.nth(4).waitFor();
      assert.equal(await times.count(), 5);
      const expected = nextFireTime(parseCron('30 6 * * *'), 'Asia/Kolkata', new Date())!;
      assert.equal(await times.first().getAttribute('datetime'), expected.toISOString());
      assert.match(await times.first().innerText(), /06:30/);
      await add.getByRole('button', { name: 'Add trigger', exact: true }).click();
      const trigger = row(page, 'Triggers', '30 6 * * *');
      await trigger.getByText('enabled').waitFor();
      await trigger.getByText(/^in \d+ (h|min)$/).waitFor();
      const listed = (await api('GET', `/v1/projects/${P}/spiders/alpha/triggers`)).triggers as JsonObject[];
      assert.equal(listed.length, 1);
      assert.equal(listed[0]!.timeZone, 'Asia/Kolkata');
      assert.equal(Date.parse(listed[0]!.nextFireTime as string), expected.getTime(), 'the server agrees with the preview');

      // Its fire history: two fire times recorded as the trigger clock records them, newest first, in the trigger's zone.
      const triggerId = String(listed[0]!.name).split('/').pop()!;
      const db = await openDatabase(parseDatabaseUrl(h().db.url));
      try {
        await recordFire(db, { triggerId, fireTime: '2030-01-01T01:00:00.000Z', outcome: 'SPIDER_DISABLED', reason: 'the spider is disabled', jobId: undefined });
        await recordFire(db, { triggerId, fireTime: '2030-01-02T01:00:00.000Z', outcome: 'QUEUED', reason: '', jobId: '123456789' });
      } finally {
        await db.close();
      }
      await trigger.getByRole('button', { name: 'Fire history of trigger 30 6 * * *' }).click();
      const history = page.getByRole('region', { name: 'Fire history of trigger 30 6 * * *' });
      const fires = history.getByRole('table', { name: 'Fire history' }).getByRole('row');
      await fires.nth(2).waitFor();
      assert.equal(await fires.count(), 3, 'a header and two fires');
      assert.match(await fires.nth(1).innerText(), /Jan 2\b.*2030.*06:30.*queued a job.*job pruned since/s);
      assert.match(await fires.nth(2).innerText(), /Jan 1\b.*2030.*06:30.*skipped: disabled.*the spider is disabled/s);
      await trigger.getByText('queued a job').waitFor(); // the list's "Last fire" was reloaded with the history
      await history.scrollIntoViewIfNeeded();
      await screenshot(page, 'projects-trigger-history');
      await history.getByRole('button', { name: 'Close' }).click();
      await history.waitFor({ state: 'detached' });

      await trigger.getByRole('button', { name: 'Disable trigger 30 6 * * *' }).click();
      await trigger.getByText('never (disabled)').waitFor();
      assert.equal(((await api('GET', `/v1/projects/${P}/spiders/alpha/triggers`)).triggers as JsonObject[])[0]!.enabled, false);
      await trigger.getByRole('button', { name: 'Delete trigger 30 6 * * *' }).click();
      await page.getByRole('dialog', { name: 'Delete trigger?' }).getByRole('button', { name: 'Delete trigger' }).click();
      await page.getByText('No triggers').waitFor();

      // Webhook: a refused URL in place, set, shown with its status, deleted.
      const hook = page.getByRole('form', { name: 'Set the webhook' });
      await page.getByText('No webhook').waitFor();
      await hook.getByLabel('Payload URL').fill('https://user:secret@example.com/hook');
      await hook.getByRole('button', { name: 'Set webhook' }).click();
      await hook.getByRole('alert').waitFor();
      await hook.getByLabel('Payload URL').fill('https://example.com/hook?token=abc');
      await hook.getByRole('button', { name: 'Set webhook' }).click();
      await page.locator('.webhook-facts').getByText('https://example.com/hook?token=abc').waitFor();
      await page.locator('.webhook-facts').getByText('none yet').waitFor();
      await page.getByRole('button', { name: 'Delete webhook' }).click();
      await page.getByRole('dialog', { name: 'Delete webhook?' }).getByRole('button', { name: 'Delete webhook' }).click();
      await page.getByText('No webhook').waitFor();
      const gone = await request(server(), 'GET', `/v1/projects/${P}/spiders/alpha/webhook`, { auth: authOf(ALICE) });
      assert.equal(gone.status, 404);
    } finally {
      await close();
    }
  });

  it('runs a spider on the real agent: the new job is shown and succeeds in the jobs table; a slow job is cancelled from the table', { timeout: 120_000 }, async () => {
    const fast = await startPageSite(3);
    const slow = await startPageSite(200, { delayMs: 400 });
    sites.push(fast, slow);
    const { page, close } = await openPage(browser(), server());
    try {
      await signIn(page, ALICE, `/ui/projects/${P}/spiders/alpha`);
      const run = page.getByRole('form', { name: 'Run the spider' });
      await run.getByRole('button', { name: 'Add argument' }).click();
      await run.getByLabel('Argument 1 name').fill('url');
      await run.getByLabel('Argument 1 value').fill(fast.url);
      await run.getByRole('button', { name: 'Run spider' }).click();
      await page.waitForURL(/\/ui\/projects\/quotes\/spiders\/alpha\/jobs\/\d+$/);
      const id = page.url().split('/').pop()!;
      await page.goBack();
      const job = row(page, 'Jobs of this spider', id);
      await job.waitFor();
      await job.getByText('Succeeded').waitFor({ timeout: JOB_DEADLINE_MS });
      assert.equal(await job.getByRole('cell').nth(5).innerText(), '3', 'three items');
      assert.equal(await job.getByRole('link', { name: `Log of job ${id}` }).getAttribute('href'), `/logs/${P}/alpha/${id}.log`);
      await job.getByRole('link', { name: `Items of job ${id}` }).waitFor();
      assert.equal(await job.getByRole('button', { name: /Cancel/ }).count(), 0, 'no Cancel for a finished job');
      await screenshot(page, 'projects-spider');

      await page.goto(`/ui/projects/${P}/spiders/beta`);
      await page.getByRole('heading', { name: 'beta', level: 1 }).waitFor();
      await run.getByRole('button', { name: 'Add argument' }).click();
      await run.getByLabel('Argument 1 name').fill('url');
      await run.getByLabel('Argument 1 value').fill(slow.url);
      await run.getByRole('button', { name: 'Run spider' }).click();
      await page.waitForURL(/\/spiders\/beta\/jobs\/\d+$/);
      const slowId = page.url().split('/').pop()!;
      await page.goBack();
      const slowJob = row(page, 'Jobs of this spider', slowId);
      await slowJob.getByText('Running').waitFor({ timeout: JOB_DEADLINE_MS });
      await slowJob.getByRole('button', { name: `Cancel job ${slowId}` }).click();
      await page.getByRole('dialog', { name: 'Cancel job?' }).getByRole('button', { name: 'Cancel job' }).click();
      await slowJob.getByText('Cancelled').waitFor({ timeout: JOB_DEADLINE_MS });
      const cancelled = await api('GET', `/v1/projects/${P}/spiders/beta/jobs/${slowId}`);
      assert.equal(cancelled.state, 'CANCELLED');
    } finally {
      await close();
    }
  });

  it("another user sees nothing of alice's project: not in the list, refused on its pages", async () => {
    const { page, close } = await openPage(browser(), server());
    try {
      await signIn(page, BOB, '/ui/projects');
      await page.getByText('No projects yet.').waitFor();
      await page.goto(`/ui/projects/${P}`);
      await page.getByRole('alert').filter({ hasText: /no access to project 'quotes'/i }).first().waitFor();
      assert.equal(await page.getByRole('table').count(), 0, 'no versions or spiders of hers');
      await page.goto(`/ui/projects/${P}/spiders/alpha`);
      await page.getByRole('alert').filter({ hasText: /no access to project 'quotes'/i }).first().waitFor();
      assert.equal(await page.getByRole('form', { name: 'Run the spider' }).count(), 0);
    } finally {
      await close();
    }
  });

  it('a 100-character project name and a 360 px window do not break the pages; deletes a version and the project', async () => {
    const long = `p${'x'.repeat(98)}z`;
    assert.equal(long.length, 100);
    const { page, close } = await openPage(browser(), server(), NARROW);
    try {
      await signIn(page, ALICE, '/ui/projects');
      await page.getByLabel('Project name').fill(long);
      await page.getByRole('button', { name: 'Create project' }).click();
      await page.getByRole('heading', { name: long, level: 1 }).waitFor();
      await page.getByLabel('Egg file').setInputFiles(await writeTempFile(await quotesEgg(), 'quotes-2.0.egg'));
      await page.getByRole('button', { name: 'Upload version' }).click();
      await row(page, 'Versions', '2.0').waitFor();
      assert.equal(await scrollsSideways(page), false, 'project page at 360 px');
      await page.getByRole('table', { name: 'Spiders' }).getByRole('link', { name: 'alpha' }).click();
      await page.getByRole('heading', { name: 'alpha', level: 1 }).waitFor();
      await page.getByText('No jobs yet').waitFor();
      assert.equal(await scrollsSideways(page), false, 'spider page at 360 px');
      await screenshot(page, 'projects-spider-narrow');
      await page.goto('/ui/projects');
      await row(page, 'Projects', long).waitFor();
      assert.equal(await scrollsSideways(page), false, 'projects list at 360 px');
      await screenshot(page, 'projects-list-narrow');

      await page.goto(`/ui/projects/${P}`);
      await row(page, 'Versions', '1.3').getByRole('button', { name: 'Delete version 1.3' }).click();
      await page.getByRole('dialog', { name: 'Delete version?' }).getByRole('button', { name: 'Delete version' }).click();
      await row(page, 'Versions', '1.3').waitFor({ state: 'detached' });
      await row(page, 'Versions', '1.2').getByText('latest').waitFor();
      assert.equal((await api('GET', `/v1/projects/${P}`)).latestVersion, `projects/${P}/versions/1.2`);

      await page.getByRole('button', { name: 'Delete project' }).click();
      const dialog = page.getByRole('dialog', { name: 'Delete project?' });
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'hidden' });
      await page.getByRole('button', { name: 'Delete project' }).click();
      await dialog.getByRole('button', { name: 'Delete project' }).click();
      await page.waitForURL(/\/ui\/projects$/);
      await row(page, 'Projects', long).waitFor();
      assert.equal(await row(page, 'Projects', `${P}`).filter({ hasNotText: long }).count(), 0);
      const gone = await request(server(), 'GET', `/v1/projects/${P}`, { auth: authOf(ALICE) });
      assert.equal(gone.status, 404);
    } finally {
      await close();
    }
  });
});
