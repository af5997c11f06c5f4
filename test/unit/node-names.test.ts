/** Node display names, node tokens and key secrets, tags, ListNodes filters and node resource names. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashSecret, secretMatches } from '../../src/auth/api-key-secret.js';
import { isNodeToken, makeNodeKeySecret, makeNodeToken, nodeIdOfToken } from '../../src/auth/node-token.js';
import { ADJECTIVES, ANIMALS, COLOURS, randomDisplayName } from '../../src/domain/nodes/display-names.js';
import { parseNodeFilter } from '../../src/domain/nodes/node-filter.js';
import { nodeKeyName, nodeName, parseNodeKeyName, parseNodeKeyRef, parseNodeName } from '../../src/domain/nodes/node-names.js';
import { normalizeTags } from '../../src/domain/nodes/tags.js';
import { Code, type DomainError } from '../../src/errors/domain-error.js';

const invalid = (e: DomainError) => e.code === Code.INVALID_ARGUMENT;

describe('node display names', () => {
  it('are adjective-colour-animal from three lists of about 50 distinct lowercase words', () => {
    for (const list of [ADJECTIVES, COLOURS, ANIMALS]) {
      assert.ok(list.length >= 45 && list.length <= 60, `${list.length} words`);
      assert.equal(new Set(list).size, list.length, 'no repeated word');
      for (const w of list) assert.match(w, /^[a-z]+$/);
    }
    for (let i = 0; i < 200; i++) {
      const [a, c, n, ...rest] = randomDisplayName().split('-');
      assert.deepEqual(rest, []);
      assert.ok(ADJECTIVES.includes(a!) && COLOURS.includes(c!) && ANIMALS.includes(n!), `${a}-${c}-${n}`);
    }
  });

  it('take their randomness from the given source (nerdy-cyan-rottweiler is one of them)', () => {
    const picks = [ADJECTIVES.indexOf('nerdy'), COLOURS.indexOf('cyan'), ANIMALS.indexOf('rottweiler')];
    const limits: number[] = [];
    const name = randomDisplayName((n) => (limits.push(n), picks.shift()!));
    assert.equal(name, 'nerdy-cyan-rottweiler');
    assert.deepEqual(limits, [ADJECTIVES.length, COLOURS.length, ANIMALS.length]);
  });

  it('vary', () => {
    assert.ok(new Set(Array.from({ length: 50 }, () => randomDisplayName())).size > 40);
  });
});

describe('node tokens', () => {
  it('are sdn_<node id>_<43 base64url chars> and carry the node id', () => {
    const id = '1913485971031199744';
    const token = makeNodeToken(id);
    assert.match(token, /^sdn_1913485971031199744_[A-Za-z0-9_-]{43}$/);
    assert.equal(nodeIdOfToken(token), id);
    assert.ok(isNodeToken(token));
    assert.notEqual(makeNodeToken(id), token, 'random part');
  });

  it('are told apart from API keys and malformed tokens', () => {
    assert.equal(isNodeToken(`sdk_1_${'A'.repeat(43)}`), false);
    for (const bad of ['sdn_', 'sdn_12_short', `sdn_x_${'A'.repeat(43)}`, `sdn_1_${'A'.repeat(44)}`, `sdn_1_${'A'.repeat(42)}!`]) {
      assert.equal(nodeIdOfToken(bad), undefined, bad);
    }
  });

  it('are stored as a SHA-256 and checked against it', () => {
    const token = makeNodeToken('7');
    const hash = hashSecret(token);
    assert.match(hash, /^[0-9a-f]{64}$/);
    assert.ok(secretMatches(token, hash));
    assert.equal(secretMatches(makeNodeToken('7'), hash), false);
  });

  it('node key secrets are 43 random base64url chars', () => {
    const a = makeNodeKeySecret();
    assert.match(a, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(makeNodeKeySecret(), a);
  });
});

describe('node tags', () => {
  it('are trimmed and deduplicated in first-seen order', () => {
    assert.deepEqual(normalizeTags([' CA', 'AllDay', 'CA', 'x.y-z_1', 'AllDay ']), ['CA', 'AllDay', 'x.y-z_1']);
    assert.deepEqual(normalizeTags([]), []);
  });

  it('refuses empty, long or odd tags, and too many', () => {
    for (const bad of ['', ' ', 'a b', 'a/b', 'ä', 'x'.repeat(65), 'a,b']) {
      assert.throws(() => normalizeTags([bad], 'node.tags'), (e: DomainError) => invalid(e) && e.field === 'node.tags', bad);
    }
    assert.deepEqual(normalizeTags(['x'.repeat(64)]), ['x'.repeat(64)]);
    assert.throws(() => normalizeTags(Array.from({ length: 101 }, (_, i) => `t${i}`)), invalid);
  });
});

describe('ListNodes filters', () => {
  it('accept is_online, temporary and one tags term joined by AND', () => {
    assert.deepEqual(parseNodeFilter(''), {});
    assert.deepEqual(parseNodeFilter('  '), {});
    assert.deepEqual(parseNodeFilter('is_online = true'), { isOnline: true });
    assert.deepEqual(parseNodeFilter('is_online=false'), { isOnline: false });
    assert.deepEqual(parseNodeFilter('temporary = false AND tags:"CA"'), { temporary: false, tag: 'CA' });
    assert.deepEqual(parseNodeFilter('tags:gpu AND is_online = true'), { tag: 'gpu', isOnline: true });
  });

  it('refuse anything else with INVALID_ARGUMENT on filter', () => {
    for (const bad of ['is_online = yes', 'display_name = "x"', 'is_online = true OR temporary = true', 'tags:"a" AND tags:"b"',
      'is_online = true AND is_online = false', 'tags:"a b"', 'NOT is_online = true']) {
      assert.throws(() => parseNodeFilter(bad), (e: DomainError) => invalid(e) && e.field === 'filter', bad);
    }
  });
});

describe('node resource names', () => {
  it('nodes/{id} and nodeKeys/{id}, or a bare key id for CreateNode', () => {
    assert.equal(nodeName('12'), 'nodes/12');
    assert.equal(nodeKeyName('34'), 'nodeKeys/34');
    assert.equal(parseNodeName('nodes/12'), '12');
    assert.equal(parseNodeKeyName('nodeKeys/34'), '34');
    assert.equal(parseNodeKeyRef('nodeKeys/34'), '34');
    assert.equal(parseNodeKeyRef('34'), '34');
    for (const bad of ['nodes/x', 'nodes/', 'projects/1', 'nodes/1/x', 'nodes/-1']) assert.throws(() => parseNodeName(bad), invalid, bad);
    for (const bad of ['abc', 'nodes/1', 'nodeKeys/x', '']) assert.throws(() => parseNodeKeyRef(bad), invalid, bad);
  });
});
