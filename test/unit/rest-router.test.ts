// Pins route collection from google.api.http options and the router's precedence and 404/405 answers.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import protobuf from 'protobufjs';
import { InvalidArgument } from '../../src/errors/domain-error.js';
import { collectRoutes, readHttpBindings, type HttpRoute } from '../../src/server/rest/http-rules.js';
import { loadProtoRoot } from '../../src/server/rest/load-proto-root.js';
import { compileTemplate } from '../../src/server/rest/path-template.js';
import { RestRouter, type RouteMatch } from '../../src/server/rest/router.js';

const FIXTURES = 'test/fixtures/protos';
const root = loadProtoRoot(['rest_test.proto'], [FIXTURES]);
const routes = collectRoutes(root);

/** A synthetic route: only method and template matter to the router. */
function route(httpMethod: string, pattern: string, methodName = pattern): HttpRoute {
  const type = root.lookupType('resttest.v1.GetSpiderRequest');
  return {
    httpMethod, template: compileTemplate(pattern), pattern, body: '', responseBody: '',
    serviceName: 'test.Svc', methodName, requestType: type, responseType: type,
    requestStream: false, responseStream: false,
  };
}

const summary = (m: RouteMatch): unknown =>
  m.kind === 'match' ? [m.route.methodName, m.pathParams] : m.kind === 'method-not-allowed' ? m.allowed : m.kind;

describe('loadProtoRoot', () => {
  it('resolves include dirs first and google/* imports from the bundled packages', () => {
    const files = root.files.map((f) => (path.isAbsolute(f) ? path.relative(process.cwd(), f) : f));
    assert.deepEqual(files, [
      'test/fixtures/protos/rest_test.proto',
      'node_modules/google-proto-files/google/api/annotations.proto',
      'node_modules/google-proto-files/google/api/http.proto',
      'node_modules/protobufjs/google/protobuf/descriptor.proto',
      'google/protobuf/duration.proto',
      'google/protobuf/empty.proto',
      'google/protobuf/field_mask.proto',
      'google/protobuf/timestamp.proto',
      'google/protobuf/wrappers.proto',
    ]);
  });

  it('accepts a path relative to the working directory and keeps proto field names', () => {
    const other = loadProtoRoot([`${FIXTURES}/rest_test.proto`], []);
    const field = other.lookupType('resttest.v1.ListSpidersRequest').fields.page_size!;
    assert.equal(field.name, 'page_size');
    assert.equal(field.jsonName, 'pageSize');
  });
});

describe('collectRoutes', () => {
  it('reads every binding, including additional_bindings and custom patterns, in declaration order', () => {
    const rows = routes.map((r) => [
      r.httpMethod, r.pattern, r.body, r.responseBody, `${r.serviceName}.${r.methodName}`,
      r.requestType.name, r.responseType.name, r.requestStream, r.responseStream,
    ]);
    assert.deepEqual(rows, [
      ['GET', '/v1/{parent=projects/*}/spiders', '', '', 'resttest.v1.SpiderService.ListSpiders', 'ListSpidersRequest', 'ListSpidersResponse', false, false],
      ['GET', '/v1/{name=projects/*/spiders/*}', '', '', 'resttest.v1.SpiderService.GetSpider', 'GetSpiderRequest', 'Spider', false, false],
      ['GET', '/v1/spiders/{name}', '', '', 'resttest.v1.SpiderService.GetSpider', 'GetSpiderRequest', 'Spider', false, false],
      ['POST', '/v1/{parent=projects/*}/spiders', 'spider', '', 'resttest.v1.SpiderService.CreateSpider', 'CreateSpiderRequest', 'Spider', false, false],
      ['PATCH', '/v1/{spider.name=projects/*/spiders/*}', 'spider', '', 'resttest.v1.SpiderService.UpdateSpider', 'UpdateSpiderRequest', 'Spider', false, false],
      ['DELETE', '/v1/{name=projects/*/spiders/*}', '', '', 'resttest.v1.SpiderService.DeleteSpider', 'DeleteSpiderRequest', 'Empty', false, false],
      ['POST', '/v1/{name=projects/*/spiders/*}:run', '*', 'job', 'resttest.v1.SpiderService.RunSpider', 'RunSpiderRequest', 'RunSpiderResponse', false, false],
      ['PUT', '/v1/{name=projects/*/spiders/*}', '*', '', 'resttest.v1.SpiderService.ReplaceSpider', 'Spider', 'Spider', false, false],
      ['GET', '/v1/{parent=projects/*}/spiders:watch', '', '', 'resttest.v1.SpiderService.WatchSpiders', 'ListSpidersRequest', 'Spider', false, true],
      ['POST', '/v1/chunks', '*', '', 'resttest.v1.SpiderService.StreamWithRule', 'Chunk', 'Job', true, false],
      ['GET', '/v1/{name=projects/*}/files/{path=**}', '', '', 'resttest.v1.FileService.GetFile', 'GetFileRequest', 'Job', false, false],
      ['GET', '/v1/{name=projects/*}/revisions/{revision}/{state}', '', '', 'resttest.v1.FileService.GetRevision', 'GetRevisionRequest', 'Job', false, false],
      ['OPTIONS', '/v1/probe/{target}', '', '', 'resttest.v1.FileService.Probe', 'ProbeRequest', 'Empty', false, false],
    ]);
  });

  it('falls back to flattened options when parsedOptions is missing', () => {
    const method = new protobuf.Method('X', 'rpc', 'Req', 'Res', false, false, {
      '(google.api.http).custom.kind': 'head',
      '(google.api.http).custom.path': '/v1/x',
      '(google.api.http).response_body': 'y',
    });
    assert.deepEqual(readHttpBindings(method), [{ httpMethod: 'HEAD', pattern: '/v1/x', body: '', responseBody: 'y' }]);
    assert.deepEqual(readHttpBindings(new protobuf.Method('Y', 'rpc', 'Req', 'Res')), []);
  });

  const dir = mkdtempSync(path.join(tmpdir(), 'rest-rules-'));
  const cases: [string, string, string][] = [
    ['bad template', 'get: "/v1/{name=**}/x"', 'bad.v1.S.M: invalid path template "/v1/{name=**}/x" at offset 10: "**" must be the last segment (only a ":verb" may follow it)'],
    ['unknown path field', 'get: "/v1/{nope}"', 'bad.v1.S.M (GET /v1/{nope}): path variable {nope}: bad.v1.Req has no field "nope"'],
    ['repeated path field', 'get: "/v1/{tags}"', 'bad.v1.S.M (GET /v1/{tags}): path variable {tags} must be a singular primitive field'],
    ['message path field', 'get: "/v1/{inner}"', 'bad.v1.S.M (GET /v1/{inner}): path variable {inner} must be a singular primitive field'],
    ['path through repeated', 'get: "/v1/{tags.x}"', 'bad.v1.S.M (GET /v1/{tags.x}): path variable {tags.x}: "tags" is a repeated field'],
    ['unknown body', 'post: "/v1/x" body: "nope"', 'bad.v1.S.M (POST /v1/x): body "nope" is not a field of bad.v1.Req'],
    ['unknown response_body', 'get: "/v1/x" response_body: "nope"', 'bad.v1.S.M (GET /v1/x): response_body "nope" is not a field of bad.v1.Req'],
    ['no pattern', 'body: "*"', 'bad.v1.S.M: an http rule must set exactly one of get|put|post|delete|patch|custom'],
    ['nested bindings', 'get: "/v1/x" additional_bindings { get: "/v1/y" additional_bindings { get: "/v1/z" } }', 'bad.v1.S.M additional_bindings[0]: additional_bindings may only be nested one level deep'],
  ];
  for (const [name, rule, message] of cases) {
    it(`rejects a rule with ${name}`, () => {
      const file = path.join(dir, `${name.replace(/\W/g, '_')}.proto`);
      writeFileSync(file, `syntax = "proto3"; package bad.v1; import "google/api/annotations.proto";
        message Inner { string x = 1; }
        message Req { string name = 1; repeated string tags = 2; Inner inner = 3; }
        service S { rpc M(Req) returns (Req) { option (google.api.http) = { ${rule} }; } }`);
      assert.throws(() => collectRoutes(loadProtoRoot([file], [])), { message });
    });
  }
});

describe('RestRouter', () => {
  const router = new RestRouter(routes);

  it('matches fixture routes and binds path parameters', () => {
    assert.deepEqual(summary(router.match('GET', '/v1/projects/p/spiders')), ['ListSpiders', { parent: 'projects/p' }]);
    assert.deepEqual(summary(router.match('GET', '/v1/projects/p/spiders/s')), ['GetSpider', { name: 'projects/p/spiders/s' }]);
    assert.deepEqual(summary(router.match('GET', '/v1/spiders/a%2Fb')), ['GetSpider', { name: 'a/b' }]);
    assert.deepEqual(summary(router.match('PATCH', '/v1/projects/p/spiders/s')), ['UpdateSpider', { 'spider.name': 'projects/p/spiders/s' }]);
    assert.deepEqual(summary(router.match('GET', '/v1/projects/p/files/a/b%2Fc')), ['GetFile', { name: 'projects/p', path: 'a/b%2Fc' }]);
    assert.deepEqual(summary(router.match('OPTIONS', '/v1/probe/x')), ['Probe', { target: 'x' }]);
    assert.deepEqual(summary(router.match('post', '/v1/chunks')), ['StreamWithRule', {}]);
  });

  it('prefers the verb route and answers 405 for other methods on a verb path', () => {
    assert.deepEqual(summary(router.match('POST', '/v1/projects/p/spiders/s:run')), ['RunSpider', { name: 'projects/p/spiders/s' }]);
    assert.deepEqual(summary(router.match('GET', '/v1/projects/p/spiders/s:run')), ['POST']);
    assert.deepEqual(summary(router.match('GET', '/v1/projects/p/spiders:watch')), ['WatchSpiders', { parent: 'projects/p' }]);
  });

  it('keeps a colon in a variable when no verb route matches', () => {
    assert.deepEqual(summary(router.match('GET', '/v1/projects/p/spiders/s:other')), ['GetSpider', { name: 'projects/p/spiders/s:other' }]);
  });

  it('maps HEAD to GET and lists allowed methods (sorted, HEAD with GET) on 405', () => {
    assert.deepEqual(summary(router.match('HEAD', '/v1/projects/p/spiders/s')), ['GetSpider', { name: 'projects/p/spiders/s' }]);
    assert.deepEqual(summary(router.match('POST', '/v1/projects/p/spiders/s')), ['DELETE', 'GET', 'HEAD', 'PATCH', 'PUT']);
    assert.deepEqual(summary(router.match('HEAD', '/v1/chunks')), ['POST']);
  });

  it('answers not-found for unknown paths', () => {
    assert.equal(summary(router.match('GET', '/v2/projects/p')), 'not-found');
    assert.equal(summary(router.match('GET', '/v1/projects/p/spiders/')), 'not-found');
    assert.equal(summary(router.match('GET', '/v1/projects/p/spiders/s/x')), 'not-found');
    assert.equal(summary(router.match('GET', 'v1/projects/p/spiders')), 'not-found');
    assert.equal(summary(router.match('GET', '/')), 'not-found');
  });

  it('ignores a query string or fragment', () => {
    assert.deepEqual(summary(router.match('GET', '/v1/projects/p/spiders?page_size=1#x')), ['ListSpiders', { parent: 'projects/p' }]);
  });

  it('rejects malformed percent-encoding with InvalidArgument', () => {
    assert.throws(() => router.match('GET', '/v1/spiders/a%zz'), (err: unknown) => {
      assert.ok(err instanceof InvalidArgument);
      assert.equal(err.message, 'malformed percent-encoding in URL path');
      return true;
    });
  });

  it('picks the more literal template whatever the declaration order', () => {
    const a = route('GET', '/v1/{parent=projects/*}/versions', 'ListVersions');
    const b = route('GET', '/v1/{name=projects/*/*}', 'GetThing');
    const c = route('GET', '/v1/projects/special/versions', 'Special');
    const d = route('GET', '/{path=**}', 'CatchAll');
    for (const order of [[a, b, c, d], [d, c, b, a], [b, d, a, c]]) {
      const r = new RestRouter(order);
      assert.deepEqual(summary(r.match('GET', '/v1/projects/p/versions')), ['ListVersions', { parent: 'projects/p' }]);
      assert.deepEqual(summary(r.match('GET', '/v1/projects/p/q')), ['GetThing', { name: 'projects/p/q' }]);
      assert.deepEqual(summary(r.match('GET', '/v1/projects/special/versions')), ['Special', {}]);
      assert.deepEqual(summary(r.match('GET', '/v2/anything/else')), ['CatchAll', { path: 'v2/anything/else' }]);
      assert.deepEqual(summary(r.match('GET', '/v1')), ['CatchAll', { path: 'v1' }]);
    }
  });

  it('uses declaration order only to break exact template ties', () => {
    const first = route('GET', '/v1/{a}', 'First');
    const second = route('GET', '/v1/{a}', 'Second');
    assert.deepEqual(summary(new RestRouter([first, second]).match('GET', '/v1/x')), ['First', { a: 'x' }]);
    assert.deepEqual(summary(new RestRouter([second, first]).match('GET', '/v1/x')), ['Second', { a: 'x' }]);
  });

  it('falls back to a less specific route when the specific one lacks the method', () => {
    const r = new RestRouter([route('POST', '/v1/projects/special', 'PostSpecial'), route('GET', '/v1/projects/{id}', 'GetAny')]);
    assert.deepEqual(summary(r.match('GET', '/v1/projects/special')), ['GetAny', { id: 'special' }]);
    assert.deepEqual(summary(r.match('PUT', '/v1/projects/special')), ['GET', 'HEAD', 'POST']);
  });

  it('lets a custom "*" rule accept any method after exact matches', () => {
    const r = new RestRouter([route('*', '/v1/web/**', 'Web'), route('GET', '/v1/web/index', 'Index')]);
    assert.deepEqual(summary(r.match('DELETE', '/v1/web/index')), ['Web', {}]);
    assert.deepEqual(summary(r.match('GET', '/v1/web/index')), ['Index', {}]);
  });

  it('matches one-segment verb paths and encoded first segments', () => {
    const r = new RestRouter([route('POST', '/v1:batch', 'Batch'), route('GET', '/caf%C3%A9/{id}', 'Cafe')]);
    assert.deepEqual(summary(r.match('POST', '/v1:batch')), ['Batch', {}]);
    assert.deepEqual(summary(r.match('GET', '/caf%c3%a9/1')), ['Cafe', { id: '1' }]);
    assert.deepEqual(summary(r.match('GET', '/café/1')), ['Cafe', { id: '1' }]);
  });
});
