/**
 * scrapy.cfg as Scrapy and scrapyd-deploy read it: user-level files under the
 * project's, [DEFAULT], %(name)s references, named targets inheriting
 * [deploy]; and ~/.netrc as the last credentials source.
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DeployError } from '../../src/deploy/deploy-error.js';
import { interpolatedValue, InterpolationError } from '../../src/deploy/ini-interpolation.js';
import { parseIniSections } from '../../src/deploy/ini-sections.js';
import { netrcEntry, netrcLayer } from '../../src/deploy/netrc.js';
import { deployTarget, loadScrapyProject, targetFile, targetNames, userConfigFiles } from '../../src/deploy/scrapy-project.js';

describe('deploy: %(name)s in scrapy.cfg values', () => {
  const sections = parseIniSections(
    '[DEFAULT]\nhost = scrapydd.example.com\n[deploy]\nurl = https://%(host)s:%(port)s/\nport = 6443\n' +
      'password = 50%%off\nbad = 5%\nloop = %(loop2)s\nloop2 = %(loop)s\nmissing = %(nope)s\nunclosed = %(host\n',
  );
  it('resolves references to the same section and to [DEFAULT], and %% to %', () => {
    assert.equal(interpolatedValue(sections, 'deploy', 'url'), 'https://scrapydd.example.com:6443/');
    assert.equal(interpolatedValue(sections, 'deploy', 'password'), '50%off');
    assert.equal(interpolatedValue(sections, 'deploy', 'host'), 'scrapydd.example.com', '[DEFAULT] keys are every section\'s');
    assert.equal(interpolatedValue(sections, 'deploy', 'absent'), undefined);
  });
  it('refuses a lone %, an unknown name, an unclosed reference and a loop, naming the key', () => {
    for (const [key, message] of [
      ['bad', /\[deploy\] bad: '%' must be written '%%'/],
      ['missing', /\[deploy\] missing: %\(nope\)s names no key of \[deploy\] or \[DEFAULT\]/],
      ['unclosed', /\[deploy\] unclosed: '%' must be written/],
      ['loop', /nest more than 10 deep/],
    ] as const) {
      assert.throws(() => interpolatedValue(sections, 'deploy', key), (err: Error) => err instanceof InterpolationError && message.test(err.message), key);
    }
  });
});

describe('deploy: scrapy.cfg from the user-level files and the project', () => {
  let root: string;
  let home: string;
  let project: string;
  const where = () => ({ home, env: {}, systemFile: join(root, 'etc-scrapy.cfg') });
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'scrapydd-cfg-'));
    home = join(root, 'home');
    project = join(root, 'src', 'quotes');
    await mkdir(join(home, '.config'), { recursive: true });
    await mkdir(join(project, 'quotes', 'spiders'), { recursive: true });
    await writeFile(join(root, 'etc-scrapy.cfg'), '[deploy:staging]\nurl = http://staging.example.com:6800/\nproject = from-etc\n');
    await writeFile(join(home, '.config', 'scrapy.cfg'), '[deploy:staging]\nproject = from-xdg\n');
    await writeFile(
      join(home, '.scrapy.cfg'),
      '[DEFAULT]\nteam = crawl\n[deploy]\nusername = %(team)s-bot\nurl = http://default.example.com:6800/\n[deploy:prod]\nurl = https://prod.example.com/\nproject = %(team)s-quotes\n',
    );
    await writeFile(join(project, 'scrapy.cfg'), '[settings]\ndefault = quotes.settings\n\n[deploy:prod]\nproject = quotes\n');
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('reads /etc, $XDG_CONFIG_HOME (default ~/.config), ~/.scrapy.cfg, then the project file; later keys win', () => {
    assert.deepEqual(userConfigFiles({ home: '/h', env: {} }), ['/etc/scrapy.cfg', '/h/.config/scrapy.cfg', '/h/.scrapy.cfg']);
    assert.deepEqual(userConfigFiles({ home: '/h', env: { XDG_CONFIG_HOME: '/x' } })[1], '/x/scrapy.cfg');
    const p = loadScrapyProject(join(project, 'quotes', 'spiders'), where());
    assert.equal(p.dir, project);
    assert.equal(p.settingsModule, 'quotes.settings');
    assert.deepEqual(p.files, [join(root, 'etc-scrapy.cfg'), join(home, '.config', 'scrapy.cfg'), join(home, '.scrapy.cfg'), join(project, 'scrapy.cfg')]);
    assert.deepEqual(targetNames(p).sort(), ['default', 'prod', 'staging']);
    // The project's own key beats ~/.scrapy.cfg's; the URL comes from ~/.scrapy.cfg.
    assert.deepEqual(deployTarget(p, 'prod'), {
      name: 'prod', url: 'https://prod.example.com/', project: 'quotes', version: undefined, username: 'crawl-bot', password: undefined,
    });
    assert.equal(targetFile(p, 'prod'), join(project, 'scrapy.cfg'));
    const staging = deployTarget(p, 'staging');
    assert.equal(staging.url, 'http://staging.example.com:6800/');
    assert.equal(staging.project, 'from-xdg');
    assert.equal(staging.username, 'crawl-bot', 'a named target takes what it lacks from [deploy], as scrapyd-deploy does');
    assert.equal(deployTarget(p, undefined).url, 'http://default.example.com:6800/');
  });

  it('names every file read when a target is unknown, and the file of a bad reference', async () => {
    const p = loadScrapyProject(project, where());
    assert.throws(() => deployTarget(p, 'nope'), (err: DeployError) =>
      err.exitCode === 2 && err.message.includes(join(home, '.scrapy.cfg')) && err.message.includes(join(project, 'scrapy.cfg')) && /targets: /.test(err.message));
    const bad = join(root, 'bad');
    await mkdir(bad);
    await writeFile(join(bad, 'scrapy.cfg'), '[settings]\ndefault = quotes.settings\n[deploy]\nurl = http://%(host)s/\n');
    const q = loadScrapyProject(bad, { home: join(root, 'nohome'), env: {}, systemFile: join(root, 'none.cfg') });
    assert.deepEqual(q.files, [join(bad, 'scrapy.cfg')], 'missing user-level files are skipped');
    assert.throws(() => deployTarget(q, undefined), (err: DeployError) =>
      err.exitCode === 2 && err.message === `${join(bad, 'scrapy.cfg')}: [deploy] url: %(host)s names no key of [deploy] or [DEFAULT]`);
  });
});

describe('deploy: ~/.netrc', () => {
  const text = [
    '# build robots',
    'machine scrapydd.example.com login alice password "p w\\"1"',
    'macdef init',
    'machine scrapydd.example.com login mallory password x',
    '',
    'machine other.example.com',
    '  login bob',
    '  password b0b',
    'machine scrapydd.example.com login second password 2',
    'default login anonymous password guest',
  ].join('\n');
  it('finds the host\'s first entry, else default; skips comments and macdef bodies', () => {
    assert.deepEqual(netrcEntry(text, 'SCRAPYDD.example.com'), { login: 'alice', password: 'p w"1' });
    assert.deepEqual(netrcEntry(text, 'other.example.com'), { login: 'bob', password: 'b0b' });
    assert.deepEqual(netrcEntry(text, 'unknown.example.com'), { login: 'anonymous', password: 'guest' });
    assert.equal(netrcEntry('machine a login x', 'b'), undefined);
  });
  it('is a credentials layer bound to its user, and refused when others may read it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scrapydd-netrc-'));
    try {
      const file = join(dir, '.netrc');
      await writeFile(file, text);
      await chmod(file, 0o600);
      assert.deepEqual(netrcLayer(file, new URL('https://scrapydd.example.com:6443/')), {
        source: file, passwordBoundToUsername: true, username: 'alice', password: 'p w"1',
      });
      assert.equal(netrcLayer(join(dir, 'absent'), new URL('http://x/')), undefined);
      await chmod(file, 0o644);
      assert.throws(() => netrcLayer(file, new URL('https://scrapydd.example.com/')), (err: DeployError) =>
        err.exitCode === 2 && err.message.includes(`chmod 600 ${file}`) && !err.message.includes('p w'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
