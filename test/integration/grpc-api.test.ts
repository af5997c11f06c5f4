/**
 * The gRPC API end to end: the generated grpc-js clients against the real
 * server binary, over both databases, with Basic and Bearer credentials.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { BadRequest } from '../../gen/google/rpc/error_details.js';
import { GetWebhookRequest, WebhookServiceClient } from '../../gen/scrapydd/v1/webhook.js';
import {
  CreateProjectRequest,
  DeleteProjectRequest,
  GetProjectRequest,
  ListProjectsRequest,
  ProjectServiceClient,
} from '../../gen/scrapydd/v1/project.js';
import { GetSpiderRequest, ListSpidersRequest, SpiderServiceClient } from '../../gen/scrapydd/v1/spider.js';
import { CreateApiKeyRequest, UserServiceClient } from '../../gen/scrapydd/v1/user.js';
import {
  DeleteVersionRequest,
  GetVersionRequest,
  ListVersionsRequest,
  VersionServiceClient,
} from '../../gen/scrapydd/v1/version.js';
import { testDatabaseKinds } from '../support/databases.js';
import { buildEgg } from '../support/eggs.js';
import {
  addUser,
  auth,
  bearer,
  callOptions,
  closeAll,
  grpcError,
  readEgg,
  startGrpcTestServer,
  statusDetails,
  unary,
  uploadVersion,
  type EggBytes,
  type GrpcTestServer,
} from '../support/grpc-client.js';
import { basic } from '../support/server-process.js';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const BROKEN_IMPORT_ERROR = "ModuleNotFoundError: No module named 'scrapydd_fixture_missing_dependency'";

for (const kind of testDatabaseKinds()) {
  describe(`gRPC API on ${kind}`, () => {
    let env: GrpcTestServer;
    let projects: ProjectServiceClient;
    let versions: VersionServiceClient;
    let spiders: SpiderServiceClient;
    let users: UserServiceClient;
    let webhooks: WebhookServiceClient;
    let admin: grpc.Metadata;
    let key: grpc.Metadata;
    let bob: grpc.Metadata;
    let quotes: EggBytes;

    const getProject = (name: string, md = admin) => unary(projects.getProject.bind(projects), GetProjectRequest.fromPartial({ name }), md);
    const createProject = (projectId: string, md = admin) =>
      unary(projects.createProject.bind(projects), CreateProjectRequest.fromPartial({ projectId }), md);
    const listProjects = (pageSize: number, pageToken: string, md = admin) =>
      unary(projects.listProjects.bind(projects), ListProjectsRequest.fromPartial({ pageSize, pageToken }), md);

    before(async () => {
      env = await startGrpcTestServer(kind);
      const creds = grpc.credentials.createInsecure();
      projects = new ProjectServiceClient(env.server.address, creds);
      versions = new VersionServiceClient(env.server.address, creds);
      spiders = new SpiderServiceClient(env.server.address, creds);
      users = new UserServiceClient(env.server.address, creds);
      webhooks = new WebhookServiceClient(env.server.address, creds);
      admin = auth(env.admin);
      await addUser(env.server, 'bob', 'bob-password-1');
      bob = auth(basic('bob', 'bob-password-1'));
      quotes = await readEgg(await buildEgg('quotes'));
    });

    after(async () => {
      closeAll(projects, versions, spiders, users, webhooks);
      await env?.close();
    });

    it('creates an API key that authenticates as Bearer and as Basic with its id', async () => {
      const created = await unary(
        users.createApiKey.bind(users),
        CreateApiKeyRequest.fromPartial({ parent: 'users/me', apiKey: { displayName: 'grpc tests' } }),
        admin,
      );
      const m = /^users\/admin\/apiKeys\/(\d{1,20})$/.exec(created.name);
      assert.ok(m, `unexpected api key name ${created.name}`);
      assert.equal(created.displayName, 'grpc tests');
      assert.notEqual(created.secret, '');
      assert.match(created.createTime ?? '', ISO);
      key = auth(bearer(created.secret));

      const viaBearer = await createProject('keyed', key);
      assert.equal(viaBearer.owner, 'users/admin');
      const viaBasicKey = await getProject('projects/keyed', auth(basic(m[1]!, created.secret)));
      assert.equal(viaBasicKey.name, 'projects/keyed');

      const wrong = await grpcError(getProject('projects/keyed', auth(bearer(`${created.secret}x`))));
      assert.equal(wrong.code, grpc.status.UNAUTHENTICATED);
      await unary(projects.deleteProject.bind(projects), DeleteProjectRequest.fromPartial({ name: 'projects/keyed' }), key);
    });

    it('creates, gets and pages through projects with page_size 1', async () => {
      for (const id of ['pc', 'pa', 'pb']) {
        const p = await createProject(id, key);
        assert.deepEqual(
          { name: p.name, owner: p.owner, latestVersion: p.latestVersion, versionCount: p.versionCount },
          { name: `projects/${id}`, owner: 'users/admin', latestVersion: '', versionCount: 0 },
        );
        assert.match(p.createTime ?? '', ISO);
        assert.match(p.updateTime ?? '', ISO);
      }
      const got = await getProject('projects/pb');
      assert.equal(got.name, 'projects/pb');
      assert.equal(got.owner, 'users/admin');

      const dup = await grpcError(createProject('pa'));
      assert.equal(dup.code, grpc.status.ALREADY_EXISTS);

      const pages: string[][] = [];
      let token = '';
      do {
        const res = await listProjects(1, token, pages.length % 2 === 0 ? admin : key);
        pages.push(res.projects.map((p) => p.name));
        token = res.nextPageToken;
        assert.ok(pages.length <= 4, 'paging does not end');
      } while (token !== '');
      assert.deepEqual(pages, [['projects/pa'], ['projects/pb'], ['projects/pc']]);

      const all = await listProjects(0, '');
      assert.deepEqual(all.projects.map((p) => p.name), ['projects/pa', 'projects/pb', 'projects/pc']);
      assert.equal(all.nextPageToken, '');

      const bad = await grpcError(listProjects(1, 'not-a-token'));
      assert.equal(bad.code, grpc.status.INVALID_ARGUMENT);
      assert.equal(statusDetails(bad).errorInfo?.reason, 'INVALID_ARGUMENT');

      for (const id of ['pa', 'pb', 'pc']) {
        await unary(projects.deleteProject.bind(projects), DeleteProjectRequest.fromPartial({ name: `projects/${id}` }), admin);
      }
      const gone = await grpcError(getProject('projects/pa'));
      assert.equal(gone.code, grpc.status.NOT_FOUND);
      assert.deepEqual((await listProjects(0, '')).projects, []);
    });

    it('uploads versions as client streams and serves versions and spiders', async () => {
      assert.ok(quotes.data.length > 2 * 1024, `the egg has only ${quotes.data.length} bytes: not several 1 KiB chunks`);
      const r1 = await uploadVersion(
        versions,
        admin,
        { parent: 'projects/quotes', versionId: 'r1', createProject: true, sha256: quotes.sha256, sizeBytes: String(quotes.data.length) },
        quotes.data,
      );
      assert.deepEqual(
        { ...r1, createTime: undefined },
        {
          name: 'projects/quotes/versions/r1',
          eggSha256: quotes.sha256,
          eggSizeBytes: String(quotes.data.length),
          settingsModule: 'quotes.settings',
          spiders: ['alpha', 'beta', 'gamma'],
          creator: 'users/admin',
          createTime: undefined,
        },
      );
      assert.match(r1.createTime ?? '', ISO);

      const r2 = await uploadVersion(versions, key, { parent: 'projects/quotes', versionId: 'r2' }, quotes.data, 1000);
      assert.equal(r2.name, 'projects/quotes/versions/r2');
      assert.equal(r2.eggSha256, quotes.sha256);
      assert.deepEqual(r2.spiders, ['alpha', 'beta', 'gamma']);

      const project = await getProject('projects/quotes');
      assert.equal(project.latestVersion, 'projects/quotes/versions/r2');
      assert.equal(project.versionCount, 2);

      const listed = await unary(versions.listVersions.bind(versions), ListVersionsRequest.fromPartial({ parent: 'projects/quotes' }), admin);
      assert.deepEqual(listed.versions.map((v) => v.name), ['projects/quotes/versions/r1', 'projects/quotes/versions/r2']);
      assert.equal(listed.nextPageToken, '');
      const page1 = await unary(
        versions.listVersions.bind(versions),
        ListVersionsRequest.fromPartial({ parent: 'projects/quotes', pageSize: 1 }),
        admin,
      );
      assert.deepEqual(page1.versions.map((v) => v.name), ['projects/quotes/versions/r1']);
      assert.notEqual(page1.nextPageToken, '');

      const got = await unary(versions.getVersion.bind(versions), GetVersionRequest.fromPartial({ name: 'projects/quotes/versions/r1' }), key);
      assert.deepEqual(got, r1);

      const latest = await unary(spiders.listSpiders.bind(spiders), ListSpidersRequest.fromPartial({ parent: 'projects/quotes' }), admin);
      assert.deepEqual(latest.spiders.map((s) => [s.name, s.latestVersion, s.missing]), [
        ['projects/quotes/spiders/alpha', 'projects/quotes/versions/r2', false],
        ['projects/quotes/spiders/beta', 'projects/quotes/versions/r2', false],
        ['projects/quotes/spiders/gamma', 'projects/quotes/versions/r2', false],
      ]);
      const ofR1 = await unary(
        spiders.listSpiders.bind(spiders),
        ListSpidersRequest.fromPartial({ parent: 'projects/quotes', version: 'r1' }),
        admin,
      );
      assert.deepEqual(ofR1.spiders.map((s) => s.name), ['projects/quotes/spiders/alpha', 'projects/quotes/spiders/beta', 'projects/quotes/spiders/gamma']);
      // In pages, by name: page_size is honoured and the token carries on (and belongs to its request).
      const firstTwo = await unary(spiders.listSpiders.bind(spiders), ListSpidersRequest.fromPartial({ parent: 'projects/quotes', pageSize: 2 }), admin);
      assert.deepEqual(firstTwo.spiders.map((s) => s.name), ['projects/quotes/spiders/alpha', 'projects/quotes/spiders/beta']);
      assert.notEqual(firstTwo.nextPageToken, '');
      const rest = await unary(
        spiders.listSpiders.bind(spiders),
        ListSpidersRequest.fromPartial({ parent: 'projects/quotes', pageSize: 2, pageToken: firstTwo.nextPageToken }),
        admin,
      );
      assert.deepEqual([rest.spiders.map((s) => s.name), rest.nextPageToken], [['projects/quotes/spiders/gamma'], '']);
      const otherRequest = await grpcError(
        unary(spiders.listSpiders.bind(spiders), ListSpidersRequest.fromPartial({ parent: 'projects/quotes', version: 'r1', pageToken: firstTwo.nextPageToken }), admin),
      );
      assert.equal(otherRequest.code, grpc.status.INVALID_ARGUMENT);
      const noSuchVersion = await grpcError(
        unary(spiders.listSpiders.bind(spiders), ListSpidersRequest.fromPartial({ parent: 'projects/quotes', version: 'r9' }), admin),
      );
      assert.equal(noSuchVersion.code, grpc.status.NOT_FOUND);
      assert.equal(statusDetails(noSuchVersion).errorInfo?.reason, 'VERSION_NOT_FOUND');

      const beta = await unary(spiders.getSpider.bind(spiders), GetSpiderRequest.fromPartial({ name: 'projects/quotes/spiders/beta' }), key);
      assert.equal(beta.name, 'projects/quotes/spiders/beta');
      assert.equal(beta.latestVersion, 'projects/quotes/versions/r2');
      assert.equal(beta.missing, false);
      assert.equal(beta.settings?.concurrency, 1);
      assert.equal(beta.settings?.timeoutSeconds, 3600);
      const noSpider = await grpcError(
        unary(spiders.getSpider.bind(spiders), GetSpiderRequest.fromPartial({ name: 'projects/quotes/spiders/delta' }), admin),
      );
      assert.equal(noSpider.code, grpc.status.NOT_FOUND);
      assert.equal(statusDetails(noSpider).errorInfo?.reason, 'SPIDER_NOT_FOUND');
    });

    it('deletes versions; deleting the last one deletes the project', async () => {
      const del = (name: string) => unary(versions.deleteVersion.bind(versions), DeleteVersionRequest.fromPartial({ name }), admin);
      await del('projects/quotes/versions/r2');
      const after1 = await getProject('projects/quotes');
      assert.equal(after1.latestVersion, 'projects/quotes/versions/r1');
      assert.equal(after1.versionCount, 1);
      const again = await grpcError(del('projects/quotes/versions/r2'));
      assert.equal(again.code, grpc.status.NOT_FOUND);
      assert.equal(statusDetails(again).errorInfo?.reason, 'VERSION_NOT_FOUND');

      await del('projects/quotes/versions/r1');
      const gone = await grpcError(getProject('projects/quotes'));
      assert.equal(gone.code, grpc.status.NOT_FOUND);
      assert.equal(statusDetails(gone).errorInfo?.reason, 'PROJECT_NOT_FOUND');
    });

    it('deletes a project with its versions', async () => {
      await uploadVersion(versions, admin, { parent: 'projects/doomed', versionId: 'v1', createProject: true }, quotes.data);
      await unary(projects.deleteProject.bind(projects), DeleteProjectRequest.fromPartial({ name: 'projects/doomed' }), admin);
      assert.equal((await grpcError(getProject('projects/doomed'))).code, grpc.status.NOT_FOUND);
      const versionGone = await grpcError(
        unary(versions.getVersion.bind(versions), GetVersionRequest.fromPartial({ name: 'projects/doomed/versions/v1' }), admin),
      );
      assert.equal(versionGone.code, grpc.status.NOT_FOUND);
      const twice = await grpcError(
        unary(projects.deleteProject.bind(projects), DeleteProjectRequest.fromPartial({ name: 'projects/doomed' }), admin),
      );
      assert.equal(twice.code, grpc.status.NOT_FOUND);
    });

    it('rejects a broken egg with the last line of the Python error and stores nothing', async () => {
      const broken = await readEgg(await buildEgg('broken_import'));
      const err = await grpcError(
        uploadVersion(versions, admin, { parent: 'projects/broken', versionId: 'v1', createProject: true }, broken.data),
      );
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
      assert.equal(err.details, BROKEN_IMPORT_ERROR);
      const { status, errorInfo } = statusDetails(err);
      assert.equal(status.message, BROKEN_IMPORT_ERROR);
      assert.equal(errorInfo?.reason, 'SPIDER_IMPORT_FAILED');
      assert.equal((await grpcError(getProject('projects/broken'))).code, grpc.status.NOT_FOUND);
    });

    it('rejects an egg that does not match the announced sha256', async () => {
      const err = await grpcError(
        uploadVersion(
          versions,
          admin,
          { parent: 'projects/checked', versionId: 'v1', createProject: true, sha256: '0'.repeat(64) },
          quotes.data,
        ),
      );
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
      assert.equal(statusDetails(err).errorInfo?.reason, 'CHECKSUM_MISMATCH');
      assert.equal((await grpcError(getProject('projects/checked'))).code, grpc.status.NOT_FOUND);
    });

    it('rejects an upload stream whose first message is not metadata', async () => {
      const chunkFirst = await grpcError(
        new Promise((resolve, reject) => {
          const stream = versions.uploadVersion(admin, callOptions(), (err, res) => (err ? reject(err) : resolve(res)));
          stream.write({ payload: { $case: 'chunk', chunk: quotes.data.subarray(0, 1024) } });
          stream.write({ payload: { $case: 'metadata', metadata: { parent: 'projects/x', versionId: 'v1', createProject: true, sizeBytes: '0', sha256: '' } } });
          stream.end();
        }),
      );
      assert.equal(chunkFirst.code, grpc.status.INVALID_ARGUMENT);
      assert.equal(chunkFirst.details, 'the first UploadVersion message must carry metadata');
      const { errorInfo, status } = statusDetails(chunkFirst);
      assert.equal(errorInfo?.reason, 'INVALID_ARGUMENT');
      const br = status.details.find((d) => d.typeUrl === 'type.googleapis.com/google.rpc.BadRequest');
      assert.ok(br, 'a BadRequest detail is expected');
      assert.deepEqual(BadRequest.decode(br.value).fieldViolations.map((v) => v.field), ['metadata']);

      const empty = await grpcError(
        new Promise((resolve, reject) => {
          versions.uploadVersion(admin, callOptions(), (err, res) => (err ? reject(err) : resolve(res))).end();
        }),
      );
      assert.equal(empty.code, grpc.status.INVALID_ARGUMENT);
      assert.equal(empty.details, 'the first UploadVersion message must carry metadata');

      const meta = { parent: 'projects/twice', versionId: 'v1', createProject: true };
      const twice = await grpcError(
        new Promise((resolve, reject) => {
          const stream = versions.uploadVersion(admin, callOptions(), (err, res) => (err ? reject(err) : resolve(res)));
          for (const m of [meta, meta]) stream.write({ payload: { $case: 'metadata', metadata: { ...m, sizeBytes: '0', sha256: '' } } });
          stream.end();
        }),
      );
      assert.equal(twice.code, grpc.status.INVALID_ARGUMENT);
      assert.equal(twice.details, 'only the first UploadVersion message may carry metadata');
      const noChunks = await grpcError(uploadVersion(versions, admin, meta, Buffer.alloc(0)));
      assert.equal(noChunks.code, grpc.status.INVALID_ARGUMENT);
      assert.equal(statusDetails(noChunks).errorInfo?.reason, 'EGG_EMPTY');
      assert.equal((await grpcError(getProject('projects/twice'))).code, grpc.status.NOT_FOUND);
    });

    it('sends google.rpc.Status with ErrorInfo in grpc-status-details-bin', async () => {
      const err = await grpcError(getProject('projects/nope'));
      assert.equal(err.code, grpc.status.NOT_FOUND);
      assert.equal(err.details, "project 'nope' not found");
      const { status, errorInfo, typeUrls } = statusDetails(err);
      assert.equal(status.code, grpc.status.NOT_FOUND);
      assert.equal(status.message, "project 'nope' not found");
      assert.deepEqual(typeUrls, ['type.googleapis.com/google.rpc.ErrorInfo']);
      assert.deepEqual(errorInfo, { reason: 'PROJECT_NOT_FOUND', domain: 'scrapydd.io', metadata: { project: 'nope' } });

      const badName = await grpcError(getProject('nope'));
      assert.equal(badName.code, grpc.status.INVALID_ARGUMENT);
      const decoded = statusDetails(badName);
      assert.equal(decoded.errorInfo?.domain, 'scrapydd.io');
      assert.equal(decoded.errorInfo?.reason, 'INVALID_NAME');
      assert.deepEqual(decoded.typeUrls, ['type.googleapis.com/google.rpc.ErrorInfo', 'type.googleapis.com/google.rpc.BadRequest']);
    });

    it("denies a non-admin user an admin's project", async () => {
      await createProject('admins-only');
      const denied = await grpcError(getProject('projects/admins-only', bob));
      assert.equal(denied.code, grpc.status.PERMISSION_DENIED);
      assert.deepEqual(statusDetails(denied).errorInfo, {
        reason: 'PERMISSION_DENIED',
        domain: 'scrapydd.io',
        metadata: { project: 'admins-only' },
      });
      const noDelete = await grpcError(
        unary(projects.deleteProject.bind(projects), DeleteProjectRequest.fromPartial({ name: 'projects/admins-only' }), bob),
      );
      assert.equal(noDelete.code, grpc.status.PERMISSION_DENIED);
      const noUpload = await grpcError(uploadVersion(versions, bob, { parent: 'projects/admins-only', versionId: 'v1' }, quotes.data));
      assert.equal(noUpload.code, grpc.status.PERMISSION_DENIED);

      const own = await createProject('bobs', bob);
      assert.equal(own.owner, 'users/bob');
      assert.deepEqual((await listProjects(0, '', bob)).projects.map((p) => p.name), ['projects/bobs']);
      assert.deepEqual((await listProjects(0, '', admin)).projects.map((p) => p.name), ['projects/admins-only', 'projects/bobs']);
      assert.equal((await getProject('projects/admins-only')).versionCount, 0);
    });
  });
}
