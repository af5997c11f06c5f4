/**
 * Authentication over HTTP (REST and the scrapyd API): users made with
 * `scrapydd adduser`, no default account, API keys (Bearer and Basic),
 * disabled users, every route closed to anonymous callers, and
 * `enable_authentication = false`. Runs once per database kind.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadApiRoot } from '../../src/server/api-protos.js';
import { collectRoutes, type HttpRoute } from '../../src/server/rest/http-rules.js';
import { RestRouter } from '../../src/server/rest/router.js';
import { testDatabaseKinds } from '../support/databases.js';
import { addVersion, request, SCRAPYD_ENDPOINTS, scrapydCall, scrapydGet, type JsonObject, type Reply } from '../support/http-client.js';
import { ADMIN, ALICE, authOf, BOB, quotesEgg, useServer, type TestUser } from '../support/http-harness.js';
import { basic, type TestServer } from '../support/server-process.js';

const DORA: TestUser = { name: 'dora', password: 'dora-pass-1' };
const ERIN: TestUser = { name: 'erin', password: 'erin-pass-1' };
const SECRET = /^sdk_(\d{1,20})_[A-Za-z0-9_-]{43}$/;

function assertUnauthenticated(reply: Reply, what: string, reason?: string): void {
  assert.equal(reply.status, 401, `${what}: ${reply.text}`);
  assert.equal(reply.json.error.code, 401, what);
  assert.equal(reply.json.error.status, 'UNAUTHENTICATED', what);
  if (reason) assert.equal(reply.json.error.details[0].reason, reason, what);
  assert.match(reply.headers.get('www-authenticate') ?? '', /^Basic /, what);
}

function assertScrapydUnauthorized(reply: Reply, what: string): void {
  assert.equal(reply.status, 401, `${what}: ${reply.text}`);
  assert.equal(reply.text, 'Unauthorized', what);
}

/** GET /v1/users/me as `auth`: the caller's own user name, or the failed reply. */
async function whoAmI(server: TestServer, auth: string): Promise<string> {
  const reply = await request(server, 'GET', '/v1/users/me', { auth });
  assert.equal(reply.status, 200, reply.text);
  return reply.json.name as string;
}

/** A path for `route` with a sample id for every variable, e.g. /v1/projects/p/spiders/s:run. */
function samplePath(route: HttpRoute): string {
  const flat = route.pattern.replace(/\{[^}=]+=([^}]*)\}/g, '$1').replace(/\{[^}]+\}/g, '*');
  const [path, verb] = flat.split(':') as [string, string | undefined];
  const segments = path.split('/').map((seg, i, all) => {
    if (seg === '**') return 'x/y';
    if (seg !== '*') return seg;
    const collection = all[i - 1] ?? '';
    return collection === 'apiKeys' ? '1' : (collection[0] ?? 'x');
  });
  return `${segments.join('/')}${verb === undefined ? '' : `:${verb}`}`;
}

for (const kind of testDatabaseKinds()) {
  describe(kind, () => {
    describe('HTTP authentication with users and API keys', () => {
      const h = useServer(kind, { users: [ADMIN, ALICE, BOB, DORA, ERIN] });
      const server = () => h().server;

      it('scrapydd adduser reads the password from standard input, and only that password signs in', async () => {
        const created = await server().cli(['adduser', 'carol'], 'carol-pass-1\n');
        assert.deepEqual(created, { code: 0, stdout: "user 'carol' created\n", stderr: '' });
        const me = await request(server(), 'GET', '/v1/users/me', { auth: basic('carol', 'carol-pass-1') });
        assert.equal(me.status, 200, me.text);
        assert.deepEqual(me.json, { name: 'users/carol', createTime: me.json.createTime });
        assertUnauthenticated(await request(server(), 'GET', '/v1/users/me', { auth: basic('carol', 'carol-pass-2') }), 'wrong password');
        assertScrapydUnauthorized(await scrapydGet(server(), 'listprojects.json', {}, basic('carol', 'carol-pass-2')), 'wrong password');

        const again = await server().cli(['adduser', 'carol'], 'another-pass-1\n');
        assert.notEqual(again.code, 0);
        assert.match(again.stderr, /already exists/);
        const weak = await server().cli(['adduser', 'weakling'], 'short\n');
        assert.notEqual(weak.code, 0);
        assert.match(weak.stderr, /at least 8 characters/);
        assertUnauthenticated(await request(server(), 'GET', '/v1/users/me', { auth: basic('weakling', 'short') }), 'weak user');

        const admin = await request(server(), 'GET', '/v1/users/me', { auth: authOf(ADMIN) });
        assert.equal(admin.json.admin, true, 'adduser --admin makes an admin');
      });

      it('an API key shows its secret once and then works as Bearer and as Basic <key id>:<secret> on REST and scrapyd', async () => {
        const created = await request(server(), 'POST', '/v1/users/alice/apiKeys', { auth: authOf(ALICE), json: { displayName: 'ci' } });
        assert.equal(created.status, 200, created.text);
        const key = created.json;
        const [, keyId] = SECRET.exec(key.secret as string) ?? [];
        assert.ok(keyId, `secret ${String(key.secret)} has the sdk_<id>_<random> shape`);
        assert.deepEqual(key, { name: `users/alice/apiKeys/${keyId}`, displayName: 'ci', secret: key.secret, createTime: key.createTime });

        const listed = await request(server(), 'GET', '/v1/users/alice/apiKeys', { auth: authOf(ALICE) });
        assert.deepEqual(listed.json, { apiKeys: [{ name: key.name, displayName: 'ci', createTime: key.createTime }] });

        for (const auth of [`Bearer ${key.secret}`, basic(keyId!, key.secret as string)]) {
          assert.equal(await whoAmI(server(), auth), 'users/alice');
          const scrapyd = await scrapydGet(server(), 'listprojects.json', {}, auth);
          assert.equal(scrapyd.status, 200, scrapyd.text);
          assert.equal(scrapyd.json.status, 'ok');
        }
        const upload = await addVersion(server(), `Bearer ${key.secret}`, 'keyed', 'r1', await quotesEgg());
        assert.equal(upload.json.status, 'ok', upload.text);
        const project = await request(server(), 'GET', '/v1/projects/keyed', { auth: authOf(ALICE) });
        assert.equal(project.json.owner, 'users/alice', 'an upload with a key belongs to the key\'s user');

        const used = (await request(server(), 'GET', '/v1/users/alice/apiKeys', { auth: authOf(ALICE) })).json.apiKeys[0];
        assert.equal(used.secret, undefined, 'the secret is never shown again');
        assert.equal(typeof used.lastUseTime, 'string');

        const forged = `${(key.secret as string).slice(0, -1)}${(key.secret as string).endsWith('A') ? 'B' : 'A'}`;
        assertUnauthenticated(await request(server(), 'GET', '/v1/users/me', { auth: `Bearer ${forged}` }), 'forged secret', 'BAD_CREDENTIALS');
        assertScrapydUnauthorized(await scrapydGet(server(), 'listprojects.json', {}, basic(keyId!, forged)), 'forged secret');
      });

      it('another user cannot see or revoke a key; DELETE revokes it and the secret then gets 401 everywhere', async () => {
        const key = (await request(server(), 'POST', '/v1/users/me/apiKeys', { auth: authOf(ALICE), json: { displayName: 'short-lived' } })).json;
        assert.match(key.name as string, /^users\/alice\/apiKeys\/\d+$/);
        const keyId = (key.name as string).split('/').pop()!;
        assert.equal((await request(server(), 'GET', '/v1/users/alice/apiKeys', { auth: authOf(BOB) })).status, 403);
        assert.equal((await request(server(), 'DELETE', `/v1/${key.name}`, { auth: authOf(BOB) })).status, 403);
        assert.equal(await whoAmI(server(), `Bearer ${key.secret}`), 'users/alice');

        const revoked = await request(server(), 'DELETE', `/v1/${key.name}`, { auth: authOf(ALICE) });
        assert.equal(revoked.status, 200, revoked.text);
        assert.deepEqual(revoked.json, {});
        assertUnauthenticated(await request(server(), 'GET', '/v1/users/me', { auth: `Bearer ${key.secret}` }), 'revoked bearer');
        assertUnauthenticated(await request(server(), 'GET', '/v1/projects', { auth: basic(keyId, key.secret as string) }), 'revoked basic');
        assertScrapydUnauthorized(await scrapydGet(server(), 'listprojects.json', {}, `Bearer ${key.secret}`), 'revoked bearer');
        assertScrapydUnauthorized(await scrapydGet(server(), 'daemonstatus.json', {}, basic(keyId, key.secret as string)), 'revoked basic');
        const names = ((await request(server(), 'GET', '/v1/users/alice/apiKeys', { auth: authOf(ALICE) })).json.apiKeys ?? []) as JsonObject[];
        assert.ok(!names.some((k) => k.name === key.name));
      });

      it('a user disabled by an admin gets 401 with password and API key until re-enabled', async () => {
        const key = (await request(server(), 'POST', '/v1/users/dora/apiKeys', { auth: authOf(DORA), json: {} })).json;
        assert.equal(await whoAmI(server(), authOf(DORA)), 'users/dora');
        assert.equal((await request(server(), 'PATCH', '/v1/users/dora?updateMask=disabled', { auth: authOf(BOB), json: { disabled: true } })).status, 403);

        const disabled = await request(server(), 'PATCH', '/v1/users/dora?updateMask=disabled', { auth: authOf(ADMIN), json: { disabled: true } });
        assert.equal(disabled.status, 200, disabled.text);
        assert.deepEqual(disabled.json, { name: 'users/dora', disabled: true, createTime: disabled.json.createTime });
        assertUnauthenticated(await request(server(), 'GET', '/v1/users/me', { auth: authOf(DORA) }), 'disabled password', 'ACCOUNT_DISABLED');
        assertUnauthenticated(await request(server(), 'GET', '/v1/projects', { auth: `Bearer ${key.secret}` }), 'disabled key', 'ACCOUNT_DISABLED');
        assertScrapydUnauthorized(await scrapydGet(server(), 'listprojects.json', {}, authOf(DORA)), 'disabled password');
        assertScrapydUnauthorized(await scrapydGet(server(), 'listprojects.json', {}, `Bearer ${key.secret}`), 'disabled key');

        const enabled = await request(server(), 'PATCH', '/v1/users/dora?updateMask=disabled', { auth: authOf(ADMIN), json: { disabled: false } });
        assert.equal(enabled.status, 200, enabled.text);
        assert.equal(await whoAmI(server(), authOf(DORA)), 'users/dora');
        assert.equal(await whoAmI(server(), `Bearer ${key.secret}`), 'users/dora');
      });

      it('a user may change their own password (the old one stops working at once) but not their role', async () => {
        assert.equal(await whoAmI(server(), authOf(ERIN)), 'users/erin');
        const promote = await request(server(), 'PATCH', '/v1/users/erin?updateMask=admin', { auth: authOf(ERIN), json: { admin: true } });
        assert.equal(promote.status, 403, promote.text);
        const changed = await request(server(), 'PATCH', '/v1/users/me?updateMask=password', { auth: authOf(ERIN), json: { password: 'erin-pass-2' } });
        assert.equal(changed.status, 200, changed.text);
        assert.deepEqual(changed.json, { name: 'users/erin', createTime: changed.json.createTime }, 'the password is never echoed');
        assertUnauthenticated(await request(server(), 'GET', '/v1/users/me', { auth: authOf(ERIN) }), 'old password');
        assertScrapydUnauthorized(await scrapydGet(server(), 'listprojects.json', {}, authOf(ERIN)), 'old password');
        assert.equal(await whoAmI(server(), basic('erin', 'erin-pass-2')), 'users/erin');
        // With an API key (not the password), UpdateUser does not change it: ChangePassword wants the current one.
        const key = await request(server(), 'POST', '/v1/users/me/apiKeys', { auth: basic('erin', 'erin-pass-2'), json: { displayName: 'ci' } });
        assert.equal(key.status, 200, key.text);
        const viaKey = await request(server(), 'PATCH', '/v1/users/me?updateMask=password', { auth: `Bearer ${key.json.secret as string}`, json: { password: 'erin-pass-3' } });
        assert.equal(viaKey.status, 403, viaKey.text);
        assert.match(viaKey.json.error.message as string, /needs your current password/);
        assert.equal(await whoAmI(server(), basic('erin', 'erin-pass-2')), 'users/erin');
      });

      it('an admin cannot disable themselves', async () => {
        const reply = await request(server(), 'PATCH', '/v1/users/root?updateMask=disabled', { auth: authOf(ADMIN), json: { disabled: true } });
        assert.equal(reply.status, 400, reply.text);
        assert.equal(await whoAmI(server(), authOf(ADMIN)), 'users/root');
      });
    });

    describe('HTTP authentication on a fresh server without users', () => {
      const h = useServer(kind);
      const server = () => h().server;

      it('has no default account: admin/admin, admin/password, scrapydd/scrapydd and friends get 401', async () => {
        const guesses = [['admin', 'admin'], ['admin', 'password'], ['scrapydd', 'scrapydd'], ['scrapyd', 'scrapyd'], ['root', 'root'], ['admin', '']];
        for (const [user, password] of guesses) {
          assertUnauthenticated(await request(server(), 'GET', '/v1/projects', { auth: basic(user!, password!) }), `${user}/${password}`);
          assertScrapydUnauthorized(await scrapydGet(server(), 'listprojects.json', {}, basic(user!, password!)), `${user}/${password}`);
        }
      });

      it('every REST route from the protos refuses anonymous calls and bad credentials with 401 UNAUTHENTICATED', async (t) => {
        const routes = collectRoutes(loadApiRoot());
        const router = new RestRouter(routes);
        assert.ok(routes.length >= 30, `expected the whole API, found ${routes.length} routes`);
        assert.deepEqual(new Set(routes.map((r) => r.serviceName)).size, 11);
        for (const must of ['ListProjects', 'UploadVersion', 'CreateApiKey', 'UpdateUser', 'RunSpider', 'ListNodes']) {
          assert.ok(routes.some((r) => r.methodName === must), `${must} has a route`);
        }
        const badCredentials = [undefined, `Bearer sdk_1_${'A'.repeat(43)}`, 'Bearer not-a-key', 'Basic bm9jb2xvbg==', 'Digest abc'];
        let calls = 0;
        for (const route of routes) {
          const path = samplePath(route);
          const match = router.match(route.httpMethod, path);
          assert.ok(match.kind === 'match' && match.route === route, `${route.httpMethod} ${path} should reach ${route.methodName}`);
          for (const auth of badCredentials) {
            const json = route.body === '' ? undefined : {};
            const what = `${route.httpMethod} ${path} (${route.serviceName}.${route.methodName}) with ${auth ?? 'no credentials'}`;
            assertUnauthenticated(await request(server(), route.httpMethod, path, { auth, json }), what);
            calls++;
          }
        }
        assert.equal(calls, routes.length * badCredentials.length);
        t.diagnostic(`${routes.length} routes checked`);
      });

      it('every scrapyd endpoint answers 401 Unauthorized, while /healthz and /readyz answer 200', async () => {
        for (const { endpoint, method } of SCRAPYD_ENDPOINTS) {
          assertScrapydUnauthorized(await scrapydCall(server(), endpoint, method), `${method} ${endpoint}`);
          assertScrapydUnauthorized(await scrapydCall(server(), endpoint, method, 'Bearer not-a-key'), `${method} ${endpoint} with a bad key`);
        }
        for (const path of ['/healthz', '/readyz']) {
          const reply = await request(server(), 'GET', path);
          assert.equal(reply.status, 200, path);
          assert.deepEqual(reply.json, { status: 'ok' });
        }
      });
    });

    describe('HTTP with enable_authentication = false', () => {
      const h = useServer(kind, { settings: { enable_authentication: 'false' } });
      const server = () => h().server;

      it('every call works without credentials', async () => {
        const upload = await addVersion(server(), undefined, 'open', 'r1', await quotesEgg());
        assert.equal(upload.json.status, 'ok', upload.text);
        assert.deepEqual((await scrapydGet(server(), 'listprojects.json')).json.projects, ['open']);
        assert.deepEqual((await scrapydGet(server(), 'listspiders.json', { project: 'open' })).json.spiders, ['alpha', 'beta', 'gamma']);
        assert.equal((await scrapydGet(server(), 'daemonstatus.json')).json.status, 'ok');
        const project = await request(server(), 'GET', '/v1/projects/open');
        assert.equal(project.status, 200, project.text);
        assert.equal(project.json.latestVersion, 'projects/open/versions/r1');
        const created = await request(server(), 'POST', '/v1/projects?projectId=open2', { json: {} });
        assert.equal(created.status, 200, created.text);
        assert.deepEqual((await request(server(), 'GET', '/v1/projects')).json.projects.map((p: JsonObject) => p.name), ['projects/open', 'projects/open2']);
        assert.equal((await request(server(), 'GET', '/v1/users')).status, 200);
        assert.equal((await request(server(), 'DELETE', '/v1/projects/open2')).status, 200);
        const triggers = await request(server(), 'GET', '/v1/projects/open/spiders/alpha/triggers');
        assert.equal(triggers.status, 200, triggers.text);
      });
    });
  });
}
