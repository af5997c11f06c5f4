import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apiKeyIdOf, hashSecret, makeApiKeySecret, secretMatches } from '../../src/auth/api-key-secret.js';
import { hashPassword, passwordProblem, verifyPassword } from '../../src/auth/password.js';
import { VerifiedPasswordCache } from '../../src/auth/verified-password-cache.js';
import { parseAuthorization } from '../../src/server/auth/authorization-header.js';

describe('passwords', () => {
  it('hashes with scrypt and salt, and verifies', async () => {
    const a = await hashPassword('correct horse');
    const b = await hashPassword('correct horse');
    assert.match(a, /^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    assert.notEqual(a, b);
    assert.equal(await verifyPassword('correct horse', a), true);
    assert.equal(await verifyPassword('wrong horse', a), false);
    assert.equal(await verifyPassword('x', 'sha1$abc'), false);
  });

  it('refuses short passwords', () => {
    assert.equal(passwordProblem('short'), 'password must be at least 8 characters');
    assert.equal(passwordProblem('long enough'), undefined);
  });

  it('remembers a verified password only for the same stored hash', () => {
    const cache = new VerifiedPasswordCache(60_000);
    cache.add('hash1', 'pw');
    assert.equal(cache.has('hash1', 'pw'), true);
    assert.equal(cache.has('hash2', 'pw'), false);
    assert.equal(cache.has('hash1', 'other'), false);
    const expired = new VerifiedPasswordCache(-1);
    expired.add('h', 'p');
    assert.equal(expired.has('h', 'p'), false);
  });
});

describe('api key secrets', () => {
  it('carry their key id and match only their hash', () => {
    const secret = makeApiKeySecret('123456789');
    assert.match(secret, /^sdk_123456789_[A-Za-z0-9_-]{43}$/);
    assert.equal(apiKeyIdOf(secret), '123456789');
    assert.equal(apiKeyIdOf('sdk_abc_x'), undefined);
    assert.equal(secretMatches(secret, hashSecret(secret)), true);
    assert.equal(secretMatches(`${secret}x`, hashSecret(secret)), false);
  });
});

describe('Authorization header', () => {
  it('parses Basic and Bearer, case-insensitively', () => {
    const b64 = Buffer.from('alice:pa:ss').toString('base64');
    assert.deepEqual(parseAuthorization(`Basic ${b64}`), { kind: 'basic', username: 'alice', password: 'pa:ss' });
    assert.deepEqual(parseAuthorization(`basic ${b64}`), { kind: 'basic', username: 'alice', password: 'pa:ss' });
    assert.deepEqual(parseAuthorization('Bearer sdk_1_x'), { kind: 'bearer', token: 'sdk_1_x' });
  });

  it('refuses anything else', () => {
    assert.equal(parseAuthorization(undefined), undefined);
    assert.equal(parseAuthorization('Digest abc'), undefined);
    assert.equal(parseAuthorization('Basic'), undefined);
    assert.equal(parseAuthorization(`Basic ${Buffer.from('nocolon').toString('base64')}`), undefined);
  });
});
