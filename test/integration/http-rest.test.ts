/**
 * The REST API transcoded from the protos' google.api.http rules, on the same
 * port as everything else: proto3 JSON bodies, uploads as multipart or raw
 * bytes, google.rpc.Status error bodies and HTTP-level answers (404, 405,
 * 501, health). Runs once per database kind.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { testDatabaseKinds } from '../support/databases.js';
import { multipart, request, type JsonObject, type Reply } from '../support/http-client.js';
import { ADMIN, ALICE, authOf, notAZip, quotesEgg, quotesEggWithoutGamma, useServer } from '../support/http-harness.js';

const AL = authOf(ALICE);
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const ERROR_INFO = 'type.googleapis.com/google.rpc.ErrorInfo';

/** Asserts a 200 answer and returns its JSON body. */
function ok(reply: Reply): JsonObject {
  assert.equal(reply.status, 200, reply.text);
  assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
  return reply.json;
}

/** Asserts an AIP-193 error body: HTTP status = error.code, the status name, and ErrorInfo first in details. */
function assertRestError(reply: Reply, httpStatus: number, status: string, reason: string, message?: string | RegExp): JsonObject {
  assert.equal(reply.status, httpStatus, reply.text);
  const { error } = reply.json;
  assert.equal(error.code, httpStatus, reply.text);
  assert.equal(error.status, status);
  if (typeof message === 'string') assert.equal(error.message, message);
  else if (message) assert.match(error.message as string, message);
  assert.deepEqual(Object.keys(reply.json), ['error']);
  assert.equal(error.details[0]['@type'], ERROR_INFO);
  assert.equal(error.details[0].reason, reason);
  assert.equal(error.details[0].domain, 'scrapydd.io');
  return error;
}

/** Asserts an RFC 3339 timestamp within the last `withinMs`. */
function assertRecent(value: unknown, withinMs = 120_000): void {
  assert.equal(typeof value, 'string');
  assert.match(value as string, RFC3339);
  const age = Date.now() - Date.parse(value as string);
  assert.ok(age >= -5_000 && age < withinMs, `timestamp ${String(value)} is not recent`);
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

for (const kind of testDatabaseKinds()) {
  describe(kind, () => {
    describe('REST API', () => {
      const h = useServer(kind, { users: [ADMIN, ALICE] });
      const call = (method: string, path: string, opts: Parameters<typeof request>[3] = {}) =>
        request(h().server, method, path, { auth: AL, ...opts });

      it('POST /v1/projects?projectId= with body project creates a project owned by the caller', async () => {
        const body = ok(await call('POST', '/v1/projects?projectId=rest-demo', { json: {} }));
        assertRecent(body.createTime);
        assert.deepEqual(body, {
          name: 'projects/rest-demo',
          owner: 'users/alice',
          createTime: body.createTime,
          updateTime: body.updateTime,
        });
        assertRecent(body.updateTime);
        assertRestError(await call('POST', '/v1/projects?projectId=rest-demo', { json: {} }), 409, 'ALREADY_EXISTS', 'ALREADY_EXISTS',
          "project 'rest-demo' already exists");
        assertRestError(await call('POST', '/v1/projects?projectId=..', { json: {} }), 400, 'INVALID_ARGUMENT', 'INVALID_NAME');
        assertRestError(await call('POST', '/v1/projects?projectId=other', { json: { name: 'projects/mismatch' } }), 400,
          'INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'project.name must be empty or projects/{project_id}');
      });

      it('GET /v1/projects/{p} returns the project and GET /v1/projects lists it', async () => {
        ok(await call('POST', '/v1/projects?projectId=listed-rest', { json: {} }));
        const project = ok(await call('GET', '/v1/projects/listed-rest'));
        assert.equal(project.name, 'projects/listed-rest');
        assert.equal(project.owner, 'users/alice');
        const list = ok(await call('GET', '/v1/projects'));
        assert.deepEqual(Object.keys(list), ['projects']);
        assert.deepEqual(list.projects.find((p: JsonObject) => p.name === 'projects/listed-rest'), project);
      });

      it('ListProjects pages with pageSize and nextPageToken until every project was seen once', async () => {
        for (const id of ['page-a', 'page-b', 'page-c']) ok(await call('POST', `/v1/projects?projectId=${id}`, { json: {} }));
        const all = (ok(await call('GET', '/v1/projects?pageSize=1000')).projects as JsonObject[]).map((p) => p.name);
        const seen: string[] = [];
        let token = '';
        do {
          const page = ok(await call('GET', `/v1/projects?pageSize=2${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`));
          assert.ok(page.projects.length <= 2);
          seen.push(...page.projects.map((p: JsonObject) => p.name as string));
          token = page.nextPageToken ?? '';
        } while (token);
        assert.deepEqual(seen, all);
        assert.ok(all.length >= 3);
        assertRestError(await call('GET', '/v1/projects?pageToken=garbage'), 400, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT',
          'page_token is not valid for this request');
      });

      it('a multipart upload (version, then egg) to :upload creates a version in proto3 JSON', async () => {
        ok(await call('POST', '/v1/projects?projectId=uploads', { json: {} }));
        const egg = await quotesEgg();
        const body = ok(await call('POST', '/v1/projects/uploads/versions:upload', { body: multipart([['version', 'r1'], ['egg', egg]]) }));
        assertRecent(body.createTime);
        assert.deepEqual(body, {
          name: 'projects/uploads/versions/r1',
          eggSha256: sha256(egg),
          eggSizeBytes: String(egg.length),
          settingsModule: 'quotes.settings',
          spiders: ['alpha', 'beta', 'gamma'],
          creator: 'users/alice',
          createTime: body.createTime,
        });
        assert.deepEqual(ok(await call('GET', '/v1/projects/uploads/versions/r1')), body);
        assert.equal(ok(await call('GET', '/v1/projects/uploads')).spiderCount, 3);
      });

      it('a raw-body upload with ?version= creates a version too', async () => {
        const egg = await quotesEggWithoutGamma();
        const body = ok(await call('POST', '/v1/projects/uploads/versions:upload?version=r2', {
          body: egg, headers: { 'content-type': 'application/octet-stream' },
        }));
        assert.equal(body.name, 'projects/uploads/versions/r2');
        assert.equal(body.eggSizeBytes, String(egg.length));
        assert.equal(body.eggSha256, sha256(egg));
        assert.deepEqual(body.spiders, ['alpha', 'beta']);
        const project = ok(await call('GET', '/v1/projects/uploads'));
        assert.equal(project.latestVersion, 'projects/uploads/versions/r2');
        assert.equal(project.versionCount, 2);
        assert.equal(project.spiderCount, 2, 'gamma is missing from r2: not counted');
      });

      it('a raw-body upload checks the optional sha256 and sizeBytes query parameters', async () => {
        const egg = await quotesEgg();
        const upload = (query: string) => call('POST', `/v1/projects/uploads/versions:upload?version=checked&${query}`, { body: egg });
        assertRestError(await upload(`sha256=${'0'.repeat(64)}`), 400, 'INVALID_ARGUMENT', 'CHECKSUM_MISMATCH', 'egg does not match the given sha256');
        assertRestError(await upload('sizeBytes=5'), 400, 'INVALID_ARGUMENT', 'SIZE_MISMATCH', `egg has ${egg.length} bytes, not the given 5`);
        assertRestError(await call('GET', '/v1/projects/uploads/versions/checked'), 404, 'NOT_FOUND', 'VERSION_NOT_FOUND');
        const body = ok(await upload(`sha256=${sha256(egg).toUpperCase()}&sizeBytes=${egg.length}`));
        assert.equal(body.eggSha256, sha256(egg));
        assert.deepEqual(ok(await call('DELETE', '/v1/projects/uploads/versions/checked')), {});
      });

      it('GET versions lists them oldest first; GET spiders answers the latest version or ?version=r1', async () => {
        const versions = ok(await call('GET', '/v1/projects/uploads/versions'));
        assert.deepEqual(Object.keys(versions), ['versions']);
        assert.deepEqual(versions.versions.map((v: JsonObject) => v.name), ['projects/uploads/versions/r1', 'projects/uploads/versions/r2']);
        const names = (reply: Reply) => ok(reply).spiders.map((s: JsonObject) => s.name);
        assert.deepEqual(names(await call('GET', '/v1/projects/uploads/spiders')), ['projects/uploads/spiders/alpha', 'projects/uploads/spiders/beta']);
        assert.deepEqual(names(await call('GET', '/v1/projects/uploads/spiders?version=r1')), [
          'projects/uploads/spiders/alpha', 'projects/uploads/spiders/beta', 'projects/uploads/spiders/gamma',
        ]);
        assertRestError(await call('GET', '/v1/projects/uploads/spiders?version=zz'), 404, 'NOT_FOUND', 'VERSION_NOT_FOUND', "version 'zz' not found");
      });

      it('GET /v1/projects/{p}/spiders/{s} returns one spider with its default settings', async () => {
        const spider = ok(await call('GET', '/v1/projects/uploads/spiders/alpha'));
        assertRecent(spider.createTime);
        assert.deepEqual(spider, {
          name: 'projects/uploads/spiders/alpha',
          latestVersion: 'projects/uploads/versions/r2',
          settings: { concurrency: 1, timeoutSeconds: 3600 },
          createTime: spider.createTime,
          updateTime: spider.updateTime,
        });
        assertRestError(await call('GET', '/v1/projects/uploads/spiders/zz'), 404, 'NOT_FOUND', 'SPIDER_NOT_FOUND', "spider 'zz' not found");
      });

      it('an upload is refused without a version, as JSON, to a missing project unless createProject, or with a non-ZIP egg', async () => {
        const egg = await quotesEgg();
        const upload = (query: string, opts: Parameters<typeof request>[3]) => call('POST', `/v1/projects/fresh/versions:upload${query}`, opts);
        assertRestError(await upload('', { body: multipart([['egg', egg]]) }), 400, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', /version is required/);
        assertRestError(await upload('?version=r1', { json: { egg: 'x' } }), 400, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT');
        assertRestError(await upload('', { body: multipart([['version', 'r1'], ['egg', egg]]) }), 404, 'NOT_FOUND', 'PROJECT_NOT_FOUND',
          "project 'fresh' not found");
        const created = ok(await upload('', { body: multipart([['version', 'r1'], ['createProject', 'true'], ['egg', egg]]) }));
        assert.equal(created.name, 'projects/fresh/versions/r1');
        assertRestError(await upload('?version=r2', { body: notAZip(), headers: { 'content-type': 'application/octet-stream' } }), 400,
          'INVALID_ARGUMENT', 'EGG_NOT_ZIP', 'egg is not a ZIP file (if using curl, use egg=@path not egg=path)');
        assert.deepEqual(ok(await call('GET', '/v1/projects/fresh/versions')).versions.map((v: JsonObject) => v.name), ['projects/fresh/versions/r1']);
      });

      it('DELETE a version and then the project; both are gone afterwards', async () => {
        assert.deepEqual(ok(await call('DELETE', '/v1/projects/uploads/versions/r1')), {});
        assertRestError(await call('GET', '/v1/projects/uploads/versions/r1'), 404, 'NOT_FOUND', 'VERSION_NOT_FOUND', "version 'r1' not found");
        assert.deepEqual(ok(await call('DELETE', '/v1/projects/uploads')), {});
        assertRestError(await call('GET', '/v1/projects/uploads'), 404, 'NOT_FOUND', 'PROJECT_NOT_FOUND');
        assertRestError(await call('GET', '/v1/projects/uploads/versions/r2'), 404, 'NOT_FOUND', 'PROJECT_NOT_FOUND');
      });

      it('errors are {"error":{code,message,status,details:[ErrorInfo]}} bodies', async () => {
        const reply = await call('GET', '/v1/projects/nope');
        assert.equal(reply.status, 404);
        assert.deepEqual(reply.json, {
          error: {
            code: 404,
            message: "project 'nope' not found",
            status: 'NOT_FOUND',
            details: [{ '@type': ERROR_INFO, reason: 'PROJECT_NOT_FOUND', domain: 'scrapydd.io', metadata: { project: 'nope' } }],
          },
        });
      });

      it('a malformed JSON body answers 400 INVALID_ARGUMENT and creates nothing', async () => {
        const reply = await call('POST', '/v1/projects?projectId=malformed', { json: '{"project": ' });
        assertRestError(reply, 400, 'INVALID_ARGUMENT', 'MALFORMED_JSON', /^request body is not valid JSON/);
        assertRestError(await call('GET', '/v1/projects/malformed'), 404, 'NOT_FOUND', 'PROJECT_NOT_FOUND');
      });

      it('an unknown route answers 404 NOT_FOUND', async () => {
        assertRestError(await call('GET', '/v1/nothing/here'), 404, 'NOT_FOUND', 'ROUTE_NOT_FOUND', 'no API route for GET /v1/nothing/here');
        assertRestError(await call('GET', '/v1/projects/a/b/c/d/e'), 404, 'NOT_FOUND', 'ROUTE_NOT_FOUND');
        const outside = await call('GET', '/not-an-endpoint');
        assert.equal(outside.status, 404);
        assert.equal(outside.json.error.status, 'NOT_FOUND');
      });

      it('a malformed percent-escape in the path answers 400 INVALID_ARGUMENT, not 500', async () => {
        assertRestError(await call('GET', '/v1/projects/%ZZ'), 400, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'malformed percent-encoding in URL path');
        assertRestError(await call('DELETE', '/v1/projects/a%2/versions/b'), 400, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT');
      });

      it('a method the route does not take answers 405 with an Allow header', async () => {
        const put = await call('PUT', '/v1/projects');
        assert.equal(put.status, 405, put.text);
        assert.equal(put.headers.get('allow'), 'GET, HEAD, POST');
        assert.equal(put.json.error.code, 405, `error.code should repeat the HTTP status: ${put.text}`);
        const post = await call('POST', '/v1/projects/uploads/versions/r1', { json: {} });
        assert.equal(post.status, 405, post.text);
        assert.equal(post.headers.get('allow'), 'DELETE, GET, HEAD');
      });

      it('a bad pageSize answers 400 naming the parameter', async () => {
        const error = assertRestError(await call('GET', '/v1/projects?pageSize=abc'), 400, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT',
          'invalid value for query parameter "pageSize": expected an integer (int32), got "abc"');
        assert.deepEqual(error.details[1].fieldViolations.map((v: JsonObject) => v.field), ['pageSize']);
        assertRestError(await call('GET', '/v1/projects?page_size=-1'), 400, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'page_size must not be negative');
      });

      it('/healthz and /readyz answer 200 without credentials', async () => {
        for (const path of ['/healthz', '/readyz']) {
          const reply = await request(h().server, 'GET', path);
          assert.equal(reply.status, 200, path);
          assert.deepEqual(reply.json, { status: 'ok' });
        }
      });
    });
  });
}
