import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkId, parseName, parseSpiderName, parseVersionName } from '../../src/domain/names.js';
import { decodePageToken, encodePageToken, page, pageSize } from '../../src/domain/pagination.js';
import { InvalidArgument } from '../../src/errors/domain-error.js';

describe('resource ids', () => {
  it('accepts scrapy-style names', () => {
    for (const ok of ['quotes', 'my_project-2', 'v1.2.3', '1732000000', 'a'.repeat(100)]) assert.equal(checkId(ok, 'project'), ok);
  });

  it('refuses names that could escape a directory or are not plain', () => {
    for (const bad of ['../p', '..', '.', 'a/b', 'a\\b', '', 'a b', 'ü', 'a'.repeat(101), '%2e%2e']) {
      assert.throws(() => checkId(bad, 'project'), (e: unknown) => e instanceof InvalidArgument && e.field === 'project', bad);
    }
  });

  it('parses resource names and names the field in errors', () => {
    assert.deepEqual(parseSpiderName('projects/p/spiders/s'), { project: 'p', spider: 's' });
    assert.deepEqual(parseVersionName('projects/p/versions/r1'), { project: 'p', version: 'r1' });
    assert.throws(() => parseName('projects/p/spiders', ['projects', 'spiders'], 'parent'), /parent 'projects\/p\/spiders' is not a valid resource name; expected projects\/\{project\}\/spiders\/\{spider\}/);
    assert.throws(() => parseSpiderName('projects/../spiders/s'), /project '\.\.' is not valid/);
  });
});

describe('pagination', () => {
  it('defaults and caps page sizes', () => {
    assert.equal(pageSize(0), 50);
    assert.equal(pageSize(5), 5);
    assert.equal(pageSize(100_000), 1000);
    assert.throws(() => pageSize(-1), /page_size must not be negative/);
  });

  it('round-trips tokens and refuses tokens of another request', () => {
    const token = encodePageToken('projects', 'abc');
    assert.equal(decodePageToken(token, 'projects'), 'abc');
    assert.equal(decodePageToken('', 'projects'), undefined);
    assert.throws(() => decodePageToken(token, 'users'), /page_token is not valid/);
    assert.throws(() => decodePageToken('garbage!', 'projects'), /page_token is not valid/);
  });

  it('gives a next token only when there is more', () => {
    assert.deepEqual(page([1, 2], 2, 's', String), { items: [1, 2], nextPageToken: '' });
    const more = page([1, 2, 3], 2, 's', String);
    assert.deepEqual(more.items, [1, 2]);
    assert.equal(decodePageToken(more.nextPageToken, 's'), '2');
  });
});
