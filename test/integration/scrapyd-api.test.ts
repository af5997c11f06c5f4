/**
 * The scrapyd JSON API as scrapyd-deploy, ScrapydWeb and curl use it, against
 * the real server binary: exact bodies, errors with HTTP 200, eggs checked
 * before anything is stored, CORS and 401s. Runs once per database kind.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { testDatabaseKinds } from '../support/databases.js';
import { buildEgg, makeZip } from '../support/eggs.js';
import {
  addVersion,
  multipart,
  request,
  SCRAPYD_ENDPOINTS,
  scrapydCall,
  scrapydGet,
  scrapydPost,
  scrapydProjects,
  type Reply,
} from '../support/http-client.js';
import {
  ADMIN,
  authOf,
  blobPathOf,
  notAZip,
  quotesEgg,
  quotesEggWithoutGamma,
  storedBlobs,
  stagedUploads,
  uniqueQuotesEgg,
  useServer,
} from '../support/http-harness.js';
import { basic, type TestServer } from '../support/server-process.js';

const A = authOf(ADMIN);

/** Asserts a scrapyd answer: HTTP 200 (unless told), a newline-terminated JSON body equal to `expected` plus node_name. */
function assertScrapyd(reply: Reply, expected: Record<string, unknown>, httpStatus = 200): void {
  assert.equal(reply.status, httpStatus, reply.text);
  assert.ok(reply.text.endsWith('\n'), `body should end with a newline: ${JSON.stringify(reply.text)}`);
  const body = reply.json;
  assert.equal(typeof body.node_name, 'string');
  assert.notEqual(body.node_name, '');
  assert.deepEqual(body, { node_name: body.node_name, ...expected });
}

/** An error answer whose message matches `message` (exact when a string). */
function assertScrapydError(reply: Reply, message: string | RegExp): void {
  assert.equal(reply.status, 200, reply.text);
  assert.equal(reply.json.status, 'error', reply.text);
  if (typeof message === 'string') assertScrapyd(reply, { status: 'error', message });
  else assert.match(reply.json.message as string, message);
}

interface Snapshot {
  projects: string[];
  blobs: string[];
}

async function snapshot(server: TestServer): Promise<Snapshot> {
  return { projects: await scrapydProjects(server, A), blobs: await storedBlobs(server) };
}

/** Nothing was stored since `before`: same projects, same eggs, no staged upload left behind. */
async function assertNothingStored(server: TestServer, before: Snapshot): Promise<void> {
  assert.deepEqual(await snapshot(server), before);
  assert.deepEqual(await stagedUploads(server), []);
}

const EVIL_ZIP = () =>
  makeZip([
    { name: 'EGG-INFO/entry_points.txt', data: '[scrapy]\nsettings = quotes.settings\n' },
    { name: 'quotes/__init__.py', data: '' },
    { name: '../evil.py', data: 'import os\n' },
  ]);

for (const kind of testDatabaseKinds()) {
  describe(kind, () => {
    describe('scrapyd API', () => {
      const h = useServer(kind, { users: [ADMIN] });
      const server = () => h().server;

      it('addversion.json stores a real egg and answers exactly node_name, status, project, version and spider count', async () => {
        const reply = await addVersion(server(), A, 'quotes', 'r1', await quotesEgg());
        assertScrapyd(reply, { status: 'ok', project: 'quotes', version: 'r1', spiders: 3 });
        assert.deepEqual(Object.keys(reply.json), ['node_name', 'status', 'project', 'version', 'spiders']);
        assert.equal(reply.headers.get('access-control-allow-origin'), '*');
        assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
        assert.ok((await scrapydProjects(server(), A)).includes('quotes'));
      });

      it('listprojects.json lists every project by name, a new one included', async () => {
        const before = await scrapydProjects(server(), A);
        assert.ok(!before.includes('listed'));
        assertScrapyd(await addVersion(server(), A, 'listed', 'v1', await quotesEgg()), {
          status: 'ok', project: 'listed', version: 'v1', spiders: 3,
        });
        assertScrapyd(await scrapydGet(server(), 'listprojects.json', {}, A), {
          status: 'ok', projects: [...before, 'listed'].sort(),
        });
      });

      it('listversions.json lists versions oldest first; listspiders.json answers the latest version or _version', async () => {
        assert.equal((await addVersion(server(), A, 'versioned', 'r1', await quotesEgg())).json.status, 'ok');
        assertScrapyd(await addVersion(server(), A, 'versioned', 'r2', await quotesEggWithoutGamma()), {
          status: 'ok', project: 'versioned', version: 'r2', spiders: 2,
        });
        assertScrapyd(await scrapydGet(server(), 'listversions.json', { project: 'versioned' }, A), {
          status: 'ok', versions: ['r1', 'r2'],
        });
        assertScrapyd(await scrapydGet(server(), 'listspiders.json', { project: 'versioned' }, A), {
          status: 'ok', spiders: ['alpha', 'beta'],
        });
        assertScrapyd(await scrapydGet(server(), 'listspiders.json', { project: 'versioned', _version: 'r1' }, A), {
          status: 'ok', spiders: ['alpha', 'beta', 'gamma'],
        });
      });

      it('delversion.json deletes one version, and deleting the last version deletes the project', async () => {
        await addVersion(server(), A, 'shortlived', 'r1', await quotesEgg());
        await addVersion(server(), A, 'shortlived', 'r2', await quotesEggWithoutGamma());
        assertScrapyd(await scrapydPost(server(), 'delversion.json', { project: 'shortlived', version: 'r1' }, A), { status: 'ok' });
        assertScrapyd(await scrapydGet(server(), 'listversions.json', { project: 'shortlived' }, A), {
          status: 'ok', versions: ['r2'],
        });
        assertScrapyd(await scrapydPost(server(), 'delversion.json', { project: 'shortlived', version: 'r2' }, A), { status: 'ok' });
        assert.ok(!(await scrapydProjects(server(), A)).includes('shortlived'));
        assertScrapydError(await scrapydGet(server(), 'listversions.json', { project: 'shortlived' }, A), "project 'shortlived' not found");
      });

      it('delproject.json deletes a project with all its versions', async () => {
        await addVersion(server(), A, 'doomed', 'r1', await quotesEgg());
        await addVersion(server(), A, 'doomed', 'r2', await quotesEgg());
        assertScrapyd(await scrapydPost(server(), 'delproject.json', { project: 'doomed' }, A), { status: 'ok' });
        assert.ok(!(await scrapydProjects(server(), A)).includes('doomed'));
        assertScrapydError(await scrapydGet(server(), 'listspiders.json', { project: 'doomed' }, A), "project 'doomed' not found");
      });

      it('daemonstatus.json answers the pending, running and finished counts', async () => {
        assertScrapyd(await scrapydGet(server(), 'daemonstatus.json', {}, A), { status: 'ok', pending: 0, running: 0, finished: 0 });
      });

      it("an unknown project is an error with HTTP 200: project 'nope' not found", async () => {
        const message = "project 'nope' not found";
        assertScrapydError(await scrapydGet(server(), 'listversions.json', { project: 'nope' }, A), message);
        assertScrapydError(await scrapydGet(server(), 'listspiders.json', { project: 'nope' }, A), message);
        assertScrapydError(await scrapydPost(server(), 'delproject.json', { project: 'nope' }, A), message);
        assertScrapydError(await scrapydPost(server(), 'delversion.json', { project: 'nope', version: 'r1' }, A), message);
      });

      it("an unknown version is an error with HTTP 200: version 'zz' not found", async () => {
        await addVersion(server(), A, 'known', 'r1', await quotesEgg());
        const message = "version 'zz' not found";
        assertScrapydError(await scrapydGet(server(), 'listspiders.json', { project: 'known', _version: 'zz' }, A), message);
        assertScrapydError(await scrapydPost(server(), 'delversion.json', { project: 'known', version: 'zz' }, A), message);
        assertScrapyd(await scrapydGet(server(), 'listversions.json', { project: 'known' }, A), { status: 'ok', versions: ['r1'] });
      });

      it("a missing parameter is an error naming it: 'project' parameter is required", async () => {
        const noProject = "'project' parameter is required";
        assertScrapydError(await scrapydGet(server(), 'listversions.json', {}, A), noProject);
        assertScrapydError(await scrapydGet(server(), 'listspiders.json', {}, A), noProject);
        assertScrapydError(await scrapydPost(server(), 'delproject.json', {}, A), noProject);
        assertScrapydError(await scrapydPost(server(), 'delversion.json', { version: 'r1' }, A), noProject);
        assertScrapydError(await scrapydPost(server(), 'delversion.json', { project: 'known' }, A), "'version' parameter is required");
        const egg = await quotesEgg();
        const form = (fields: [string, string | Buffer][]) => request(server(), 'POST', '/addversion.json', { auth: A, body: multipart(fields) });
        assertScrapydError(await form([['version', 'r1'], ['egg', egg]]), noProject);
        assertScrapydError(await form([['project', 'known'], ['egg', egg]]), "'version' parameter is required");
        assertScrapydError(await form([['project', 'known'], ['version', 'r9']]), "'egg' parameter is required");
      });

      it('egg=path (the path as text, not the file) is refused with the curl hint and stores nothing', async () => {
        const before = await snapshot(server());
        const reply = await request(server(), 'POST', '/addversion.json', {
          auth: A,
          body: multipart([['project', 'textegg'], ['version', 'r1'], ['egg', 'dist/quotes-1.0-py3.egg']]),
        });
        assertScrapydError(reply, 'egg is not a ZIP file (if using curl, use egg=@path not egg=path)');
        await assertNothingStored(server(), before);
      });

      it('an uploaded file that is not a ZIP is refused with the same message and stores nothing', async () => {
        const before = await snapshot(server());
        assertScrapydError(
          await addVersion(server(), A, 'notzip', 'r1', notAZip(4096)),
          'egg is not a ZIP file (if using curl, use egg=@path not egg=path)',
        );
        await assertNothingStored(server(), before);
      });

      it('a project or version name that would escape storage (../p) is refused and nothing is stored', async () => {
        const egg = await uniqueQuotesEgg('traversal');
        const before = await snapshot(server());
        assertScrapydError(await addVersion(server(), A, '../p', 'r1', egg), /\.\.\/p/);
        assertScrapydError(await addVersion(server(), A, 'fine', '../v', egg), /\.\.\/v/);
        assertScrapydError(await addVersion(server(), A, '..', 'r1', egg), /project '\.\.'/);
        await assertNothingStored(server(), before);
      });

      it('an egg whose spiders fail to import is refused with the Python error (ModuleNotFoundError)', async () => {
        const before = await snapshot(server());
        const reply = await addVersion(server(), A, 'broken', 'r1', await readFile(await buildEgg('broken_import')));
        assertScrapydError(reply, /ModuleNotFoundError/);
        await assertNothingStored(server(), before);
      });

      it('an egg whose settings module raises is refused with the Python error (ZeroDivisionError)', async () => {
        const before = await snapshot(server());
        const reply = await addVersion(server(), A, 'badsettings', 'r1', await readFile(await buildEgg('bad_settings')));
        assertScrapydError(reply, /ZeroDivisionError/);
        await assertNothingStored(server(), before);
      });

      it('an egg without the scrapy entry point is refused, naming it', async () => {
        const before = await snapshot(server());
        const reply = await addVersion(server(), A, 'noentry', 'r1', await readFile(await buildEgg('no_entry_point')));
        assertScrapydError(reply, /scrapy entry point/);
        await assertNothingStored(server(), before);
      });

      it('a zip with an entry ../evil.py is refused and nothing is stored', async () => {
        const before = await snapshot(server());
        assertScrapydError(await addVersion(server(), A, 'evil', 'r1', await EVIL_ZIP()), /\.\.\/evil\.py/);
        await assertNothingStored(server(), before);
      });

      it('the same egg uploaded as two versions is stored once, and removed with its last version', async () => {
        const egg = await uniqueQuotesEgg('dedupe');
        const before = await storedBlobs(server());
        assert.ok(!before.includes(blobPathOf(egg)));
        for (const version of ['v1', 'v2']) {
          assertScrapyd(await addVersion(server(), A, 'dedupe', version, egg), { status: 'ok', project: 'dedupe', version, spiders: 3 });
        }
        const expected = [...before, blobPathOf(egg)].sort();
        assert.deepEqual(await storedBlobs(server()), expected);
        assertScrapyd(await scrapydPost(server(), 'delversion.json', { project: 'dedupe', version: 'v1' }, A), { status: 'ok' });
        assert.deepEqual(await storedBlobs(server()), expected, 'v2 still uses the egg');
        assertScrapyd(await scrapydPost(server(), 'delproject.json', { project: 'dedupe' }, A), { status: 'ok' });
        assert.deepEqual(await storedBlobs(server()), before);
      });

      it('re-uploading a version replaces it, makes it the latest, and drops the replaced egg from the store', async () => {
        const first = await uniqueQuotesEgg('replace-first');
        const second = await quotesEggWithoutGamma();
        const before = await storedBlobs(server());
        await addVersion(server(), A, 'replaced', 'r1', first);
        await addVersion(server(), A, 'replaced', 'r2', await quotesEgg());
        assertScrapyd(await addVersion(server(), A, 'replaced', 'r1', second), { status: 'ok', project: 'replaced', version: 'r1', spiders: 2 });
        assertScrapyd(await scrapydGet(server(), 'listversions.json', { project: 'replaced' }, A), { status: 'ok', versions: ['r2', 'r1'] });
        assertScrapyd(await scrapydGet(server(), 'listspiders.json', { project: 'replaced' }, A), { status: 'ok', spiders: ['alpha', 'beta'] });
        const blobs = await storedBlobs(server());
        assert.ok(blobs.includes(blobPathOf(second)));
        assert.ok(!blobs.includes(blobPathOf(first)), 'no version uses the first egg any more, so it should be gone');
        assert.deepEqual(blobs, [...new Set([...before, blobPathOf(second), blobPathOf(await quotesEgg())])].sort());
      });

      it('GET on addversion.json (a POST endpoint) answers 405; POST on listprojects.json too', async () => {
        assertScrapyd(await request(server(), 'GET', '/addversion.json', { auth: A }), {
          status: 'error', message: 'Expected one of OPTIONS, HEAD, POST',
        }, 405);
        assertScrapyd(await scrapydPost(server(), 'listprojects.json', {}, A), {
          status: 'error', message: 'Expected one of OPTIONS, HEAD, GET',
        }, 405);
      });

      it('OPTIONS answers 204 with an empty body, the Allow header and Access-Control-Allow-Origin: *', async () => {
        for (const { endpoint, method } of SCRAPYD_ENDPOINTS) {
          const reply = await request(server(), 'OPTIONS', `/${endpoint}`);
          assert.equal(reply.status, 204, endpoint);
          assert.equal(reply.text, '', endpoint);
          assert.equal(reply.headers.get('allow'), `OPTIONS, HEAD, ${method}`, endpoint);
          assert.equal(reply.headers.get('access-control-allow-origin'), '*', endpoint);
        }
      });

      it('every scrapyd endpoint answers 401 with the body Unauthorized when no credentials are sent', async () => {
        assert.equal(SCRAPYD_ENDPOINTS.length, 11);
        for (const { endpoint, method } of SCRAPYD_ENDPOINTS) {
          const reply = await scrapydCall(server(), endpoint, method);
          assert.equal(reply.status, 401, `${method} ${endpoint}: ${reply.text}`);
          assert.equal(reply.text, 'Unauthorized', endpoint);
          assert.match(reply.headers.get('www-authenticate') ?? '', /^Basic /, endpoint);
        }
        const upload = await addVersion(server(), undefined, 'anonymous', 'r1', await quotesEgg());
        assert.equal(upload.status, 401);
        assert.equal(upload.text, 'Unauthorized');
        assert.ok(!(await scrapydProjects(server(), A)).includes('anonymous'));
      });

      it('a wrong password or an unknown user gets 401 Unauthorized on every endpoint', async () => {
        for (const auth of [basic(ADMIN.name, 'not-the-password'), basic('nobody', ADMIN.password)]) {
          for (const { endpoint, method } of SCRAPYD_ENDPOINTS) {
            const reply = await scrapydCall(server(), endpoint, method, auth);
            assert.equal(reply.status, 401, `${method} ${endpoint}: ${reply.text}`);
            assert.equal(reply.text, 'Unauthorized', endpoint);
          }
        }
      });
    });

    describe('scrapyd API with max_upload_size = 64KiB and spider_list_timeout = 6', () => {
      const h = useServer(kind, { users: [ADMIN], settings: { max_upload_size: '64KiB', spider_list_timeout: '6' } });

      it('an egg over max_upload_size is refused and nothing is stored', async () => {
        const { server } = h();
        const before = await snapshot(server);
        const oversized = Buffer.concat([await quotesEgg(), Buffer.alloc(80 * 1024)]);
        assert.ok(oversized.length > 64 * 1024);
        assertScrapydError(await addVersion(server, A, 'huge', 'r1', oversized), 'egg is larger than max_upload_size (65536 bytes)');
        await assertNothingStored(server, before);
        assert.deepEqual(before, { projects: [], blobs: [] });
      });

      it('an egg whose spiders hang at import is refused after spider_list_timeout and nothing is stored', async () => {
        const { server } = h();
        const before = await snapshot(server);
        const started = Date.now();
        const reply = await addVersion(server, A, 'slow', 'r1', await readFile(await buildEgg('slow_import')));
        assertScrapydError(reply, 'listing spiders timed out after 6 s');
        assert.ok(Date.now() - started < 20_000, `answered after ${Date.now() - started} ms`);
        await assertNothingStored(server, before);
      });

      it('an egg under max_upload_size is still accepted', async () => {
        const { server } = h();
        assertScrapyd(await addVersion(server, A, 'small', 'r1', await quotesEgg()), {
          status: 'ok', project: 'small', version: 'r1', spiders: 3,
        });
        assert.deepEqual(await scrapydProjects(server, A), ['small']);
        assert.deepEqual(await storedBlobs(server), [blobPathOf(await quotesEgg())]);
      });
    });
  });
}
