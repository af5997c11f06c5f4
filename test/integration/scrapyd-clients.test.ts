/**
 * The scrapyd API driven by the clients people really use: curl (as in
 * scrapyd's documentation) and Python requests (as scrapyd-deploy,
 * python-scrapyd-api and ScrapydWeb send their requests), against the real
 * server. Runs once per database kind.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { execa } from 'execa';
import { testDatabaseKinds } from '../support/databases.js';
import { buildEgg, TEST_PYTHON } from '../support/eggs.js';
import { scrapydProjects, type JsonObject } from '../support/http-client.js';
import { ADMIN, authOf, useServer } from '../support/http-harness.js';
import type { TestServer } from '../support/server-process.js';

const A = authOf(ADMIN);
const CLIENT_TIMEOUT_MS = 60_000;

/** Runs curl (as ADMIN unless `user` is null); returns the HTTP status and the body (curl prints the status after a final newline). */
async function curl(server: TestServer, endpoint: string, args: string[], user: string | null = `${ADMIN.name}:${ADMIN.password}`) {
  const result = await execa('curl', ['-sS', '-w', '\n%{http_code}', ...(user ? ['-u', user] : []), ...args, `${server.baseUrl}/${endpoint}`], {
    stdin: 'ignore',
    timeout: CLIENT_TIMEOUT_MS,
  });
  const cut = result.stdout.lastIndexOf('\n');
  return { status: Number(result.stdout.slice(cut + 1)), body: result.stdout.slice(0, cut) };
}

/** What scrapyd-deploy and python-scrapyd-api do with requests: form data plus files, Basic auth. */
const PYTHON_CLIENT = `
import json, sys, requests
base, user, password, op = sys.argv[1:5]
auth = (user, password)
if op == "deploy":
    project, version, egg = sys.argv[5:8]
    with open(egg, "rb") as f:
        r = requests.post(base + "/addversion.json", data={"project": project, "version": version},
                          files={"egg": (project + ".egg", f)}, auth=auth, timeout=60)
elif op == "get":
    r = requests.get(base + "/" + sys.argv[5], params=json.loads(sys.argv[6]), auth=auth, timeout=60)
else:
    r = requests.post(base + "/" + sys.argv[5], data=json.loads(sys.argv[6]), auth=auth, timeout=60)
print(json.dumps({"status": r.status_code, "body": r.text}))
`;

async function python(server: TestServer, args: string[]): Promise<{ status: number; body: string }> {
  const result = await execa(TEST_PYTHON, ['-c', PYTHON_CLIENT, server.baseUrl, ADMIN.name, ADMIN.password, ...args], {
    stdin: 'ignore',
    timeout: CLIENT_TIMEOUT_MS,
  });
  return JSON.parse(result.stdout) as { status: number; body: string };
}

function okBody(reply: { status: number; body: string }): JsonObject {
  assert.equal(reply.status, 200, reply.body);
  assert.ok(reply.body.endsWith('\n'));
  const json = JSON.parse(reply.body) as JsonObject;
  assert.equal(json.status, 'ok', reply.body);
  return json;
}

for (const kind of testDatabaseKinds()) {
  describe(kind, () => {
    describe('scrapyd API with real clients', () => {
      const h = useServer(kind, { users: [ADMIN] });
      const server = () => h().server;

      it('curl -F project -F version -F egg=@file deploys, as in scrapyd\'s documentation', async () => {
        const egg = await buildEgg('quotes');
        const reply = await curl(server(), 'addversion.json', ['-F', 'project=curled', '-F', 'version=r1', '-F', `egg=@${egg}`]);
        const body = okBody(reply);
        assert.deepEqual(body, { node_name: body.node_name, status: 'ok', project: 'curled', version: 'r1', spiders: 3 });
      });

      it('curl -F egg=path (no @) gets the curl hint', async () => {
        const egg = await buildEgg('quotes');
        const reply = await curl(server(), 'addversion.json', ['-F', 'project=curled', '-F', 'version=r2', '-F', `egg=${egg}`]);
        assert.equal(reply.status, 200);
        const body = JSON.parse(reply.body) as JsonObject;
        assert.deepEqual(body, {
          node_name: body.node_name,
          status: 'error',
          message: 'egg is not a ZIP file (if using curl, use egg=@path not egg=path)',
        });
      });

      it('curl -d project=... deletes a project, and curl without -u gets 401 Unauthorized', async () => {
        const anonymous = await curl(server(), 'delproject.json', ['-d', 'project=curled'], null);
        assert.deepEqual(anonymous, { status: 401, body: 'Unauthorized' });
        assert.ok((await scrapydProjects(server(), A)).includes('curled'));
        okBody(await curl(server(), 'delproject.json', ['-d', 'project=curled']));
        assert.ok(!(await scrapydProjects(server(), A)).includes('curled'));
      });

      it('curl may send the egg part before the project and version fields (scrapyd reads the whole form)', async () => {
        const egg = await buildEgg('quotes');
        const reply = await curl(server(), 'addversion.json', ['-F', `egg=@${egg}`, '-F', 'project=eggfirst', '-F', 'version=r1']);
        const body = okBody(reply);
        assert.deepEqual(body, { node_name: body.node_name, status: 'ok', project: 'eggfirst', version: 'r1', spiders: 3 });
      });

      it('curl -F (multipart/form-data) parameters work on the POST endpoints too, as in scrapyd', async () => {
        okBody(await curl(server(), 'addversion.json', ['-F', 'project=formdel', '-F', 'version=r1', '-F', `egg=@${await buildEgg('quotes')}`]));
        okBody(await curl(server(), 'delproject.json', ['-F', 'project=formdel']));
        assert.ok(!(await scrapydProjects(server(), A)).includes('formdel'));
      });

      it('Python requests deploys, lists and deletes like scrapyd-deploy and python-scrapyd-api', async () => {
        const egg = await buildEgg('quotes');
        const deployed = okBody(await python(server(), ['deploy', 'pyproj', '1700000000', egg]));
        assert.deepEqual(deployed, { node_name: deployed.node_name, status: 'ok', project: 'pyproj', version: '1700000000', spiders: 3 });
        okBody(await python(server(), ['deploy', 'pyproj', '1700000001', egg]));
        const versions = okBody(await python(server(), ['get', 'listversions.json', JSON.stringify({ project: 'pyproj' })]));
        assert.deepEqual(versions.versions, ['1700000000', '1700000001']);
        const spiders = okBody(await python(server(), ['get', 'listspiders.json', JSON.stringify({ project: 'pyproj', _version: '1700000000' })]));
        assert.deepEqual(spiders.spiders, ['alpha', 'beta', 'gamma']);
        okBody(await python(server(), ['post', 'delversion.json', JSON.stringify({ project: 'pyproj', version: '1700000000' })]));
        const after = okBody(await python(server(), ['get', 'listversions.json', JSON.stringify({ project: 'pyproj' })]));
        assert.deepEqual(after.versions, ['1700000001']);
      });
    });
  });
}
