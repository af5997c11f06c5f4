/**
 * The admin pages in real Chromium against a real server (SQLite only, to
 * stay fast; GetServerInfo and the user rules are checked on both databases
 * by test/integration/server-info.test.ts):
 * - Users: create a user in place (errors shown at the field), sign in as
 *   them, make them admin, disable them (they cannot sign in), enable again;
 * - Nodes: a node key made in the page, a REAL `scrapydd agent -g` fed the
 *   key and secret read from the page, the agent online with its tags and
 *   slots, renamed, deleted after the confirmation;
 * - Server settings: values shown, the SMTP password never sent;
 * - cross-user isolation: a user sees nothing of another user's project,
 *   spiders or jobs on the lists, the dashboard, direct URLs and the REST
 *   calls the pages make, and admin pages are 404 for them;
 * - the narrow window.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { agentWorkDir, registerAgent, startTestAgent, type TestAgent } from '../support/agent-process.js';
import { cookieHeader, NARROW, openPage, screenshot, scrollsSideways, signIn, useBrowser } from '../support/browser.js';
import { addVersion, request } from '../support/http-client.js';
import { ADMIN, ALICE, authOf, BOB, quotesEgg, useServer, type TestUser } from '../support/http-harness.js';

const SMTP_PASSWORD = 'Smtp-Secret-e2e-7731';
const DAVE: TestUser = { name: 'dave', password: 'dave-pass-123' };

async function confirm(page: Page, button: string): Promise<void> {
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  await dialog.getByRole('button', { name: button, exact: true }).click();
  await dialog.waitFor({ state: 'hidden' });
}

describe('web UI admin pages and cross-user isolation in Chromium (SQLite)', () => {
  const h = useServer('sqlite', {
    users: [ADMIN, ALICE, BOB],
    settings: { smtp_server: 'mail.example.com', smtp_user: 'mailer', smtp_passwd: SMTP_PASSWORD, heartbeat_interval: '1', node_timeout: '5' },
  });
  const browser = useBrowser();
  const server = () => h().server;

  it('creates a user, makes them admin, disables and enables them', async () => {
    const admin = await openPage(browser(), server());
    try {
      const page = admin.page;
      await signIn(page, ADMIN, '/ui/admin/users');
      await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
      const table = page.getByRole('table', { name: 'Users' });
      await table.getByRole('cell', { name: ALICE.name, exact: true }).waitFor();
      // The admin's own row has no buttons: no removing one's own admin role or disabling oneself.
      const own = table.getByRole('row').filter({ has: page.getByRole('cell', { name: ADMIN.name, exact: true }) });
      assert.equal(await own.getByRole('button').count(), 0);
      await own.getByText('You').waitFor();

      // Errors in place: a bad name and a weak password.
      await page.getByLabel('User name').fill('no spaces allowed');
      await page.getByLabel('Password', { exact: true }).fill(DAVE.password);
      await page.getByRole('button', { name: 'Create user' }).click();
      await page.locator('.field-error, .form-error').first().waitFor();
      await page.getByLabel('User name').fill(DAVE.name);
      await page.getByLabel('Password', { exact: true }).fill('x');
      await page.getByRole('button', { name: 'Create user' }).click();
      await page.locator('.field-invalid').getByRole('alert').waitFor();
      assert.equal(await table.getByRole('cell', { name: DAVE.name, exact: true }).count(), 0);

      await page.getByLabel('Password', { exact: true }).fill(DAVE.password);
      await page.getByRole('button', { name: 'Create user' }).click();
      const daveRow = table.getByRole('row').filter({ has: page.getByRole('cell', { name: DAVE.name, exact: true }) });
      await daveRow.waitFor();
      await daveRow.getByText('Active').waitFor();
      await screenshot(page, 'admin-users');

      // Dave signs in; no admin pages for him yet.
      const dave = await openPage(browser(), server());
      try {
        await signIn(dave.page, DAVE);
        await dave.page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
        assert.equal(await dave.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).count(), 0);
      } finally {
        await dave.close();
      }

      await daveRow.getByRole('button', { name: `Make admin ${DAVE.name}` }).click();
      await confirm(page, 'Make admin');
      await daveRow.getByText('Admin', { exact: true }).waitFor();
      const daveAdmin = await openPage(browser(), server());
      try {
        await signIn(daveAdmin.page, DAVE, '/ui/admin/users');
        await daveAdmin.page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
        await daveAdmin.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Nodes' }).waitFor();
      } finally {
        await daveAdmin.close();
      }

      await daveRow.getByRole('button', { name: `Remove admin from ${DAVE.name}` }).click();
      await confirm(page, 'Remove admin');
      await daveRow.getByRole('button', { name: `Make admin ${DAVE.name}` }).waitFor();

      await daveRow.getByRole('button', { name: `Disable ${DAVE.name}` }).click();
      await page.getByRole('dialog').getByText('can no longer sign in').waitFor();
      await confirm(page, 'Disable');
      await daveRow.getByText('Disabled').waitFor();

      const refused = await openPage(browser(), server());
      try {
        await refused.page.goto('/ui/sign-in');
        await refused.page.getByLabel('User name').fill(DAVE.name);
        await refused.page.getByLabel('Password', { exact: true }).fill(DAVE.password);
        await refused.page.getByRole('button', { name: 'Sign in' }).click();
        await refused.page.getByRole('alert').filter({ hasText: /disabled/i }).waitFor();
        assert.match(refused.page.url(), /\/ui\/sign-in/);
      } finally {
        await refused.close();
      }

      await daveRow.getByRole('button', { name: `Enable ${DAVE.name}` }).click();
      await confirm(page, 'Enable');
      await daveRow.getByText('Active').waitFor();
    } finally {
      await admin.close();
    }
  });

  it('registers a real agent with a node key from the page, shows it online, renames and deletes it', async () => {
    const { page, close } = await openPage(browser(), server());
    const workDir = await agentWorkDir();
    let agent: TestAgent | undefined;
    try {
      await signIn(page, ADMIN, '/ui/admin/nodes');
      await page.getByRole('heading', { name: 'Nodes', level: 1 }).waitFor();
      await page.getByText('No nodes yet.').waitFor();
      await page.getByLabel('Tags for the node (optional)').fill('from-key');
      await page.getByRole('button', { name: 'New node key' }).click();
      const key = (await page.getByTestId('node-key-id').textContent())!.trim();
      const secret = (await page.getByTestId('node-key-secret').textContent())!.trim();
      assert.match(key, /^\d+$/);
      assert.ok(secret.length >= 16, secret);
      assert.match((await page.getByTestId('node-key-command').textContent())!, /^scrapydd agent -g --server 127\.0\.0\.1:\d+$/);
      await page.getByRole('table', { name: 'Unused node keys' }).getByRole('cell', { name: key, exact: true }).waitFor();
      await screenshot(page, 'admin-nodes-key');

      const servers = [`127.0.0.1:${server().port}`];
      const settings = { tags: 'e2e-tag', slots: '3' };
      const registered = await registerAgent({ servers, workDir, settings }, `${key}\n${secret}\n`);
      assert.equal(registered.code, 0, registered.stderr);
      agent = await startTestAgent({ servers, workDir, settings });
      await agent.waitForLog((e) => e.msg === 'session accepted', 30_000, 'session accepted');

      await page.getByRole('button', { name: 'I have copied them' }).click();
      await page.getByRole('button', { name: 'Refresh' }).click();
      const table = page.getByRole('table', { name: 'Nodes' });
      const row = table.getByRole('row').filter({ hasText: 'Online' });
      await row.waitFor();
      await row.getByText('e2e-tag').waitFor();
      await row.getByText('from-key').waitFor();
      assert.equal((await row.getByRole('cell').nth(3).textContent())?.trim(), '3');
      const running = row.getByRole('link', { name: /running jobs on/ });
      assert.match((await running.getAttribute('href'))!, /^\/ui\/jobs\?node=\d+$/);
      // The used key is no longer listed.
      await page.getByText('No unused node keys.').waitFor();
      await screenshot(page, 'admin-nodes');

      await row.getByRole('button', { name: /^Rename / }).click();
      // Too long: the server's message under the field; then the longest allowed name.
      await page.getByLabel(/^New name for node/).fill('w'.repeat(101));
      await page.getByRole('button', { name: 'Save name' }).click();
      await page.locator('.rename-form .field-error').getByText(/must be 1-100 printable/i).waitFor();
      const longName = `worker-${'x'.repeat(93)}`;
      await page.getByLabel(/^New name for node/).fill(longName);
      await page.getByRole('button', { name: 'Save name' }).click();
      await table.getByText(longName).waitFor();
      assert.equal(await page.locator('.rename-form').count(), 0);
      assert.equal(await scrollsSideways(page), false, 'a 100-character node name widens the page');

      await table.getByRole('button', { name: `Delete ${longName}` }).click();
      await page.getByRole('dialog').getByText('disconnected at once').waitFor();
      await confirm(page, 'Delete node');
      await page.getByText('No nodes yet.').waitFor();
      const left = await request(server(), 'GET', '/v1/nodes', { auth: authOf(ADMIN) });
      assert.deepEqual(left.json.nodes ?? [], []);
    } finally {
      await agent?.stop();
      await rm(workDir, { recursive: true, force: true });
      await close();
    }
  });

  it('shows the server settings without the SMTP password', async () => {
    const { page, close } = await openPage(browser(), server());
    try {
      await signIn(page, ADMIN);
      const answer = page.waitForResponse((r) => new URL(r.url()).pathname === '/v1/server');
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
      const body = await (await answer).text();
      assert.ok(!body.includes(SMTP_PASSWORD), 'the SMTP password reached the browser');
      await page.getByRole('heading', { name: 'Server settings', level: 1 }).waitFor();
      const table = page.getByRole('table', { name: 'Server configuration keys' });
      const row = (key: string) => table.getByRole('row').filter({ has: page.getByRole('cell', { name: key, exact: true }) });
      await row('smtp_user').getByText('mailer').waitFor();
      await row('smtp_passwd').getByText('set (hidden)').waitFor();
      await row('jobs_to_keep').getByText('default', { exact: true }).waitFor();
      await row('bind_port').getByText(String(server().port)).waitFor();
      await page.locator('dl.facts').getByText('SQLite', { exact: true }).waitFor();
      assert.ok(!(await page.content()).includes(SMTP_PASSWORD));
      await screenshot(page, 'admin-settings');
    } finally {
      await close();
    }
  });

  it("shows a user nothing of another user's projects, spiders and jobs, and no admin pages", async () => {
    // Bob's project with a version and a (pending) job.
    const project = 'bob-private-proj';
    const version = 'bob-secret-v1';
    const upload = await addVersion(server(), authOf(BOB), project, version, await quotesEgg());
    assert.equal(upload.status, 200, upload.text);
    const run = await request(server(), 'POST', `/v1/projects/${project}/spiders/alpha:run`, { auth: authOf(BOB), json: {} });
    assert.equal(run.status, 200, run.text);
    const jobName = run.json.name as string;
    const jobId = jobName.split('/').pop()!;

    const { context, page, close } = await openPage(browser(), server());
    try {
      await signIn(page, ALICE);
      await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
      const nav = page.getByRole('navigation', { name: 'Main' });
      for (const label of ['Users', 'Nodes', 'Settings']) assert.equal(await nav.getByRole('link', { name: label }).count(), 0, label);

      const mainText = () => page.locator('#main').innerText();
      for (const path of ['/ui', '/ui/projects', '/ui/jobs', `/ui/jobs?node=1`]) {
        await page.goto(path);
        await page.getByRole('heading', { level: 1 }).waitFor();
        await page.locator('#main .loading').first().waitFor({ state: 'detached' });
        await page.locator('#main .loading').last().waitFor({ state: 'detached' });
        const text = await mainText();
        for (const secret of [project, version, jobId]) assert.ok(!text.includes(secret), `${path} shows ${secret}`);
      }
      // Direct addresses of Bob's things: a clear refusal, none of their data.
      for (const path of [`/ui/projects/${project}`, `/ui/projects/${project}/spiders/alpha`, `/ui/projects/${project}/spiders/alpha/jobs/${jobId}`]) {
        await page.goto(path);
        await page.getByText(/not found|no access|not allowed|permission/i).first().waitFor();
        const text = await mainText();
        assert.ok(!text.includes(version), `${path} shows the version`);
      }
      for (const path of ['/ui/admin/users', '/ui/admin/nodes', '/ui/admin/settings']) {
        await page.goto(path);
        await page.getByRole('heading', { name: 'Page not found' }).waitFor();
      }

      // The REST calls those pages make, with Alice's session cookie.
      const cookie = await cookieHeader(context, server());
      const get = (path: string) => request(server(), 'GET', path, { headers: { cookie } });
      const projects = await get('/v1/projects');
      assert.equal(projects.status, 200, projects.text);
      assert.ok(!projects.text.includes(project), projects.text);
      const jobs = await get('/v1/projects/-/spiders/-/jobs');
      assert.equal(jobs.status, 200, jobs.text);
      assert.ok(!jobs.text.includes(jobId), jobs.text);
      for (const path of [`/v1/projects/${project}`, `/v1/projects/${project}/spiders/alpha`, `/v1/projects/${project}/versions`, `/v1/${jobName}`]) {
        const reply = await get(path);
        assert.equal(reply.status, 403, `${path}: ${reply.text}`);
        assert.ok(!reply.text.includes(version) && !reply.text.includes('settings'), `${path}: ${reply.text}`);
      }
      for (const path of ['/v1/users', '/v1/nodes', '/v1/nodeKeys', '/v1/server']) {
        const reply = await get(path);
        assert.equal(reply.status, 403, `${path}: ${reply.text}`);
      }
    } finally {
      await close();
    }
  });

  it('fits the admin pages in a narrow window', async () => {
    const { page, close } = await openPage(browser(), server(), NARROW);
    try {
      await signIn(page, ADMIN, '/ui/admin/users');
      for (const [path, title] of [['/ui/admin/users', 'Users'], ['/ui/admin/nodes', 'Nodes'], ['/ui/admin/settings', 'Server settings']] as const) {
        await page.goto(path);
        await page.getByRole('heading', { name: title, level: 1 }).waitFor();
        await page.locator('#main .loading').first().waitFor({ state: 'detached' });
        await page.locator('#main .loading').last().waitFor({ state: 'detached' });
        assert.equal(await scrollsSideways(page), false, `${path} scrolls sideways at 360 px`);
      }
      await page.goto('/ui/admin/nodes');
      await page.getByRole('button', { name: 'New node key' }).click();
      await page.getByTestId('node-key-secret').waitFor();
      assert.equal(await scrollsSideways(page), false, 'the new node key box scrolls sideways at 360 px');
      await screenshot(page, 'admin-nodes-narrow');
    } finally {
      await close();
    }
  });
});
