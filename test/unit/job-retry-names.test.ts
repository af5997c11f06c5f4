import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { retriedKey, retryKey } from '../../src/domain/jobs/job-names.js';

describe('retry job keys', () => {
  it('name retries after the first attempt and point back one attempt', () => {
    assert.equal(retryKey('915', 1), '915-r2');
    assert.equal(retryKey('915-r2', 2), '915-r3');
    assert.equal(retriedKey('915', 1), undefined);
    assert.equal(retriedKey('915-r2', 2), '915');
    assert.equal(retriedKey('915-r3', 3), '915-r2');
  });

  it('keep a client job id that itself ends in -rN (it used to collide with its own retry)', () => {
    assert.equal(retryKey('crawl-r2', 1), 'crawl-r2-r2');
    assert.equal(retriedKey('crawl-r2-r2', 2), 'crawl-r2');
    assert.equal(retryKey('crawl-r2-r2', 2), 'crawl-r2-r3');
    assert.equal(retriedKey('crawl-r2-r3', 3), 'crawl-r2-r2');
  });
});
