/**
 * The web UI in real Chromium against a real server: sign-in (wrong
 * password in place, session kept across reloads, cookie flags), CSRF and
 * Origin checks on cookie-authenticated REST calls, the profile page (API
 * keys shown once and revoked, password change), sign-out, the narrow
 * window, and the security headers. Browser tests run on SQLite only, to
 * stay fast: the session and CSRF rules themselves are checked on both
 * databases by test/integration/web-sessions.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { request } from '../support/http-client.js';
import { ADMIN, ALICE, useServer, type TestUser } from '../support/http-harness.js';
import { cookieHeader, NARROW, openPage, screenshot, scrollsSideways, signIn, useBrowser } from '../support/browser.js';

const CAROL: TestUser = { name: 'carol', password: 'carol-pass-1' };

describe('web UI sign-in, profile and sign-out in Chromium (SQLite)', () => {
  const h = useServer('sqlite', { users: [ADMIN, ALICE, CAROL] });
  const browser = useBrowser();
  const server = () => h().server;

  it('shows a wrong password in place, signs in to the shell, and keeps the session across a reload', async () => {
    const { context, page, close } = await openPage(browser(), server());
    try {
      await page.goto('/ui/profile');
      await page.waitForURL(/\/ui\/sign-in\?next=%2Fui%2Fprofile/);
      await screenshot(page, 'sign-in');
      await page.getByLabel('User name').fill(ALICE.name);
      await page.getByLabel('Password', { exact: true }).fill('not-her-password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').filter({ hasText: 'Wrong user name or password.' }).waitFor();
      assert.match(page.url(), /\/ui\/sign-in/);

      await page.getByLabel('Password', { exact: true }).fill(ALICE.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(/\/ui\/profile$/); // back where she was going
      await page.getByRole('heading', { name: 'Profile', level: 1 }).waitFor();

      const cookies = await context.cookies(server().baseUrl);
      const session = cookies.find((c) => c.name === 'scrapydd_session');
      assert.ok(session, `no session cookie among ${cookies.map((c) => c.name).join(', ')}`);
      assert.equal(session.httpOnly, true);
      assert.equal(session.sameSite, 'Strict');
      assert.equal(session.path, '/');
      assert.equal(await page.evaluate(() => document.cookie), '', 'the session cookie is invisible to scripts');

      await page.reload();
      await page.getByRole('heading', { name: 'Profile', level: 1 }).waitFor();
      await page.getByRole('link', { name: 'Dashboard' }).click();
      await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
      assert.equal(new URL(page.url()).pathname, '/ui');
      // Admin-only entries are not in a user's navigation.
      assert.equal(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).count(), 0);
      await screenshot(page, 'dashboard-shell');

      await page.goto('/ui/no/such/page');
      await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    } finally {
      await close();
    }
  });

  it('refuses cookie-authenticated REST changes without the CSRF token or from another Origin, and allows them with it', async () => {
    const { context, page, close } = await openPage(browser(), server());
    try {
      await signIn(page, ALICE);
      const cookie = await cookieHeader(context, server());
      const path = `/v1/users/${ALICE.name}/apiKeys`;
      const read = await request(server(), 'GET', path, { headers: { cookie } });
      assert.equal(read.status, 200, read.text);

      const noToken = await request(server(), 'POST', path, { headers: { cookie }, json: { displayName: 'x' } });
      assert.equal(noToken.status, 403, noToken.text);
      assert.equal(noToken.json.error.details[0].reason, 'CSRF_TOKEN_INVALID');
      assert.match(noToken.json.error.message, /X-CSRF-Token/);

      const csrf = (await request(server(), 'GET', '/ui/api/session', { headers: { cookie } })).json.csrfToken as string;
      assert.ok(csrf.length >= 32);
      // Change the last character to a different one, so the token is wrong whatever it ends with.
      const wrong = `${csrf.slice(0, -1)}${csrf.endsWith('A') ? 'B' : 'A'}`;
      assert.notEqual(wrong, csrf);
      const wrongToken = await request(server(), 'POST', path, { headers: { cookie, 'x-csrf-token': wrong }, json: {} });
      assert.equal(wrongToken.status, 403, wrongToken.text);

      const otherOrigin = await request(server(), 'POST', path, {
        headers: { cookie, 'x-csrf-token': csrf, origin: 'http://evil.example' },
        json: { displayName: 'x' },
      });
      assert.equal(otherOrigin.status, 403, otherOrigin.text);
      assert.equal(otherOrigin.json.error.details[0].reason, 'ORIGIN_MISMATCH');

      const ok = await request(server(), 'POST', path, { headers: { cookie, 'x-csrf-token': csrf, origin: server().baseUrl }, json: { displayName: 'from test' } });
      assert.equal(ok.status, 200, ok.text);
    } finally {
      await close();
    }
  });

  it('creates an API key whose secret is shown once and works as Bearer, and revokes it', async () => {
    const { page, close } = await openPage(browser(), server());
    try {
      await signIn(page, ALICE, '/ui/profile');
      await page.getByRole('heading', { name: 'Profile', level: 1 }).waitFor();
      const longName = `ci deploy ${'x'.repeat(190)}`;
      await page.getByLabel('New key’s name').fill(longName);
      await page.getByRole('button', { name: 'Create API key' }).click();
      const secretBox = page.getByTestId('api-key-secret');
      await secretBox.waitFor();
      const secret = (await secretBox.textContent())!.trim();
      assert.match(secret, /^sdk_\d+_[A-Za-z0-9_-]{43}$/);
      await page.getByText('It is shown only this once').waitFor();
      await page.getByRole('button', { name: 'Copy', exact: true }).waitFor();
      await page.getByRole('cell', { name: longName, exact: true }).waitFor(); // listed, cut with an ellipsis
      assert.equal(await scrollsSideways(page), false, 'a 200-character key name does not widen the page');
      await screenshot(page, 'profile');

      const asKey = await request(server(), 'GET', '/v1/users/me', { auth: `Bearer ${secret}` });
      assert.equal(asKey.status, 200, asKey.text);
      assert.equal(asKey.json.name, `users/${ALICE.name}`);

      await page.reload();
      await page.getByRole('cell', { name: longName, exact: true }).waitFor();
      assert.equal(await page.getByTestId('api-key-secret').count(), 0, 'the secret is gone after a reload');
      assert.equal(await page.getByText(secret).count(), 0);

      await page.getByRole('button', { name: `Revoke ${longName}` }).click();
      const dialog = page.getByRole('dialog', { name: 'Revoke API key?' });
      await dialog.getByRole('button', { name: 'Revoke' }).click();
      await dialog.waitFor({ state: 'hidden' });
      await page.getByRole('cell', { name: longName, exact: true }).waitFor({ state: 'detached' });
      const revoked = await request(server(), 'GET', '/v1/users/me', { auth: `Bearer ${secret}` });
      assert.equal(revoked.status, 401, revoked.text);
    } finally {
      await close();
    }
  });

  it('changes the password: a wrong current one is shown in place, the new one signs in', async () => {
    const { page, close } = await openPage(browser(), server());
    try {
      await signIn(page, CAROL, '/ui/profile');
      const form = page.locator('form', { has: page.getByRole('button', { name: 'Change password' }) });
      await form.getByLabel('Current password').fill('not-the-password');
      await form.getByLabel('New password', { exact: true }).fill('carol-new-pass-2');
      await form.getByLabel('New password again').fill('carol-new-pass-2');
      await form.getByRole('button', { name: 'Change password' }).click();
      await form.getByText('The current password is wrong.').waitFor();

      await form.getByLabel('Current password').fill(CAROL.password);
      await form.getByLabel('New password', { exact: true }).fill('short');
      await form.getByLabel('New password again').fill('short');
      await form.getByRole('button', { name: 'Change password' }).click();
      await form.getByText('Password must be at least 8 characters.').waitFor();

      await form.getByLabel('New password', { exact: true }).fill('carol-new-pass-2');
      await form.getByLabel('New password again').fill('carol-new-pass-2');
      await form.getByRole('button', { name: 'Change password' }).click();
      await page.getByText('Password changed.').waitFor();
      assert.equal(await form.getByLabel('Current password').inputValue(), '');
    } finally {
      await close();
    }
    const old = await request(server(), 'GET', '/v1/users/me', { auth: `Basic ${Buffer.from(`${CAROL.name}:${CAROL.password}`).toString('base64')}` });
    assert.equal(old.status, 401, 'the old password no longer works');
    const again = await openPage(browser(), server());
    try {
      await signIn(again.page, { ...CAROL, password: 'carol-new-pass-2' });
    } finally {
      await again.close();
    }
  });

  it('signs out: the cookie is gone and the old session no longer reaches the API', async () => {
    const { context, page, close } = await openPage(browser(), server());
    try {
      await signIn(page, ADMIN);
      const cookie = await cookieHeader(context, server());
      assert.equal((await request(server(), 'GET', '/v1/users/me', { headers: { cookie } })).status, 200);
      await page.getByRole('button', { name: /root/ }).click();
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(/\/ui\/sign-in$/);
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      const left = (await context.cookies(server().baseUrl)).filter((c) => c.name === 'scrapydd_session');
      assert.deepEqual(left, []);
      const after = await request(server(), 'GET', '/v1/users/me', { headers: { cookie } });
      assert.equal(after.status, 401, after.text);
      // Going to a page now asks for sign-in again.
      await page.goto('/ui/profile');
      await page.waitForURL(/\/ui\/sign-in\?next=/);
    } finally {
      await close();
    }
  });

  it('security headers on the UI and long-cached assets', async () => {
    const index = await request(server(), 'GET', '/');
    assert.equal(index.status, 200);
    assert.match(index.headers.get('content-type') ?? '', /^text\/html/);
    const csp = index.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    assert.equal(index.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(index.headers.get('referrer-policy'), 'same-origin');
    assert.doesNotMatch(index.text, /<script>|<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
    const asset = /src="(\/ui\/assets\/[^"]+\.js)"/.exec(index.text)?.[1];
    assert.ok(asset, index.text);
    const js = await request(server(), 'GET', asset);
    assert.equal(js.status, 200);
    assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.match(js.headers.get('content-type') ?? '', /^text\/javascript/);
    const deep = await request(server(), 'GET', '/ui/projects/some/deep/route');
    assert.equal(deep.status, 200);
    assert.equal(deep.text, index.text);
  });

  it('collapses the navigation in a narrow window without horizontal scrolling', async () => {
    const { page, close } = await openPage(browser(), server(), NARROW);
    try {
      await signIn(page, ADMIN);
      const nav = page.locator('#main-nav');
      assert.equal(await nav.isVisible(), false, 'the navigation is collapsed');
      const toggle = page.getByRole('button', { name: 'Menu' });
      assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
      await toggle.click();
      await nav.getByRole('link', { name: 'Users' }).waitFor(); // admins see the admin entries
      assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
      assert.equal(await scrollsSideways(page), false);
      await nav.getByRole('link', { name: 'Profile' }).click();
      await page.getByRole('heading', { name: 'Profile', level: 1 }).waitFor();
      assert.equal(await nav.isVisible(), false, 'navigating closes the menu');
      assert.equal(await scrollsSideways(page), false);
      await screenshot(page, 'profile-narrow');
    } finally {
      await close();
    }
  });
});
