import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  authorizationHeader,
  chooseCredentials,
  credentialsFileLayer,
  environmentLayer,
  type CredentialLayer,
} from '../../src/deploy/credentials.js';
import { DeployError } from '../../src/deploy/deploy-error.js';
import { parseIniSections } from '../../src/deploy/ini-sections.js';
import { buildPython } from '../../src/deploy/package-project.js';
import { checkVersionId, timestampVersion } from '../../src/deploy/version-name.js';

const noPrompt = undefined;

describe('deploy: INI files as ConfigParser reads them', () => {
  it('reads = and : separators, comments, continuation lines and URL section names with dots', () => {
    const sections = parseIniSections(
      '\uFEFF# comment\n[settings]\ndefault = quotes.settings\n\n[deploy:prod]\nURL: https://a.example.com:6443/\n; c\nproject=quotes\n' +
        'description = one\n  two\n[https://scrapydd.example.com]\napi_key = k\n',
    );
    assert.equal(sections.get('settings')?.get('default'), 'quotes.settings');
    assert.equal(sections.get('deploy:prod')?.get('url'), 'https://a.example.com:6443/');
    assert.equal(sections.get('deploy:prod')?.get('project'), 'quotes');
    assert.equal(sections.get('deploy:prod')?.get('description'), 'one\ntwo');
    assert.equal(sections.get('https://scrapydd.example.com')?.get('api_key'), 'k');
  });
});

describe('deploy: choosing credentials', () => {
  const flags = (l: Omit<CredentialLayer, 'source'>): CredentialLayer => ({ source: 'the command line', ...l });
  const file = (l: Omit<CredentialLayer, 'source'>): CredentialLayer => ({ source: '~/.scrapydd', passwordBoundToUsername: true, ...l });
  const cfg = (l: Omit<CredentialLayer, 'source'>): CredentialLayer => ({ source: 'scrapy.cfg', passwordBoundToUsername: true, ...l });

  it('takes the user of the highest source and a password from any source that may pair with it', async () => {
    const env = environmentLayer({ SCRAPYDD_PASSWORD: 'env-pw' });
    assert.deepEqual(await chooseCredentials([flags({}), env, undefined, cfg({ username: 'alice' })], noPrompt), {
      kind: 'basic', username: 'alice', password: 'env-pw', source: 'scrapy.cfg',
    });
    // scrapy.cfg's password is alice's: never sent for bob.
    await assert.rejects(
      chooseCredentials([flags({ username: 'bob' }), environmentLayer({}), undefined, cfg({ username: 'alice', password: 'alice-pw' })], noPrompt),
      (err: DeployError) => err.exitCode === 2 && /no password for user 'bob' \(from the command line\)/.test(err.message),
    );
    assert.deepEqual(await chooseCredentials([flags({ username: 'bob' }), file({ password: 'file-pw' })], noPrompt), {
      kind: 'basic', username: 'bob', password: 'file-pw', source: 'the command line',
    });
    assert.deepEqual(await chooseCredentials([flags({ username: 'bob' }), cfg({ username: 'alice', password: 'x' })], async (u) => `typed-for-${u}`), {
      kind: 'basic', username: 'bob', password: 'typed-for-bob', source: 'the command line',
    });
  });

  it('prefers an API key of a higher source, or of the same source, over a user', async () => {
    const env = environmentLayer({ SCRAPYDD_API_KEY: 'sdk_1_x', SCRAPYDD_USERNAME: 'alice', SCRAPYDD_PASSWORD: 'pw' });
    const chosen = await chooseCredentials([flags({}), env, file({ username: 'carol', password: 'c' })], noPrompt);
    assert.deepEqual(chosen, { kind: 'api-key', apiKey: 'sdk_1_x', source: 'the environment' });
    assert.equal(authorizationHeader(chosen), 'Bearer sdk_1_x');
    const user = await chooseCredentials([flags({ username: 'bob', password: 'b' }), env], noPrompt);
    assert.equal(authorizationHeader(user), `Basic ${Buffer.from('bob:b').toString('base64')}`);
    assert.deepEqual(await chooseCredentials([flags({}), environmentLayer({ SCRAPYDD_PASSWORD: '' })], noPrompt), { kind: 'none' });
  });
});

describe('deploy: ~/.scrapydd', () => {
  let dir: string;
  let file: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scrapydd-creds-'));
    file = join(dir, '.scrapydd');
    await writeFile(
      file,
      '[default]\nusername = d\npassword = dpw\n\n[https://s.example.com:6443/]\napi_key = origin-key\n\n' +
        '[https://s.example.com:6443/team]\nusername = t\npassword = tpw\n',
    );
    await chmod(file, 0o600);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("uses the section of the URL with its path, else of the URL's origin, else [default], whole", () => {
    assert.deepEqual(credentialsFileLayer(file, new URL('https://S.example.com:6443/team/')), {
      source: `${file} [https://s.example.com:6443/team]`, passwordBoundToUsername: true, username: 't', password: 'tpw',
    });
    assert.equal(credentialsFileLayer(file, new URL('https://s.example.com:6443/other'))?.apiKey, 'origin-key');
    assert.equal(credentialsFileLayer(file, new URL('https://s.example.com:6443'))?.apiKey, 'origin-key');
    const fallback = credentialsFileLayer(file, new URL('http://s.example.com:6443/'));
    assert.deepEqual([fallback?.username, fallback?.apiKey], ['d', undefined]);
    assert.equal(credentialsFileLayer(join(dir, 'missing'), new URL('http://x')), undefined);
  });

  it('is refused when group or others may read it', async () => {
    await chmod(file, 0o640);
    try {
      assert.throws(() => credentialsFileLayer(file, new URL('http://x')), /other users may read it \(mode 0640\); run: chmod 600/);
    } finally {
      await chmod(file, 0o600);
    }
  });
});

describe('deploy: versions and Python', () => {
  it('makes UTC timestamp versions and checks version ids as the server does', () => {
    assert.equal(timestampVersion(new Date('2025-03-01T14:15:02.123Z')), '20250301T141502');
    checkVersionId('r12-3f9c2ab-dirty');
    for (const bad of ['', '..', 'a/b', 'x'.repeat(101), 'r 1']) assert.throws(() => checkVersionId(bad), DeployError, bad);
  });

  it('builds with --python, else SCRAPYDD_RUNNER_PYTHON, else /usr/bin/python3', () => {
    assert.equal(buildPython('/opt/py', { SCRAPYDD_RUNNER_PYTHON: '/env/py' }), '/opt/py');
    assert.equal(buildPython(undefined, { SCRAPYDD_RUNNER_PYTHON: '/env/py' }), '/env/py');
    assert.equal(buildPython(undefined, {}), '/usr/bin/python3');
  });
});
