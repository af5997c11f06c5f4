/** Webhook pieces without I/O: the item form body, the SSRF guard's address classes and URL check, the retry schedule. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nonPublicCategory } from '../../src/domain/webhooks/address-guard.js';
import { FIRST_RETRY_MS, MAX_RETRY_MS, retryDelayMs } from '../../src/domain/webhooks/backoff.js';
import { ItemFormatError, itemFormBody, itemFormFields } from '../../src/domain/webhooks/item-form.js';
import { checkPayloadUrl } from '../../src/domain/webhooks/payload-url.js';
import { DomainError } from '../../src/errors/domain-error.js';

describe('webhook item form', () => {
  it('keeps key order; strings as is, numbers as their JSON text, booleans, null as empty, objects and arrays as JSON', () => {
    const line = '{"z": "last?", "a": 1, "pi": 3.14, "big": 12345678901234567890, "exp": 1e-7, "yes": true, "no": false, "none": null, "tags": ["x", 2], "meta": {"k": "v", "n": [1, {"d": null}]}}';
    assert.deepEqual(itemFormFields(line), [
      ['z', 'last?'],
      ['a', '1'],
      ['pi', '3.14'],
      ['big', '12345678901234567890'],
      ['exp', '1e-7'],
      ['yes', 'true'],
      ['no', 'false'],
      ['none', ''],
      ['tags', '["x",2]'],
      ['meta', '{"k":"v","n":[1,{"d":null}]}'],
    ]);
  });

  it('percent-encodes unicode as UTF-8 and reserved characters', () => {
    const body = itemFormBody(JSON.stringify({ 'tïtle': 'café & crème = 100%', emoji: '😀', nested: { 'ключ': 'значение' } }));
    assert.equal(
      body,
      't%C3%AFtle=caf%C3%A9+%26+cr%C3%A8me+%3D+100%25&emoji=%F0%9F%98%80&nested=%7B%22%D0%BA%D0%BB%D1%8E%D1%87%22%3A%22%D0%B7%D0%BD%D0%B0%D1%87%D0%B5%D0%BD%D0%B8%D0%B5%22%7D',
    );
    const back = new URLSearchParams(body);
    assert.equal(back.get('tïtle'), 'café & crème = 100%');
    assert.deepEqual(JSON.parse(back.get('nested')!), { 'ключ': 'значение' });
  });

  it("accepts Python's bare NaN and infinities: their text at the top level, null inside JSON values", () => {
    assert.deepEqual(itemFormFields('{"a": NaN, "b": -Infinity, "c": [Infinity, 1]}'), [
      ['a', 'NaN'],
      ['b', '-Infinity'],
      ['c', '[null,1]'],
    ]);
  });

  it('keeps escaped strings and duplicate keys', () => {
    assert.deepEqual(itemFormFields('{"s": "line\\nbreak \\"q\\" \\u00e9", "k": 1, "k": 2}'), [
      ['s', 'line\nbreak "q" é'],
      ['k', '1'],
      ['k', '2'],
    ]);
  });

  it('refuses lines that are not a JSON object', () => {
    for (const bad of ['[1, 2]', '"text"', '42', '{"a": 1', '{"a": 1} x', '', '{a: 1}', '{"a": nan}', '{"a": 01}']) {
      assert.throws(() => itemFormFields(bad), ItemFormatError, bad);
    }
  });
});

describe('webhook address guard', () => {
  it('classifies non-public addresses', () => {
    const cases: [string, string][] = [
      ['127.0.0.1', 'loopback'],
      ['127.255.0.9', 'loopback'],
      ['::1', 'loopback'],
      ['10.1.2.3', 'private'],
      ['172.16.0.1', 'private'],
      ['172.31.255.254', 'private'],
      ['192.168.1.1', 'private'],
      ['169.254.169.254', 'link-local'],
      ['fe80::1', 'link-local'],
      ['100.64.0.1', 'CGNAT'],
      ['100.127.255.255', 'CGNAT'],
      ['fc00::1', 'unique-local'],
      ['fd12:3456::1', 'unique-local'],
      ['0.0.0.0', 'unspecified'],
      ['::', 'unspecified'],
      ['224.0.0.1', 'multicast'],
      ['ff02::1', 'multicast'],
      ['255.255.255.255', 'reserved'],
      ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:10.0.0.1', 'private'],
      ['::ffff:a9fe:a9fe', 'link-local'],
    ];
    for (const [address, category] of cases) assert.equal(nonPublicCategory(address), category, address);
  });

  it('lets public addresses through', () => {
    for (const address of ['8.8.8.8', '1.1.1.1', '172.15.255.255', '172.32.0.1', '100.63.255.255', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8', '193.0.0.1']) {
      assert.equal(nonPublicCategory(address), undefined, address);
    }
  });

  it('checks payload URLs: http(s), no credentials, no literal non-public address unless allowed', () => {
    assert.equal(checkPayloadUrl('https://example.com/hook?x=1', false), 'https://example.com/hook?x=1');
    assert.equal(checkPayloadUrl(' http://8.8.8.8:8080/h ', false), 'http://8.8.8.8:8080/h');
    const refused: [string, RegExp][] = [
      ['', /required/],
      ['not a url', /not a valid URL/],
      ['ftp://example.com/x', /http or https/],
      ['file:///etc/passwd', /http or https/],
      ['http://user:pw@example.com/', /credentials/],
      ['http://127.0.0.1:9/h', /loopback/],
      ['http://[::1]/h', /loopback/],
      ['http://10.0.0.5/h', /private/],
      ['http://169.254.169.254/latest/meta-data', /link-local/],
      ['http://[::ffff:192.168.0.1]/', /private/],
    ];
    for (const [url, why] of refused) {
      assert.throws(
        () => checkPayloadUrl(url, false),
        (err: unknown) => err instanceof DomainError && err.field === 'payload_url' && why.test(err.message),
        url,
      );
    }
    assert.equal(checkPayloadUrl('http://127.0.0.1:9/h', true), 'http://127.0.0.1:9/h');
    assert.throws(() => checkPayloadUrl('http://u:p@127.0.0.1/', true), /credentials/);
  });
});

describe('webhook retry schedule', () => {
  it('starts at 1 s, doubles per failure, and stops growing at 5 minutes', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(retryDelayMs), [1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000, 300000]);
    assert.equal(retryDelayMs(1), FIRST_RETRY_MS);
    assert.equal(retryDelayMs(50), MAX_RETRY_MS);
    assert.equal(retryDelayMs(1000), MAX_RETRY_MS);
  });
});
