/**
 * Who sees and changes which project over REST and the scrapyd API: a
 * project belongs to the user who created it; other users can neither see
 * nor change it (and store nothing trying); admins see everything; only
 * admins manage users. Runs once per database kind.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testDatabaseKinds } from '../support/databases.js';
import { addVersion, multipart, request, scrapydGet, scrapydPost, scrapydProjects, type JsonObject, type Reply } from '../support/http-client.js';
import { ADMIN, ALICE, authOf, BOB, quotesEgg, storedBlobs, uniqueQuotesEgg, useServer } from '../support/http-harness.js';

const [AD, AL, B] = [authOf(ADMIN), authOf(ALICE), authOf(BOB)];
const NO_ACCESS = "you have no access to project 'alice-proj'";

function assertPermissionDenied(reply: Reply, message: string): void {
  assert.equal(reply.status, 403, reply.text);
  assert.equal(reply.json.error.code, 403);
  assert.equal(reply.json.error.status, 'PERMISSION_DENIED');
  assert.equal(reply.json.error.message, message);
}

function assertScrapydError(reply: Reply, message: string): void {
  assert.equal(reply.status, 200, reply.text);
  assert.deepEqual(reply.json, { node_name: reply.json.node_name, status: 'error', message });
}

const projectNames = (reply: Reply): string[] => {
  assert.equal(reply.status, 200, reply.text);
  return ((reply.json.projects ?? []) as JsonObject[]).map((p) => p.name as string);
};

for (const kind of testDatabaseKinds()) {
  describe(kind, () => {
    describe('project ownership over HTTP', () => {
      const h = useServer(kind, { users: [ADMIN, ALICE, BOB] });
      const server = () => h().server;

      it('a project belongs to the user who uploaded it first', async () => {
        assert.equal((await addVersion(server(), AL, 'alice-proj', 'r1', await quotesEgg())).json.status, 'ok');
        assert.equal((await addVersion(server(), B, 'bob-proj', 'r1', await quotesEgg())).json.status, 'ok');
        const alice = await request(server(), 'GET', '/v1/projects/alice-proj', { auth: AL });
        assert.equal(alice.json.owner, 'users/alice');
        const bob = await request(server(), 'GET', '/v1/projects/bob-proj', { auth: B });
        assert.equal(bob.json.owner, 'users/bob');
      });

      it("bob cannot GET alice's project over REST: 403 PERMISSION_DENIED", async () => {
        assertPermissionDenied(await request(server(), 'GET', '/v1/projects/alice-proj', { auth: B }), NO_ACCESS);
        assertPermissionDenied(await request(server(), 'GET', '/v1/projects/alice-proj/versions', { auth: B }), NO_ACCESS);
        assertPermissionDenied(await request(server(), 'GET', '/v1/projects/alice-proj/versions/r1', { auth: B }), NO_ACCESS);
        assertPermissionDenied(await request(server(), 'GET', '/v1/projects/alice-proj/spiders', { auth: B }), NO_ACCESS);
        assertPermissionDenied(await request(server(), 'GET', '/v1/projects/alice-proj/spiders/alpha', { auth: B }), NO_ACCESS);
      });

      it("lists leave out other users' projects, over REST and in listprojects.json", async () => {
        assert.deepEqual(projectNames(await request(server(), 'GET', '/v1/projects', { auth: B })), ['projects/bob-proj']);
        assert.deepEqual(projectNames(await request(server(), 'GET', '/v1/projects', { auth: AL })), ['projects/alice-proj']);
        assert.deepEqual(await scrapydProjects(server(), B), ['bob-proj']);
        assert.deepEqual(await scrapydProjects(server(), AL), ['alice-proj']);
      });

      it("scrapyd listspiders.json and listversions.json for alice's project are errors for bob", async () => {
        assertScrapydError(await scrapydGet(server(), 'listspiders.json', { project: 'alice-proj' }, B), NO_ACCESS);
        assertScrapydError(await scrapydGet(server(), 'listversions.json', { project: 'alice-proj' }, B), NO_ACCESS);
      });

      it("bob's uploads to alice's project are refused and store nothing", async () => {
        const egg = await uniqueQuotesEgg('bob-intrusion');
        const blobs = await storedBlobs(server());
        assertScrapydError(await addVersion(server(), B, 'alice-proj', 'r2', egg), NO_ACCESS);
        assertScrapydError(await addVersion(server(), B, 'alice-proj', 'r1', egg), NO_ACCESS);
        const rest = await request(server(), 'POST', '/v1/projects/alice-proj/versions:upload', {
          auth: B,
          body: multipart([['version', 'r3'], ['egg', egg]]),
        });
        assertPermissionDenied(rest, NO_ACCESS);
        assert.deepEqual(await storedBlobs(server()), blobs);
        const versions = await scrapydGet(server(), 'listversions.json', { project: 'alice-proj' }, AL);
        assert.deepEqual(versions.json.versions, ['r1']);
        const r1 = await request(server(), 'GET', '/v1/projects/alice-proj/versions/r1', { auth: AL });
        assert.equal(r1.json.creator, 'users/alice', 'r1 was not replaced by bob');
      });

      it("bob cannot delete alice's project or its versions", async () => {
        assertScrapydError(await scrapydPost(server(), 'delproject.json', { project: 'alice-proj' }, B), NO_ACCESS);
        assertScrapydError(await scrapydPost(server(), 'delversion.json', { project: 'alice-proj', version: 'r1' }, B), NO_ACCESS);
        assertPermissionDenied(await request(server(), 'DELETE', '/v1/projects/alice-proj', { auth: B }), NO_ACCESS);
        assertPermissionDenied(await request(server(), 'DELETE', '/v1/projects/alice-proj/versions/r1', { auth: B }), NO_ACCESS);
        assert.deepEqual(await scrapydProjects(server(), AL), ['alice-proj']);
      });

      it('bob cannot create a project whose name alice already uses', async () => {
        const reply = await request(server(), 'POST', '/v1/projects?projectId=alice-proj', { auth: B, json: {} });
        assert.equal(reply.status, 409, reply.text);
        assert.equal(reply.json.error.status, 'ALREADY_EXISTS');
        const owner = await request(server(), 'GET', '/v1/projects/alice-proj', { auth: AD });
        assert.equal(owner.json.owner, 'users/alice');
      });

      it('an admin sees and reads every project', async () => {
        assert.deepEqual(projectNames(await request(server(), 'GET', '/v1/projects', { auth: AD })), ['projects/alice-proj', 'projects/bob-proj']);
        assert.deepEqual(await scrapydProjects(server(), AD), ['alice-proj', 'bob-proj']);
        const spiders = await scrapydGet(server(), 'listspiders.json', { project: 'alice-proj' }, AD);
        assert.deepEqual(spiders.json.spiders, ['alpha', 'beta', 'gamma']);
        const project = await request(server(), 'GET', '/v1/projects/bob-proj', { auth: AD });
        assert.equal(project.status, 200, project.text);
        assert.equal(project.json.owner, 'users/bob');
      });

      it('only an admin lists or creates users; bob sees only himself', async () => {
        assertPermissionDenied(await request(server(), 'GET', '/v1/users', { auth: B }), 'this needs an admin');
        assertPermissionDenied(await request(server(), 'GET', '/v1/users/alice', { auth: B }), 'you can only see your own account');
        const create = await request(server(), 'POST', '/v1/users?userId=eve', { auth: B, json: { password: 'eve-pass-12' } });
        assertPermissionDenied(create, 'this needs an admin');
        assert.equal((await request(server(), 'GET', '/v1/users/bob', { auth: B })).json.name, 'users/bob');

        const users = await request(server(), 'GET', '/v1/users', { auth: AD });
        assert.equal(users.status, 200, users.text);
        assert.deepEqual(users.json.users.map((u: JsonObject) => u.name), ['users/alice', 'users/bob', 'users/root']);
        assert.ok(users.json.users.every((u: JsonObject) => u.password === undefined), 'no password hash or text in the list');
      });

      it('an admin creates a user over REST who can then sign in', async () => {
        const created = await request(server(), 'POST', '/v1/users?userId=eve', { auth: AD, json: { password: 'eve-pass-12' } });
        assert.equal(created.status, 200, created.text);
        assert.deepEqual(created.json, { name: 'users/eve', createTime: created.json.createTime });
        const me = await request(server(), 'GET', '/v1/users/me', { auth: authOf({ name: 'eve', password: 'eve-pass-12' }) });
        assert.equal(me.json.name, 'users/eve');
        assert.deepEqual(await scrapydProjects(server(), authOf({ name: 'eve', password: 'eve-pass-12' })), []);
      });
    });
  });
}
