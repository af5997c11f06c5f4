// Pins how path, query and body become the proto3 JSON handed to ts-proto's fromJSON.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgument } from '../../src/errors/domain-error.js';
import { collectRoutes, type HttpRoute } from '../../src/server/rest/http-rules.js';
import { loadProtoRoot } from '../../src/server/rest/load-proto-root.js';
import { buildRequestJson, responseJson } from '../../src/server/rest/request-json.js';
import { RestRouter } from '../../src/server/rest/router.js';

const routes = collectRoutes(loadProtoRoot(['rest_test.proto'], ['test/fixtures/protos']));
const router = new RestRouter(routes);

function build(method: string, path: string, query = '', body?: unknown): Record<string, unknown> {
  const m = router.match(method, path);
  assert.equal(m.kind, 'match');
  if (m.kind !== 'match') throw new Error('unreachable');
  return buildRequestJson(m.route, m.pathParams, new URLSearchParams(query), body);
}

function rejects(fn: () => unknown, message: string, field?: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InvalidArgument, `expected InvalidArgument, got ${String(err)}`);
    assert.equal(err.message, message);
    assert.equal(err.field, field);
    return true;
  });
}

const LIST = '/v1/projects/p/spiders';
const list = (query: string) => build('GET', LIST, query);

describe('query parameters', () => {
  it('coerces every scalar kind by field type, from snake_case and lowerCamelCase names', () => {
    const q = [
      'page_size=25', 'pageToken=tok', 'show_deleted=true', 'minVersion=-0012', 'max_bytes=18446744073709551615',
      'checksum=7', 'offset=-9223372036854775808', 'limit=4294967295', 'ratio=-1.5e3', 'weight=0.25',
      'state=STATE_PAUSED', 'cursor=AQI=', 'customJSON=c',
    ].join('&');
    assert.deepEqual(list(q), {
      parent: 'projects/p', pageSize: 25, pageToken: 'tok', showDeleted: true, minVersion: '-12',
      maxBytes: '18446744073709551615', checksum: '7', offset: '-9223372036854775808', limit: 4294967295,
      ratio: -1500, weight: 0.25, state: 'STATE_PAUSED', cursor: 'AQI=', customJSON: 'c',
    });
  });

  it('accepts the proto name of a field with a custom json_name', () => {
    assert.deepEqual(list('custom_json=x'), { parent: 'projects/p', customJSON: 'x' });
  });

  it('accepts bool spellings 1/0 and enum numbers, and proto3 JSON float specials', () => {
    assert.deepEqual(list('show_deleted=0&state=1&ratio=NaN&weight=-Infinity'), {
      parent: 'projects/p', showDeleted: false, state: 'STATE_ACTIVE', ratio: 'NaN', weight: '-Infinity',
    });
  });

  it('collects repeated parameters into arrays', () => {
    assert.deepEqual(list('tags=a&tags=b&ids=1&ids=-2&states=STATE_ACTIVE&states=2'), {
      parent: 'projects/p', tags: ['a', 'b'], ids: [1, -2], states: ['STATE_ACTIVE', 'STATE_PAUSED'],
    });
  });

  it('sets nested message fields from dotted names', () => {
    assert.deepEqual(list('filter.text=hi&filter.range.min_depth=2&filter.range.maxBytes=9&filter.tags=x'), {
      parent: 'projects/p', filter: { text: 'hi', range: { minDepth: 2, maxBytes: '9' }, tags: ['x'] },
    });
  });

  it('handles FieldMask, Timestamp, Duration and wrapper types', () => {
    assert.deepEqual(
      list('read_mask=a,b&readMask=c.d&since=2024-02-29T23:59:59.123456789%2B05:30&timeout=-1.5s&min_runs=3&archived=false'),
      {
        parent: 'projects/p', readMask: 'a,b,c.d', since: '2024-02-29T23:59:59.123456789+05:30',
        timeout: '-1.5s', minRuns: 3, archived: false,
      },
    );
  });

  it('ignores unknown parameters and parameters naming path-bound fields', () => {
    assert.deepEqual(list('alt=json&_=123&filter.nope=1&parent=projects/other&page_size=1'), {
      parent: 'projects/p', pageSize: 1,
    });
  });

  const badValues: [string, string][] = [
    ['page_size=abc', 'invalid value for query parameter "page_size": expected an integer (int32), got "abc"'],
    ['pageSize=1.5', 'invalid value for query parameter "pageSize": expected an integer (int32), got "1.5"'],
    ['page_size=', 'invalid value for query parameter "page_size": expected an integer (int32), got ""'],
    ['page_size=2147483648', 'invalid value for query parameter "page_size": expected an integer in int32 range, got "2147483648"'],
    ['limit=-1', 'invalid value for query parameter "limit": expected an integer in uint32 range, got "-1"'],
    ['min_version=1e3', 'invalid value for query parameter "min_version": expected an integer (int64), got "1e3"'],
    ['min_version=9223372036854775808', 'invalid value for query parameter "min_version": expected an integer in int64 range, got "9223372036854775808"'],
    ['max_bytes=18446744073709551616', 'invalid value for query parameter "max_bytes": expected an integer in uint64 range, got "18446744073709551616"'],
    ['ratio=abc', 'invalid value for query parameter "ratio": expected a number (double), got "abc"'],
    ['ratio=1e400', 'invalid value for query parameter "ratio": expected a number (double), got "1e400"'],
    ['weight=1e39', 'invalid value for query parameter "weight": expected a number within float range, got "1e39"'],
    ['show_deleted=yes', 'invalid value for query parameter "show_deleted": expected true, false, 1 or 0, got "yes"'],
    ['show_deleted=TRUE', 'invalid value for query parameter "show_deleted": expected true, false, 1 or 0, got "TRUE"'],
    ['state=state_active', 'invalid value for query parameter "state": expected one of STATE_UNSPECIFIED, STATE_ACTIVE, STATE_PAUSED, got "state_active"'],
    ['state=7', 'invalid value for query parameter "state": expected one of STATE_UNSPECIFIED, STATE_ACTIVE, STATE_PAUSED, got "7"'],
    ['ids=1&ids=x', 'invalid value for query parameter "ids": expected an integer (int32), got "x"'],
    ['since=2024-02-30T00:00:00Z', 'invalid value for query parameter "since": expected an RFC 3339 timestamp such as 2024-01-02T03:04:05Z, got "2024-02-30T00:00:00Z"'],
    ['since=2024-01-02', 'invalid value for query parameter "since": expected an RFC 3339 timestamp such as 2024-01-02T03:04:05Z, got "2024-01-02"'],
    ['timeout=5', 'invalid value for query parameter "timeout": expected a duration such as 1.5s, got "5"'],
    ['archived=maybe', 'invalid value for query parameter "archived": expected true, false, 1 or 0, got "maybe"'],
  ];
  for (const [query, message] of badValues) {
    it(`rejects ${query}`, () => rejects(() => list(query), message, query.split('=')[0]));
  }

  const badFields: [string, string][] = [
    ['labels=x', 'query parameter "labels" is a map field, which cannot be set from the query string'],
    ['labels.env=x', 'query parameter "labels.env" cannot be used: "labels" is a map field'],
    ['filter=x', 'query parameter "filter" is a message; set its fields instead, e.g. "filter.<field>"'],
    ['filter.range=x', 'query parameter "filter.range" is a message; set its fields instead, e.g. "filter.range.<field>"'],
    ['filters=x', 'query parameter "filters" is a repeated message field, which cannot be set from the query string'],
    ['filters.text=x', 'query parameter "filters.text" cannot be used: "filters" is a repeated field'],
    ['page_size.x=1', 'query parameter "page_size.x" cannot be used: "page_size" is not a message field'],
    ['since.seconds=1', 'query parameter "since.seconds" cannot be used: "since" is a google.protobuf.Timestamp; set it as a whole'],
    ['page_size=1&page_size=2', 'query parameter "page_size" must not be repeated'],
    ['page_size=1&pageSize=2', 'query parameter "page_size" must not be repeated'],
    ['since=2024-01-02T03:04:05Z&since=2024-01-02T03:04:05Z', 'query parameter "since" must not be repeated'],
  ];
  for (const [query, message] of badFields) {
    it(`refuses ${query}`, () => rejects(() => list(query), message, query.split('=')[0]));
  }
});

const RUN = '/v1/projects/p/spiders/s:run';
describe('body "*"', () => {
  it('maps the body onto the request, canonicalizing keys, and ignores query parameters', () => {
    assert.deepEqual(build('POST', RUN, 'priority=9', { settings: { log_level: 'INFO' }, priority: 3 }), {
      settings: { log_level: 'INFO' }, priority: 3, name: 'projects/p/spiders/s',
    });
    assert.deepEqual(build('PUT', '/v1/projects/p/spiders/s', '', { display_name: 'D', create_time: '2024-01-01T00:00:00Z' }), {
      displayName: 'D', createTime: '2024-01-01T00:00:00Z', name: 'projects/p/spiders/s',
    });
  });

  it('treats a missing body as empty and keeps unknown body keys for fromJSON to drop', () => {
    assert.deepEqual(build('POST', RUN), { name: 'projects/p/spiders/s' });
    assert.deepEqual(build('POST', RUN, '', { extra: 1 }), { extra: 1, name: 'projects/p/spiders/s' });
  });

  it('accepts a body that repeats the path value and rejects a different one', () => {
    assert.deepEqual(build('POST', RUN, '', { name: 'projects/p/spiders/s' }), { name: 'projects/p/spiders/s' });
    rejects(
      () => build('POST', RUN, '', { name: 'projects/p/spiders/other' }),
      '"name" is "projects/p/spiders/s" in the URL path but "projects/p/spiders/other" in the request body',
      'name',
    );
  });

  it('rejects bodies that are not JSON objects', () => {
    for (const body of [null, [], 'x', 3]) rejects(() => build('POST', RUN, '', body), 'request body must be a JSON object');
  });

  it('rejects the same field under both spellings', () => {
    rejects(() => build('PUT', '/v1/projects/p/spiders/s', '', { display_name: 'a', displayName: 'b' }),
      'field "displayName" is set twice in the request body', 'displayName');
  });

  it('does not mutate the caller body or let __proto__ leak', () => {
    const body = JSON.parse('{"__proto__": {"polluted": true}, "priority": 1}') as Record<string, unknown>;
    const json = build('POST', RUN, '', body);
    assert.deepEqual(Object.keys(body), ['__proto__', 'priority']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.getPrototypeOf(json), Object.prototype);
    assert.deepEqual(Object.keys(json), ['__proto__', 'priority', 'name']);
  });
});

describe('body "field"', () => {
  it('puts the body into the field and still reads other fields from the query', () => {
    assert.deepEqual(build('POST', LIST, 'spider_id=s1&spider.display_name=ignored', { display_name: 'D', labels: { a_b: 'c' } }), {
      spider: { displayName: 'D', labels: { a_b: 'c' } }, parent: 'projects/p', spiderId: 's1',
    });
  });

  it('merges a nested path variable into the body field', () => {
    assert.deepEqual(build('PATCH', '/v1/projects/p/spiders/s', 'update_mask=display_name,state', { display_name: 'D' }), {
      spider: { displayName: 'D', name: 'projects/p/spiders/s' }, updateMask: 'display_name,state',
    });
    assert.deepEqual(build('PATCH', '/v1/projects/p/spiders/s'), { spider: { name: 'projects/p/spiders/s' } });
    rejects(() => build('PATCH', '/v1/projects/p/spiders/s', '', { name: 'projects/p/spiders/t' }),
      '"spider.name" is "projects/p/spiders/s" in the URL path but "projects/p/spiders/t" in the request body', 'spider.name');
  });

  it('rejects a non-object body for a message field', () => {
    for (const body of [null, ['x'], 'x']) rejects(() => build('POST', LIST, '', body), 'request body must be a JSON object', 'spider');
  });
});

describe('path parameters', () => {
  it('decodes and assigns path values, coercing nothing for strings', () => {
    assert.deepEqual(build('GET', '/v1/spiders/a%20b', 'read_mask=name'), { name: 'a b', readMask: 'name' });
    assert.deepEqual(build('DELETE', '/v1/projects/p/spiders/s', 'force=1'), { name: 'projects/p/spiders/s', force: true });
  });

  it('coerces non-string path values by field type', () => {
    assert.deepEqual(build('GET', '/v1/projects/p/revisions/0042/2'), { name: 'projects/p', revision: '42', state: 'STATE_PAUSED' });
    rejects(() => build('GET', '/v1/projects/p/revisions/x/1'),
      'invalid value for path parameter "revision": expected an integer (int64), got "x"', 'revision');
    rejects(() => build('GET', '/v1/projects/p/revisions/1/NOPE'),
      'invalid value for path parameter "state": expected one of STATE_UNSPECIFIED, STATE_ACTIVE, STATE_PAUSED, got "NOPE"', 'state');
  });

  it('binds a "**" variable and leaves %2F encoded', () => {
    assert.deepEqual(build('GET', '/v1/projects/p/files/a/b%2Fc'), { name: 'projects/p', path: 'a/b%2Fc' });
  });
});

describe('responseJson', () => {
  const run = routes.find((r) => r.methodName === 'RunSpider')!;
  const get = routes.find((r) => r.methodName === 'GetSpider')!;
  const withBody = (responseBody: string, base: HttpRoute = routes.find((r) => r.methodName === 'ListSpiders')!) =>
    ({ ...base, responseBody });

  it('returns the whole message when response_body is empty', () => {
    const json = { name: 'x' };
    assert.equal(responseJson(get, json), json);
  });

  it('returns the named field, or its proto3 default when omitted', () => {
    assert.deepEqual(responseJson(run, { job: { name: 'j' }, queued: true }), { name: 'j' });
    assert.deepEqual(responseJson(run, {}), {});
    assert.deepEqual(responseJson(withBody('spiders'), {}), []);
    assert.equal(responseJson(withBody('next_page_token'), {}), '');
    assert.equal(responseJson(withBody('next_page_token'), { nextPageToken: 't' }), 't');
    assert.equal(responseJson(withBody('queued', run), {}), false);
  });
});
