/**
 * Authentication over gRPC for every method of every service (found from the
 * proto descriptors, so a new method is covered without editing this test),
 * server reflection, and gRPC sharing the port with HTTP/1.1.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { GrpcReflection } from 'grpc-js-reflection-client';
import { ListProjectsRequest, ProjectServiceClient } from '../../gen/scrapydd/v1/project.js';
import { testDatabaseKinds } from '../support/databases.js';
import { auth, callOptions, closeAll, startGrpcTestServer, statusDetails, unary, type GrpcTestServer } from '../support/grpc-client.js';
import { REPO_ROOT, basic } from '../support/server-process.js';

const PROTO_DIR = join(REPO_ROOT, 'proto');
const API_DIR = join(PROTO_DIR, 'scrapydd', 'v1');
const API_FILES = readdirSync(API_DIR)
  .filter((f) => f.endsWith('.proto'))
  .sort()
  .map((f) => `scrapydd/v1/${f}`);

const SERVICES = [
  'scrapydd.v1.JobService',
  'scrapydd.v1.NodeKeyService',
  'scrapydd.v1.NodeService',
  'scrapydd.v1.NodeSessionService',
  'scrapydd.v1.ProjectService',
  'scrapydd.v1.ServerService',
  'scrapydd.v1.SpiderService',
  'scrapydd.v1.TriggerService',
  'scrapydd.v1.UserService',
  'scrapydd.v1.VersionService',
  'scrapydd.v1.WebhookService',
];

interface ApiMethod {
  service: string;
  path: string;
  requestStream: boolean;
  responseStream: boolean;
}

/** Every method of every scrapydd.v1 service, from proto-loader's descriptors. */
function apiMethods(): ApiMethod[] {
  const definition = protoLoader.loadSync(API_FILES, { includeDirs: [PROTO_DIR] });
  const methods: ApiMethod[] = [];
  for (const [name, def] of Object.entries(definition)) {
    if (!name.startsWith('scrapydd.v1.') || 'format' in def) continue; // messages and enums have a format
    for (const m of Object.values(def as protoLoader.ServiceDefinition)) {
      methods.push({ service: name, path: m.path, requestStream: m.requestStream, responseStream: m.responseStream });
    }
  }
  return methods.sort((a, b) => a.path.localeCompare(b.path));
}

/** `rpc` declarations in the proto sources: an independent count of the methods. */
function rpcCountInSources(): number {
  return API_FILES.reduce((n, f) => n + (readFileSync(join(PROTO_DIR, f), 'utf8').match(/^\s*rpc\s+\w+\s*\(/gm) ?? []).length, 0);
}

const raw = (b: Buffer) => b;
const EMPTY = Buffer.alloc(0);

/** Calls `method` with one empty message and the given metadata; resolves with the final status. */
function callRaw(client: grpc.Client, method: ApiMethod, metadata: grpc.Metadata): Promise<grpc.StatusObject> {
  return new Promise((resolve) => {
    if (!method.requestStream && !method.responseStream) {
      client.makeUnaryRequest(method.path, raw, raw, EMPTY, metadata, callOptions(), () => undefined).on('status', resolve);
    } else if (method.requestStream && !method.responseStream) {
      const call = client.makeClientStreamRequest(method.path, raw, raw, metadata, callOptions(), () => undefined);
      call.on('status', resolve);
      call.write(EMPTY);
      call.end();
    } else if (method.requestStream) {
      const call = client.makeBidiStreamRequest(method.path, raw, raw, metadata, callOptions());
      call.on('data', () => undefined);
      call.on('error', () => undefined); // the status event carries the outcome
      call.on('status', resolve);
      call.write(EMPTY);
      call.end();
    } else {
      const call = client.makeServerStreamRequest(method.path, raw, raw, EMPTY, metadata, callOptions());
      call.on('data', () => undefined);
      call.on('error', () => undefined);
      call.on('status', resolve);
    }
  });
}

/** Methods whose status differs from `code`, as "path: CODE details". */
async function unexpectedStatuses(
  client: grpc.Client,
  methods: ApiMethod[],
  metadata: () => grpc.Metadata,
  code: grpc.status,
  reason: string,
): Promise<string[]> {
  const results = await Promise.all(methods.map(async (m) => ({ m, status: await callRaw(client, m, metadata()) })));
  const wrong: string[] = [];
  for (const { m, status } of results) {
    const got = `${grpc.status[status.code]} ${status.details}`;
    if (status.code !== code) {
      wrong.push(`${m.path}: ${got}`);
      continue;
    }
    const info = statusDetails({ ...status, name: 'ServiceError', message: status.details }).errorInfo;
    if (info?.reason !== reason || info.domain !== 'scrapydd.io') wrong.push(`${m.path}: ErrorInfo ${JSON.stringify(info)}`);
  }
  return wrong;
}

describe('gRPC API descriptors', () => {
  it('has the eleven scrapydd.v1 services and every rpc of the sources', () => {
    const methods = apiMethods();
    assert.deepEqual([...new Set(methods.map((m) => m.service))].sort(), SERVICES);
    assert.ok(methods.length > 0);
    assert.equal(methods.length, rpcCountInSources());
    assert.ok(methods.some((m) => m.requestStream && !m.responseStream), 'a client-streaming method (UploadVersion)');
    assert.ok(methods.some((m) => m.requestStream && m.responseStream), 'a bidi method (StreamNodeSession)');
  });
});

for (const kind of testDatabaseKinds()) {
  describe(`gRPC authentication and reflection on ${kind}`, () => {
    let env: GrpcTestServer;
    let client: grpc.Client;
    const methods = apiMethods();

    before(async () => {
      env = await startGrpcTestServer(kind);
      client = new grpc.Client(env.server.address, grpc.credentials.createInsecure());
    });

    after(async () => {
      closeAll(client);
      await env?.close();
    });

    it(`answers UNAUTHENTICATED to every method (${methods.length}) called without credentials`, async () => {
      assert.ok(methods.length > 0, 'no methods found in the descriptors');
      assert.deepEqual(await unexpectedStatuses(client, methods, () => auth(), grpc.status.UNAUTHENTICATED, 'UNAUTHENTICATED'), []);
    });

    it('answers UNAUTHENTICATED to every method called with a wrong password', async () => {
      const wrong = await unexpectedStatuses(
        client,
        methods,
        () => auth(basic('admin', 'not-the-password')),
        grpc.status.UNAUTHENTICATED,
        'BAD_CREDENTIALS',
      );
      assert.deepEqual(wrong, []);
    });

    it('answers UNAUTHENTICATED to unknown users, bad API keys and malformed headers', async () => {
      const list = methods.find((m) => m.path === '/scrapydd.v1.ProjectService/ListProjects')!;
      const upload = methods.find((m) => m.path === '/scrapydd.v1.VersionService/UploadVersion')!;
      const session = methods.find((m) => m.path === '/scrapydd.v1.NodeSessionService/StreamNodeSession')!;
      const cases: [string, ApiMethod][] = [
        [basic('nobody', 'admin-password-1'), list],
        ['Bearer not-a-real-key', list],
        ['Bearer not-a-real-key', upload],
        ['Bearer not-a-real-key', session],
        [basic('123456789', 'not-a-real-key'), list],
        ['Digest username="admin"', list],
        ['Basic', list],
        [`Basic ${Buffer.from('no-colon').toString('base64')}`, list],
      ];
      for (const [header, method] of cases) {
        const status = await callRaw(client, method, auth(header));
        assert.equal(status.code, grpc.status.UNAUTHENTICATED, `${header} on ${method.path}: ${status.details}`);
      }
    });

    it('lets the right credentials through (the same calls are not refused)', async () => {
      const list = methods.find((m) => m.path === '/scrapydd.v1.ProjectService/ListProjects')!;
      const status = await callRaw(client, list, auth(env.admin));
      assert.equal(status.code, grpc.status.OK, status.details);
    });

    for (const version of ['v1', 'v1alpha']) {
      it(`serves reflection (${version}) on the same port: all eleven services and ProjectService's descriptor`, async () => {
        const reflection = new GrpcReflection(env.server.address, grpc.credentials.createInsecure(), {}, version);
        try {
          const md = auth(env.admin);
          const services = await reflection.listServices('*', md);
          assert.deepEqual(services.filter((s) => s.startsWith('scrapydd.')).sort(), SERVICES);

          const descriptor = await reflection.getDescriptorBySymbol('scrapydd.v1.ProjectService', md);
          const service = descriptor.getProtobufJsRoot().lookupService('scrapydd.v1.ProjectService');
          assert.deepEqual(Object.keys(service.methods).sort(), ['CreateProject', 'DeleteProject', 'GetProject', 'ListProjects']);
          assert.equal(service.methods.GetProject!.resolvedRequestType?.fullName, '.scrapydd.v1.GetProjectRequest');
          // The file declaring the service (@grpc/reflection names files by package), fetched again by its name.
          type FileProto = { name: string; package: string; service?: { name: string }[] };
          const files = (descriptor.getDescriptorMessage() as unknown as { file: FileProto[] }).file;
          const declaring = files.filter((f) => f.service?.some((s) => s.name === 'ProjectService'));
          assert.equal(declaring.length, 1, files.map((f) => f.name).join(', '));
          assert.equal(declaring[0]!.package, 'scrapydd.v1');
          const byName = await reflection.getDescriptorByFileName(declaring[0]!.name, md);
          assert.ok(byName.getProtobufJsRoot().lookupService('scrapydd.v1.ProjectService'));

          const upload = (await reflection.listMethods('scrapydd.v1.VersionService', md)).find((m) => m.name === 'UploadVersion');
          assert.equal(upload?.definition.requestStream, true);
          assert.equal(upload?.definition.responseStream, false);
        } finally {
          (reflection as unknown as { client: grpc.Client }).client.close();
        }
      });
    }

    it('refuses reflection without credentials or with a wrong password', async () => {
      const reflection = new GrpcReflection(env.server.address, grpc.credentials.createInsecure());
      try {
        for (const md of [auth(), auth(basic('admin', 'not-the-password'))]) {
          // The client library wraps the status into a plain Error.
          await assert.rejects(reflection.listServices('*', md), /16 UNAUTHENTICATED/);
        }
      } finally {
        (reflection as unknown as { client: grpc.Client }).client.close();
      }
    });

    it('serves HTTP/1.1 and gRPC on the same port at the same time', async () => {
      const projects = new ProjectServiceClient(env.server.address, grpc.credentials.createInsecure());
      const ownConnections = Array.from(
        { length: 20 },
        () => new grpc.Client(env.server.address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }),
      );
      try {
        const md = auth(env.admin);
        const http = Array.from({ length: 20 }, async () => {
          const res = await fetch(`${env.server.baseUrl}/healthz`, { signal: AbortSignal.timeout(30_000) });
          return { status: res.status, body: (await res.json()) as unknown };
        });
        const grpcCalls = Array.from({ length: 20 }, () =>
          unary(projects.listProjects.bind(projects), ListProjectsRequest.fromPartial({}), md),
        );
        // Separate connections too (a local subchannel pool each), so the sniffer sees 20 new sockets at once.
        const rawCalls = ownConnections.map((c) => callRaw(c, methods[0]!, auth()));
        const [h, g, r] = await Promise.all([Promise.all(http), Promise.all(grpcCalls), Promise.all(rawCalls)]);
        assert.deepEqual(h, Array.from({ length: 20 }, () => ({ status: 200, body: { status: 'ok' } })));
        assert.deepEqual(g, Array.from({ length: 20 }, () => ({ projects: [], nextPageToken: '' })));
        assert.deepEqual(r.map((s) => s.code), Array.from({ length: 20 }, () => grpc.status.UNAUTHENTICATED));
        // REST on the same port still works after all that.
        const rest = await fetch(`${env.server.baseUrl}/v1/projects`, { headers: { authorization: env.admin }, signal: AbortSignal.timeout(30_000) });
        assert.equal(rest.status, 200);
      } finally {
        closeAll(projects, ...ownConnections);
      }
    });
  });
}
