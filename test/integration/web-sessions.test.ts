/**
 * The web UI's cookie sessions over plain HTTP, on both databases: sign-in
 * sets an HttpOnly SameSite=Strict cookie whose token is stored only as a
 * hash, the cookie authenticates REST, job-file and scrapyd calls, state
 * changes need the CSRF token and a matching Origin, Authorization headers
 * ignore the cookie, sign-out and password changes end sessions, disabled
 * users are refused, failed sign-ins are slowed down, and with
 * authentication off no sign-in is needed.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { parseDatabaseUrl } from '../../src/config/database-url.js';
import { openDatabase } from '../../src/storage/database.js';
import { testDatabaseKinds } from '../support/databases.js';
import { request, type Reply } from '../support/http-client.js';
import { ADMIN, ALICE, authOf, BOB, useServer, type TestUser } from '../support/http-harness.js';
import type { TestServer } from '../support/server-process.js';

const DAVE: TestUser = { name: 'dave', password: 'dave-pass-12' };
const EVE: TestUser = { name: 'eve', password: 'eve-pass-123' };

interface Signed {
  cookie: string;
  csrf: string;
  setCookie: string;
}

async function signIn(server: TestServer, user: TestUser, headers: Record<string, string> = {}): Promise<Signed> {
  const reply = await request(server, 'POST', '/ui/api/session', { json: { username: user.name, password: user.password }, headers });
  assert.equal(reply.status, 200, reply.text);
  const setCookie = reply.headers.get('set-cookie') ?? '';
  const token = /^scrapydd_session=([^;]+)/.exec(setCookie)?.[1];
  assert.ok(token, setCookie);
  return { cookie: `scrapydd_session=${token}`, csrf: reply.json.csrfToken as string, setCookie };
}

function reason(reply: Reply): string {
  return reply.json.error.details[0].reason as string;
}

for (const kind of testDatabaseKinds()) {
  describe(kind, () => {
    describe('web UI sessions and CSRF', () => {
      const h = useServer(kind, { users: [ADMIN, ALICE, BOB, DAVE, EVE], settings: { web_session_ttl: '3600', web_session_max_age: '7200' } });
      const server = () => h().server;

      it('sign-in sets an HttpOnly SameSite=Strict cookie and stores only a hash of its token', async () => {
        const s = await signIn(server(), ALICE);
        assert.match(s.setCookie, /; Path=\//);
        assert.match(s.setCookie, /; HttpOnly/);
        assert.match(s.setCookie, /; SameSite=Strict/);
        assert.match(s.setCookie, /; Max-Age=3600/);
        assert.doesNotMatch(s.setCookie, /Secure/, 'plain HTTP: no Secure flag');
        const token = s.cookie.split('=')[1]!;
        const db = await openDatabase(parseDatabaseUrl(h().db.url));
        let hashes: string[];
        try {
          hashes = (await db.query('SELECT token_hash FROM web_sessions')).map((r) => String(r.token_hash));
        } finally {
          await db.close();
        }
        assert.ok(hashes.includes(createHash('sha256').update(token).digest('hex')));
        assert.ok(!hashes.includes(token));
        const me = await request(server(), 'GET', '/ui/api/session', { headers: { cookie: s.cookie } });
        assert.equal(me.status, 200);
        assert.deepEqual(me.json.user, { name: ALICE.name, admin: false });
        assert.equal(me.json.csrfToken, s.csrf);
        assert.equal(me.json.authenticationEnabled, true);
      });

      it('wrong password, unknown user and a disabled account are refused with a clear message', async () => {
        const wrong = await request(server(), 'POST', '/ui/api/session', { json: { username: BOB.name, password: 'nope-nope-1' } });
        assert.equal(wrong.status, 401);
        assert.equal(wrong.json.error.message, 'wrong user name or password');
        assert.equal(wrong.headers.get('set-cookie'), null);
        assert.equal(wrong.headers.get('www-authenticate'), null, 'no Basic challenge for the web sign-in');
        const missing = await request(server(), 'POST', '/ui/api/session', { json: { username: BOB.name } });
        assert.equal(missing.status, 400);
        assert.equal(missing.json.error.details[1].fieldViolations[0].field, 'password');

        const eve = await signIn(server(), EVE);
        const disable = await request(server(), 'PATCH', `/v1/users/${EVE.name}?updateMask=disabled`, { auth: authOf(ADMIN), json: { disabled: true } });
        assert.equal(disable.status, 200, disable.text);
        const after = await request(server(), 'GET', '/v1/users/me', { headers: { cookie: eve.cookie } });
        assert.equal(after.status, 401);
        const again = await request(server(), 'POST', '/ui/api/session', { json: { username: EVE.name, password: EVE.password } });
        assert.equal(again.status, 401);
        assert.equal(again.json.error.message, 'this account is disabled');
      });

      it('the cookie authenticates reads; changes need the CSRF token and a matching Origin', async () => {
        const s = await signIn(server(), BOB);
        const path = `/v1/users/${BOB.name}/apiKeys`;
        assert.equal((await request(server(), 'GET', path, { headers: { cookie: s.cookie } })).status, 200);
        const noToken = await request(server(), 'POST', path, { headers: { cookie: s.cookie }, json: {} });
        assert.equal(noToken.status, 403);
        assert.equal(reason(noToken), 'CSRF_TOKEN_INVALID');
        const badOrigin = await request(server(), 'POST', path, { headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, origin: 'https://elsewhere.example' }, json: {} });
        assert.equal(badOrigin.status, 403);
        assert.equal(reason(badOrigin), 'ORIGIN_MISMATCH');
        const nullOrigin = await request(server(), 'POST', path, { headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, origin: 'null' }, json: {} });
        assert.equal(nullOrigin.status, 403);
        const ok = await request(server(), 'POST', path, { headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, origin: server().baseUrl }, json: { displayName: 'k' } });
        assert.equal(ok.status, 200, ok.text);
        const noOrigin = await request(server(), 'DELETE', `/v1/${ok.json.name}`, { headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } });
        assert.equal(noOrigin.status, 200, noOrigin.text);

        // scrapyd API and the webhook paths: same rules.
        const scrapyd = await request(server(), 'POST', '/delproject.json', { headers: { cookie: s.cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: 'project=none' });
        assert.match(scrapyd.text, /X-CSRF-Token/);
        const hook = await request(server(), 'DELETE', '/projects/p/spiders/s/webhook', { headers: { cookie: s.cookie } });
        assert.equal(hook.status, 403);
        // Job files: a GET, so the cookie alone opens them (this job does not exist).
        const log = await request(server(), 'GET', '/logs/p/s/1.log', { headers: { cookie: s.cookie } });
        assert.notEqual(log.status, 401, log.text);
      });

      it('an Authorization header wins over the cookie and needs no CSRF token', async () => {
        const s = await signIn(server(), BOB);
        const asAlice = await request(server(), 'POST', `/v1/users/${ALICE.name}/apiKeys`, { auth: authOf(ALICE), headers: { cookie: s.cookie }, json: { displayName: 'basic' } });
        assert.equal(asAlice.status, 200, asAlice.text);
        assert.match(asAlice.json.name, /^users\/alice\//);
      });

      it('a bad or ended cookie is UNAUTHENTICATED, and sign-out ends the session', async () => {
        const bogus = await request(server(), 'GET', '/v1/users/me', { headers: { cookie: 'scrapydd_session=nonsense' } });
        assert.equal(bogus.status, 401);
        assert.equal(reason(bogus), 'SESSION_EXPIRED');
        const s = await signIn(server(), BOB);
        const noCsrf = await request(server(), 'DELETE', '/ui/api/session', { headers: { cookie: s.cookie } });
        assert.equal(noCsrf.status, 403, 'sign-out needs the CSRF token');
        const out = await request(server(), 'DELETE', '/ui/api/session', { headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } });
        assert.equal(out.status, 200);
        assert.match(out.headers.get('set-cookie') ?? '', /^scrapydd_session=; Path=\/; Max-Age=0/);
        assert.equal((await request(server(), 'GET', '/v1/users/me', { headers: { cookie: s.cookie } })).status, 401);
        assert.equal((await request(server(), 'GET', '/ui/api/session', { headers: { cookie: s.cookie } })).status, 401);
      });

      it('changing the password needs the current one and ends the other sessions', async () => {
        const first = await signIn(server(), DAVE);
        const second = await signIn(server(), DAVE);
        const path = `/v1/users/${DAVE.name}:changePassword`;
        const wrong = await request(server(), 'POST', path, { headers: { cookie: second.cookie, 'x-csrf-token': second.csrf }, json: { currentPassword: 'x-wrong-xx', newPassword: 'dave-new-pass-3' } });
        assert.equal(wrong.status, 400);
        assert.equal(wrong.json.error.details[1].fieldViolations[0].field, 'current_password');
        const other = await request(server(), 'POST', `/v1/users/${ALICE.name}:changePassword`, { auth: authOf(DAVE), json: { currentPassword: DAVE.password, newPassword: 'dave-new-pass-3' } });
        assert.equal(other.status, 403, "someone else's password");
        const ok = await request(server(), 'POST', path, { headers: { cookie: second.cookie, 'x-csrf-token': second.csrf }, json: { currentPassword: DAVE.password, newPassword: 'dave-new-pass-3' } });
        assert.equal(ok.status, 200, ok.text);
        assert.equal((await request(server(), 'GET', '/v1/users/me', { headers: { cookie: first.cookie } })).status, 401, 'the other session ended');
        assert.equal((await request(server(), 'GET', '/v1/users/me', { headers: { cookie: second.cookie } })).status, 200, 'the changing session stays');
        await signIn(server(), { ...DAVE, password: 'dave-new-pass-3' });
      });

      it('slows down repeated failed sign-ins for a user and address', async () => {
        const target = { username: ADMIN.name, password: 'guess-guess-1' };
        for (let i = 0; i < 5; i++) {
          const r = await request(server(), 'POST', '/ui/api/session', { json: target });
          assert.equal(r.status, 401, `attempt ${i + 1}: ${r.text}`);
        }
        const throttled = await request(server(), 'POST', '/ui/api/session', { json: { username: ADMIN.name, password: ADMIN.password } });
        assert.equal(throttled.status, 429, throttled.text);
        assert.equal(reason(throttled), 'SIGN_IN_THROTTLED');
        assert.match(throttled.json.error.message, /try again in \d+ s/);
        // Other users are not affected, nor are API calls with the password.
        await signIn(server(), ALICE);
        assert.equal((await request(server(), 'GET', '/v1/users/me', { auth: authOf(ADMIN) })).status, 200);
      });
    });

    describe('web UI with authentication off', () => {
      const h = useServer(kind, { settings: { enable_authentication: 'false' } });
      it('answers the session as the local admin without sign-in or cookie', async () => {
        const me = await request(h().server, 'GET', '/ui/api/session');
        assert.equal(me.status, 200);
        assert.deepEqual(me.json, { user: { name: 'local', admin: true }, authenticationEnabled: false, csrfToken: '' });
        assert.equal((await request(h().server, 'GET', '/v1/projects')).status, 200);
      });
    });
  });
}
