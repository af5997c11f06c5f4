// Pins the http.proto template grammar, matching and percent-decoding rules the REST router relies on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  compareSpecificity,
  compileTemplate,
  percentDecode,
  TemplateSyntaxError,
} from '../../src/server/rest/path-template.js';

describe('path template grammar', () => {
  it('parses literals, "*" and "**" segments', () => {
    const t = compileTemplate('/v1/*/files/**');
    assert.deepEqual(t.segments, [
      { kind: 'literal', value: 'v1' },
      { kind: 'wildcard' },
      { kind: 'literal', value: 'files' },
      { kind: 'deep' },
    ]);
    assert.deepEqual(t.variables, []);
    assert.equal(t.verb, undefined);
    assert.equal(t.source, '/v1/*/files/**');
  });

  it('treats {x} as {x=*}', () => {
    assert.deepEqual(compileTemplate('/v1/{x}').segments, compileTemplate('/v1/{x=*}').segments);
    assert.deepEqual(compileTemplate('/v1/{x}').variables, [{ fieldPath: 'x', start: 1, end: 2, multiSegment: false }]);
  });

  it('flattens variable sub-templates and records their span', () => {
    const t = compileTemplate('/v1/{name=projects/*/spiders/*}/{job_id}');
    assert.deepEqual(t.segments.map((s) => (s.kind === 'literal' ? s.value : s.kind)), [
      'v1', 'projects', 'wildcard', 'spiders', 'wildcard', 'wildcard',
    ]);
    assert.deepEqual(t.variables, [
      { fieldPath: 'name', start: 1, end: 5, multiSegment: true },
      { fieldPath: 'job_id', start: 5, end: 6, multiSegment: false },
    ]);
  });

  it('accepts dotted field paths', () => {
    const t = compileTemplate('/v1/{spider.config.name=projects/*}');
    assert.equal(t.variables[0]!.fieldPath, 'spider.config.name');
  });

  it('classifies {x=**} and one-literal variables', () => {
    assert.equal(compileTemplate('/v1/{x=**}').variables[0]!.multiSegment, true);
    assert.equal(compileTemplate('/v1/{x=me}').variables[0]!.multiSegment, false);
  });

  it('parses a verb after a literal, a variable, "*" and "**"', () => {
    assert.equal(compileTemplate('/v1/projects:search').verb, 'search');
    const t = compileTemplate('/v1/{name=projects/*}:cancel');
    assert.equal(t.verb, 'cancel');
    assert.deepEqual(t.variables, [{ fieldPath: 'name', start: 1, end: 3, multiSegment: true }]);
    assert.equal(compileTemplate('/v1/*:run').verb, 'run');
    assert.equal(compileTemplate('/v1/{path=**}:get').verb, 'get');
  });

  it('decodes percent-escapes in literals and keeps RFC 3986 sub-delims', () => {
    assert.deepEqual(compileTemplate('/v1/hello%20w%C3%B6rld').segments[1], { kind: 'literal', value: 'hello wörld' });
    assert.deepEqual(compileTemplate("/v1/a-b_c.d~e!$&'()+,;@").segments[1], {
      kind: 'literal',
      value: "a-b_c.d~e!$&'()+,;@",
    });
  });

  const bad: [string, string][] = [
    ['', 'offset 0: a template must start with "/"'],
    ['v1/x', 'offset 0: a template must start with "/"'],
    ['/', 'offset 1: empty segment'],
    ['//v1', 'offset 1: empty segment'],
    ['/v1/', 'offset 4: empty segment'],
    ['/v1//x', 'offset 4: empty segment'],
    ['/v1/{', 'offset 5: expected a field name (IDENT) in the variable'],
    ['/v1/{}', 'offset 5: expected a field name (IDENT) in the variable'],
    ['/v1/{1a}', 'offset 5: expected a field name (IDENT) in the variable'],
    ['/v1/{a.}', 'offset 7: expected a field name (IDENT) in the variable'],
    ['/v1/{a..b}', 'offset 7: expected a field name (IDENT) in the variable'],
    ['/v1/{a=}', 'offset 7: empty segment'],
    ['/v1/{a', 'offset 6: expected "}" to close the variable opened at offset 4'],
    ['/v1/{a=b/c', 'offset 10: expected "}" to close the variable opened at offset 4'],
    ['/v1/{a=b=c}', 'offset 8: expected "}" to close the variable opened at offset 4'],
    ['/v1/{a=b/{c}}', 'offset 9: a variable template must not contain other variables'],
    ['/v1/{a}/{a}', 'offset 5: field path "a" is bound twice'],
    ['/v1/**/x', 'offset 4: "**" must be the last segment (only a ":verb" may follow it)'],
    ['/v1/{a=**}/{b}', 'offset 7: "**" must be the last segment (only a ":verb" may follow it)'],
    ['/v1/***', 'offset 6: "***" is not a valid segment'],
    ['/v1/*a', 'offset 5: unexpected "a"'],
    ['/v1/{a}b', 'offset 7: unexpected "b"'],
    ['/v1/a}', 'offset 5: unexpected "}"'],
    ['/v1/a=b', 'offset 5: unexpected "="'],
    ['/v1/a b', 'offset 5: unexpected " "'],
    ['/v1/=x', 'offset 4: unexpected "="'],
    ['/v1/{a=b/}', 'offset 9: empty segment'],
    ['/v1/:run', 'offset 4: empty segment'],
    ['/v1/a:', 'offset 6: expected a verb after ":"'],
    ['/v1/a:b:c', 'offset 7: the ":verb" must be the last part of the template'],
    ['/v1/a:b/c', 'offset 7: the ":verb" must be the last part of the template'],
    ['/v1:', 'offset 4: expected a verb after ":"'],
    ['/v1/a%zz', 'offset 5: "%" must be followed by two hex digits'],
    ['/v1/a%2', 'offset 5: "%" must be followed by two hex digits'],
    ['/v1/%FF', 'offset 4: literal does not decode to valid UTF-8'],
  ];
  for (const [template, detail] of bad) {
    it(`rejects ${JSON.stringify(template)}`, () => {
      assert.throws(
        () => compileTemplate(template),
        (err: unknown) => {
          assert.ok(err instanceof TemplateSyntaxError);
          assert.equal(err.message, `invalid path template "${template}" at ${detail}`);
          return true;
        },
      );
    });
  }
});

describe('path template matching', () => {
  it('matches literals exactly and "*" as one non-empty segment', () => {
    const t = compileTemplate('/v1/projects/*');
    assert.deepEqual(t.match('/v1/projects/p1'), {});
    assert.equal(t.match('/v1/projects'), null);
    assert.equal(t.match('/v1/projects/'), null);
    assert.equal(t.match('/v1/projects/a/b'), null);
    assert.equal(t.match('/v1/Projects/p1'), null);
    assert.equal(t.match('v1/projects/p1'), null);
    assert.equal(t.match('/v1//projects/p1'), null);
  });

  it('captures single and multi-segment variables with nested field paths', () => {
    const t = compileTemplate('/v1/{spider.name=projects/*/spiders/*}/jobs/{job}');
    assert.deepEqual(t.match('/v1/projects/p/spiders/s/jobs/j1'), { 'spider.name': 'projects/p/spiders/s', job: 'j1' });
    assert.equal(t.match('/v1/projects/p/other/s/jobs/j1'), null);
  });

  it('matches "**" against zero or more segments', () => {
    const t = compileTemplate('/v1/{name=projects/*}/files/{path=**}');
    assert.deepEqual(t.match('/v1/projects/p/files'), { name: 'projects/p', path: '' });
    assert.deepEqual(t.match('/v1/projects/p/files/a'), { name: 'projects/p', path: 'a' });
    assert.deepEqual(t.match('/v1/projects/p/files/a/b/c'), { name: 'projects/p', path: 'a/b/c' });
    assert.equal(t.match('/v1/projects/p/files/a//c'), null);
    assert.deepEqual(compileTemplate('/**').match('/x/y'), {});
    assert.deepEqual(compileTemplate('/**').match('/'), {});
  });

  it('requires the verb and strips it before matching segments', () => {
    const t = compileTemplate('/v1/{name=projects/*}:cancel');
    assert.deepEqual(t.match('/v1/projects/p:cancel'), { name: 'projects/p' });
    assert.deepEqual(t.match('/v1/projects/a:b:cancel'), { name: 'projects/a:b' });
    assert.equal(t.match('/v1/projects/p'), null);
    assert.equal(t.match('/v1/projects/p:run'), null);
    assert.equal(t.match('/v1/projects:cancel/p'), null);
    assert.equal(t.match('/v1/projects/:cancel'), null);
    assert.deepEqual(compileTemplate('/v1/{rest=**}:get').match('/v1:get'), { rest: '' });
  });

  it('lets a variable keep a colon when the template has no verb', () => {
    assert.deepEqual(compileTemplate('/v1/{name}').match('/v1/a:b'), { name: 'a:b' });
    assert.equal(compileTemplate('/v1/cancel').match('/v1/x:cancel'), null);
  });

  it('fully decodes single-segment variables', () => {
    const t = compileTemplate('/v1/{id}');
    assert.deepEqual(t.match('/v1/a%2Fb%20c%3Ad%C3%A9'), { id: 'a/b c:dé' });
    assert.deepEqual(t.match('/v1/a+b'), { id: 'a+b' });
  });

  it('keeps %2F and %2f encoded in multi-segment variables, decoding the rest', () => {
    const t = compileTemplate('/v1/{name=buckets/*/objects/**}');
    assert.deepEqual(t.match('/v1/buckets/b%20x/objects/dir%2Ffile/a%2fb%3F'), {
      name: 'buckets/b x/objects/dir%2Ffile/a%2fb?',
    });
  });

  it('compares literals after percent-decoding both sides', () => {
    const t = compileTemplate('/v1/~me/hello%20world');
    assert.deepEqual(t.match('/v1/%7Eme/hello%20world'), {});
    assert.deepEqual(t.match('/v1/~me/hello world'), {});
    assert.equal(t.match('/v1/~me/hello%2520world'), null);
  });

  it('refuses malformed escapes and invalid UTF-8 in the path', () => {
    const t = compileTemplate('/v1/{id}');
    assert.equal(t.match('/v1/a%zz'), null);
    assert.equal(t.match('/v1/a%2'), null);
    assert.equal(t.match('/v1/%FF'), null);
  });

  it('stores field paths as own properties, even __proto__', () => {
    const params = compileTemplate('/v1/{__proto__}').match('/v1/x')!;
    assert.equal(Object.getOwnPropertyDescriptor(params, '__proto__')?.value, 'x');
    assert.equal(Object.getPrototypeOf(params), Object.prototype);
  });
});

describe('percentDecode', () => {
  it('decodes UTF-8 and optionally preserves %2F', () => {
    assert.equal(percentDecode('a%2Fb%C3%A9', false), 'a/bé');
    assert.equal(percentDecode('a%2Fb%2fc%41', true), 'a%2Fb%2fcA');
    assert.equal(percentDecode('plain', true), 'plain');
    assert.equal(percentDecode('%C3', false), null);
    assert.equal(percentDecode('%G0', false), null);
  });
});

describe('compareSpecificity', () => {
  it('orders literal before "*" before "**", then fewer segments, then verbs, then source', () => {
    const sources = [
      '/v1/{name=**}',
      '/v1/{name=projects/*/*}',
      '/v1/{parent=projects/*}/versions',
      '/v1/projects/special/versions',
      '/v1/{name=projects/*/versions/*}:run',
      '/v1/{name=projects/*/versions/*}',
      '/{all=**}',
      '/v1/{a=projects/*/*}',
    ];
    const sorted = sources.map(compileTemplate).sort(compareSpecificity).map((t) => t.source);
    assert.deepEqual(sorted, [
      '/v1/projects/special/versions',
      '/v1/{parent=projects/*}/versions',
      '/v1/{name=projects/*/versions/*}:run',
      '/v1/{name=projects/*/versions/*}',
      '/v1/{a=projects/*/*}',
      '/v1/{name=projects/*/*}',
      '/v1/{name=**}',
      '/{all=**}',
    ]);
  });

  it('is zero only for identical sources', () => {
    assert.equal(compareSpecificity(compileTemplate('/v1/{a}'), compileTemplate('/v1/{a}')), 0);
    assert.ok(compareSpecificity(compileTemplate('/v1/{a}'), compileTemplate('/v1/{b}')) < 0);
  });
});
