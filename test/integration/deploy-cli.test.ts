/**
 * `scrapydd deploy` and `scrapydd package` as a user runs them: the real CLI in a real
 * Scrapy project (made by `scrapy startproject`, or with its own setup.py in a git work
 * tree) against a real server with authentication on.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { createTestDatabase, testDatabaseKinds, type TestDatabase } from '../support/databases.js';
import { TEST_PYTHON } from '../support/eggs.js';
import { request } from '../support/http-client.js';
import { basic, CLI, freePort, runCli, startTestServer, writeConfig, type TestServer } from '../support/server-process.js';

const ALICE_PASSWORD = 'alice-password-1';
const BOB_PASSWORD = 'bob-password-1';
const QUOTES_FIXTURE = fileURLToPath(new URL('../fixtures/scrapy-projects/quotes/', import.meta.url));
const CLI_TIMEOUT_MS = 60_000;

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `scrapydd <args>` in `cwd` with HOME = `home` and no SCRAPYDD_* credentials but those given. */
function scrapydd(cwd: string, home: string, args: string[], opts: { env?: Record<string, string>; stdin?: string } = {}): Promise<CliRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, ...opts.env };
  for (const key of ['SCRAPYDD_USERNAME', 'SCRAPYDD_PASSWORD', 'SCRAPYDD_API_KEY']) {
    if (opts.env?.[key] === undefined) delete env[key];
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), CLI_TIMEOUT_MS);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(opts.stdin ?? '');
  });
}

/** Every path under `dir`, relative, sorted: to prove a build leaves the project as it found it. */
async function tree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.map((e) => relative(dir, join(dir, e))).sort();
}

/** `key: value` lines of the deploy's standard output. */
function summary(stdout: string): Record<string, string> {
  return Object.fromEntries(stdout.trim().split('\n').map((line) => {
    const i = line.indexOf(':');
    return [line.slice(0, i), line.slice(i + 1).trim()];
  }));
}

const SPIDER = `import scrapy


class HelloSpider(scrapy.Spider):
    name = "hello"
    start_urls = ["http://127.0.0.1:9/"]

    def parse(self, response):
        yield {"url": response.url}
`;

let keysDir: Promise<string> | undefined;

/** A directory whose keys/ holds a CA and a server certificate for localhost, made once by `scrapydd cert`. */
function tlsKeys(): Promise<string> {
  keysDir ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scrapydd-deploy-keys-'));
    await writeConfig(dir, 'sqlite:///unused.db', await freePort());
    for (const args of [['cert', 'ca'], ['cert', 'server', '--name', 'localhost']]) {
      const made = await runCli(dir, args);
      assert.equal(made.code, 0, made.stderr);
    }
    return dir;
  })();
  return keysDir;
}

after(async () => {
  if (keysDir) await rm(await keysDir, { recursive: true, force: true });
});

const git = (cwd: string, args: string[]) =>
  execa('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', ...args], { cwd, stdin: 'ignore' });

for (const kind of testDatabaseKinds()) {
  describe(`scrapydd deploy and package (${kind})`, () => {
    let db: TestDatabase;
    let server: TestServer;
    let serverDir: string;
    let httpsPort: number;
    let root: string;
    let home: string;
    /** `scrapy startproject demo` plus a spider, url and username in scrapy.cfg. */
    let demoDir: string;
    /** The quotes fixture (own setup.py) in a git work tree with one commit. */
    let quotesDir: string;
    let egg: string;
    const alice = basic('alice', ALICE_PASSWORD);

    before(async () => {
      root = await mkdtemp(join(tmpdir(), 'scrapydd-deploy-'));
      home = join(root, 'home');
      demoDir = join(root, 'demo');
      quotesDir = join(root, 'quotes');
      egg = join(root, 'x.egg');
      await mkdir(home);
      const makeServer = async () => {
        db = await createTestDatabase(kind);
        // The server also listens on https_port with a certificate from `scrapydd cert`'s private CA.
        serverDir = await mkdtemp(join(tmpdir(), 'scrapydd-deploy-srv-'));
        await cp(join(await tlsKeys(), 'keys'), join(serverDir, 'keys'), { recursive: true });
        httpsPort = await freePort();
        server = await startTestServer({ databaseUrl: db.url, workDir: serverDir, settings: { https_port: String(httpsPort) } });
        await Promise.all(([['alice', ALICE_PASSWORD], ['bob', BOB_PASSWORD]] as const).map(async ([user, password]) => {
          const added = await server.cli(['adduser', user], `${password}\n`);
          assert.equal(added.code, 0, added.stderr);
        }));
      };
      const makeProjects = async () => {
        await execa(TEST_PYTHON, ['-m', 'scrapy', 'startproject', 'demo'], { cwd: root, stdin: 'ignore' });
        await writeFile(join(demoDir, 'demo', 'spiders', 'hello.py'), SPIDER);
        await cp(QUOTES_FIXTURE, quotesDir, { recursive: true, filter: (src) => !/(__pycache__|\.egg-info|[\\/]build)$/.test(src) });
        await writeFile(join(quotesDir, 'scrapy.cfg'), '[settings]\ndefault = quotes.settings\n\n[deploy:local]\nurl = SERVER_URL\nproject = quotes\n');
      };
      await Promise.all([makeServer(), makeProjects()]);
      const cfg = await readFile(join(demoDir, 'scrapy.cfg'), 'utf8');
      assert.match(cfg, /#url = http:\/\/localhost:6800\//);
      await writeFile(join(demoDir, 'scrapy.cfg'), cfg.replace(/#url = .*/, `url = ${server.baseUrl}/\nusername = alice`));
      const quotesCfg = join(quotesDir, 'scrapy.cfg');
      await writeFile(quotesCfg, (await readFile(quotesCfg, 'utf8')).replace('SERVER_URL', server.baseUrl));
      await git(quotesDir, ['init', '-q']);
      await git(quotesDir, ['add', '.']);
      await git(quotesDir, ['commit', '-q', '-m', 'quotes']);
    });
    after(async () => {
      await server?.stop();
      await rm(serverDir, { recursive: true, force: true });
      await rm(root, { recursive: true, force: true });
      await db?.drop();
    });

    it('deploys a fresh startproject project: URL and user from scrapy.cfg, password from the environment; the project dir is left as it was', async () => {
      const before = await tree(demoDir);
      const run = await scrapydd(demoDir, home, ['deploy'], { env: { SCRAPYDD_PASSWORD: ALICE_PASSWORD } });
      assert.equal(run.code, 0, run.stderr);
      const out = summary(run.stdout);
      assert.equal(out.server, server.baseUrl);
      assert.equal(out.project, 'demo (created)');
      assert.match(out.version!, /^\d{8}T\d{6}$/, 'not in git: a UTC timestamp');
      assert.equal(out.spiders, 'hello');
      assert.match(run.stderr, /temporary setup\.py/);
      assert.match(run.stderr, /uploading version '\d{8}T\d{6}' of the new project 'demo' to .* KB, user 'alice'/);
      assert.ok(!run.stderr.includes(ALICE_PASSWORD) && !run.stdout.includes(ALICE_PASSWORD));

      const project = await request(server, 'GET', '/v1/projects/demo', { auth: alice });
      assert.equal(project.status, 200, project.text);
      assert.equal(project.json.owner, 'users/alice');
      assert.equal(project.json.latestVersion, `projects/demo/versions/${out.version}`);
      const version = await request(server, 'GET', `/v1/projects/demo/versions/${out.version}`, { auth: alice });
      assert.deepEqual(version.json.spiders, ['hello']);
      assert.equal(version.json.settingsModule, 'demo.settings');
      assert.deepEqual(await tree(demoDir), before, 'no setup.py, build/ or *.egg-info left behind');
    });

    it("deploys a project with its own setup.py to a named target, versioned from git, with the password from stdin; keeps a build/ that was there", async () => {
      await mkdir(join(quotesDir, 'build'));
      await writeFile(join(quotesDir, 'build', 'keep.txt'), 'mine');
      const head = (await git(quotesDir, ['rev-parse', '--short', 'HEAD'])).stdout.trim();
      const run = await scrapydd(quotesDir, home, ['deploy', 'local', '-u', 'alice', '--password-stdin'], { stdin: `${ALICE_PASSWORD}\n` });
      assert.equal(run.code, 0, run.stderr);
      const out = summary(run.stdout);
      assert.equal(out.project, 'quotes (created)');
      assert.equal(out.version, `r1-${head}-dirty`, 'build/keep.txt is an uncommitted change');
      assert.equal(out.spiders, 'alpha beta gamma');
      assert.match(run.stderr, /the project's setup\.py/);
      assert.equal(await readFile(join(quotesDir, 'build', 'keep.txt'), 'utf8'), 'mine');
      assert.ok(!(await readdir(quotesDir)).some((name) => name.endsWith('.egg-info')), 'no quotes.egg-info left behind');

      await rm(join(quotesDir, 'build'), { recursive: true });
    });

    it('scrapydd package -o builds an egg the server accepts; deploy --egg uploads it with -v and ~/.scrapydd credentials', async () => {
      const head = (await git(quotesDir, ['rev-parse', '--short', 'HEAD'])).stdout.trim();
      const built = await scrapydd(quotesDir, home, ['package', '-o', egg]);
      assert.equal(built.code, 0, built.stderr);
      assert.equal(built.stdout, `${egg}\n`);
      assert.match(built.stderr, new RegExp(`built quotes version r1-${head} \\(`), 'a clean work tree: no -dirty');

      const credentials = join(home, '.scrapydd');
      await writeFile(credentials, `[default]\nusername = nobody\npassword = wrong\n\n[${server.baseUrl}/]\nusername = alice\npassword = ${ALICE_PASSWORD}\n`);
      await chmod(credentials, 0o644);
      const args = ['deploy', '--egg', egg, '--url', server.baseUrl, '-p', 'quotes', '-v', 'release-1'];
      const exposed = await scrapydd(home, home, args);
      assert.equal(exposed.code, 2);
      assert.match(exposed.stderr, /other users may read it \(mode 0644\); run: chmod 600/);

      await chmod(credentials, 0o600);
      const run = await scrapydd(home, home, args);
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(summary(run.stdout), { server: server.baseUrl, project: 'quotes', version: 'release-1', spiders: 'alpha beta gamma' });
      assert.match(run.stderr, /user 'alice' \(from .*\.scrapydd \[http/);
      const project = await request(server, 'GET', '/v1/projects/quotes', { auth: alice });
      assert.equal(project.json.latestVersion, 'projects/quotes/versions/release-1');
      await rm(credentials);

      // As scrapyd-deploy: a target from ~/.scrapy.cfg, the user and password from ~/.netrc.
      const userCfg = join(home, '.scrapy.cfg');
      const netrc = join(home, '.netrc');
      await writeFile(userCfg, `[DEFAULT]\nhost = ${new URL(server.baseUrl).host}\n[deploy:from-home]\nurl = http://%(host)s/\nproject = quotes\n`);
      await writeFile(netrc, `machine ${new URL(server.baseUrl).hostname}\n  login alice\n  password ${ALICE_PASSWORD}\n`);
      await chmod(netrc, 0o600);
      try {
        const listed = await scrapydd(quotesDir, home, ['deploy', '-l']);
        assert.equal(listed.code, 0, listed.stderr);
        assert.match(listed.stdout, new RegExp(`^from-home +http://${new URL(server.baseUrl).host.replace(/\./g, '\\.')}/$`, 'm'));
        const fromHome = await scrapydd(quotesDir, home, ['deploy', 'from-home', '--egg', egg, '-v', 'release-2']);
        assert.equal(fromHome.code, 0, fromHome.stderr);
        assert.equal(summary(fromHome.stdout).version, 'release-2');
        assert.match(fromHome.stderr, /user 'alice' \(from .*\.netrc\)/);
      } finally {
        await rm(userCfg);
        await rm(netrc);
      }
    });

    it("deploys with an API key from SCRAPYDD_API_KEY as the key's user, who may not deploy to another user's project", async () => {
      const created = await request(server, 'POST', '/v1/users/bob/apiKeys', { auth: basic('bob', BOB_PASSWORD), json: { displayName: 'ci' } });
      assert.equal(created.status, 200, created.text);
      const key = created.json.secret as string;
      const env = { SCRAPYDD_API_KEY: key };
      const run = await scrapydd(home, home, ['deploy', '--egg', egg, '--url', server.baseUrl, '-p', 'bobs', '-v', 'k1'], { env });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(summary(run.stdout).project, 'bobs (created)');
      assert.match(run.stderr, /an API key \(from the environment\)/);
      const project = await request(server, 'GET', '/v1/projects/bobs', { auth: basic('bob', BOB_PASSWORD) });
      assert.equal(project.json.owner, 'users/bob');

      const denied = await scrapydd(home, home, ['deploy', '--egg', egg, '--url', server.baseUrl, '-p', 'quotes', '-v', 'k2'], { env });
      assert.equal(denied.code, 4, denied.stderr);
      assert.match(denied.stderr, /^scrapydd: permission denied looking up project 'quotes' on http:\/\/127\.0\.0\.1:\d+: /);
      for (const text of [run.stdout, run.stderr, denied.stdout, denied.stderr]) assert.ok(!text.includes(key), 'the key is never printed');
    });

    it('deploys over https with --ca-file; without it the TLS failure points to --ca-file', async () => {
      const url = `https://localhost:${httpsPort}`;
      const env = { SCRAPYDD_USERNAME: 'alice', SCRAPYDD_PASSWORD: ALICE_PASSWORD };
      const run = await scrapydd(home, home, ['deploy', '--egg', egg, '--url', url, '-p', 'quotes', '-v', 'tls-1', '--ca-file', join(serverDir, 'keys', 'ca.crt')], { env });
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(summary(run.stdout), { server: url, project: 'quotes', version: 'tls-1', spiders: 'alpha beta gamma' });

      const untrusted = await scrapydd(home, home, ['deploy', '--egg', egg, '--url', url, '-p', 'quotes', '-v', 'tls-2'], { env });
      assert.equal(untrusted.code, 5);
      assert.match(untrusted.stderr, /^scrapydd: TLS with https:\/\/localhost:\d+ failed: .*\(for a server certificate from a private CA, give --ca-file\)/);
    });

    it('fails clearly: no scrapy.cfg, wrong password, server down, spiders that do not load', async () => {
      const empty = await scrapydd(home, home, ['deploy']);
      assert.equal(empty.code, 2);
      assert.equal(empty.stderr, `scrapydd: no scrapy.cfg found in ${home} or any parent directory (run this inside a Scrapy project or give --project-dir)\n`);
      const noCfgPackage = await scrapydd(home, home, ['package']);
      assert.equal(noCfgPackage.code, 2);
      assert.match(noCfgPackage.stderr, /no scrapy\.cfg found/);

      const wrong = 'not-alices-password';
      const denied = await scrapydd(demoDir, home, ['deploy'], { env: { SCRAPYDD_PASSWORD: wrong } });
      assert.equal(denied.code, 4);
      assert.match(denied.stderr, new RegExp(`^scrapydd: authentication failed for ${server.baseUrl.replace(/\./g, '\\.')} with user 'alice'`));
      assert.ok(!denied.stderr.includes(wrong) && !denied.stdout.includes(wrong), 'the password is never printed');

      const down = await scrapydd(demoDir, home, ['deploy', '--url', `http://127.0.0.1:${await freePort()}`], { env: { SCRAPYDD_PASSWORD: ALICE_PASSWORD } });
      assert.equal(down.code, 5);
      assert.match(down.stderr, /^scrapydd: cannot reach http:\/\/127\.0\.0\.1:\d+: connection refused/);

      const settings = join(demoDir, 'demo', 'settings.py');
      await writeFile(settings, `${await readFile(settings, 'utf8')}\nBOT_NAME = (\n`);
      const broken = await scrapydd(demoDir, home, ['deploy', '-p', 'broken', '-v', 'b1'], { env: { SCRAPYDD_PASSWORD: ALICE_PASSWORD } });
      assert.equal(broken.code, 6, broken.stderr);
      assert.match(broken.stderr, /^scrapydd: uploading version 'b1' of project 'broken' failed: SyntaxError: '\(' was never closed\n$/m);
      const project = await request(server, 'GET', '/v1/projects/broken', { auth: alice });
      assert.equal(project.status, 404, 'a refused egg leaves no empty project behind');
    });
  });
}

describe('scrapydd deploy and package without a server', () => {
  it('refuses a scrapy.cfg without [settings] default, a Python without setuptools, a failing build (showing its tail), a missing --egg; prints help', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scrapydd-deploy-'));
    try {
      await writeFile(join(dir, 'scrapy.cfg'), '[deploy]\nurl = http://127.0.0.1:9\n');
      const noSettings = await scrapydd(dir, dir, ['package']);
      assert.equal(noSettings.code, 2);
      assert.equal(noSettings.stderr, `scrapydd: ${join(dir, 'scrapy.cfg')} has no [settings] default (e.g. default = myproject.settings)\n`);

      await writeFile(join(dir, 'scrapy.cfg'), '[settings]\ndefault = demo.settings\n');
      const fakePython = join(dir, 'python-without-setuptools');
      await writeFile(fakePython, `#!/bin/sh\nexec ${TEST_PYTHON} -S -I -c 'import sys; sys.modules["setuptools"] = None; exec(sys.argv[1])' "$2"\n`);
      await chmod(fakePython, 0o755);
      const noSetuptools = await scrapydd(dir, dir, ['package', '--python', fakePython]);
      assert.equal(noSetuptools.code, 3);
      assert.match(noSetuptools.stderr, /cannot import setuptools, which builds eggs/);
      const missing = await scrapydd(dir, dir, ['package'], { env: { SCRAPYDD_RUNNER_PYTHON: join(dir, 'no-such-python') } });
      assert.equal(missing.code, 3);
      assert.match(missing.stderr, /cannot run .*no-such-python: not found/);

      // A build that fails: the tail of its output is shown and the temporary setup.py is gone.
      await mkdir(join(dir, 'demo'));
      await writeFile(join(dir, 'demo', '__init__.py'), '');
      const failingPython = join(dir, 'python-failing-build');
      const lines = Array.from({ length: 40 }, (_, i) => `line ${i + 1}`).join('\\n');
      await writeFile(failingPython, `#!/bin/sh\nif [ "$1" = "-c" ]; then exec ${TEST_PYTHON} "$@"; fi\nprintf '${lines}\\n'; exit 7\n`);
      await chmod(failingPython, 0o755);
      const failed = await scrapydd(dir, dir, ['package', '--python', failingPython]);
      assert.equal(failed.code, 3);
      assert.match(failed.stderr, /building the egg with .*python-failing-build \(a temporary setup\.py\)/);
      assert.match(failed.stderr, /^scrapydd: building the egg failed \(exit code 7\):\n  \.\.\.\n  line 16\n(  line \d+\n){23}  line 40\n$/m);
      assert.deepEqual((await readdir(dir)).sort(), ['demo', 'python-failing-build', 'python-without-setuptools', 'scrapy.cfg']);

      const noEgg = await scrapydd(dir, dir, ['deploy', '--egg', join(dir, 'none.egg'), '--url', 'http://127.0.0.1:9', '-p', 'x', '-v', 'r1']);
      assert.equal(noEgg.code, 2, 'checked before the server is contacted');
      assert.match(noEgg.stderr, /^scrapydd: cannot read the egg .*none\.egg: ENOENT/);

      for (const cmd of ['deploy', 'package']) {
        const help = await scrapydd(dir, dir, [cmd, '--help']);
        assert.equal(help.code, 0);
        assert.match(help.stdout, new RegExp(`Usage: scrapydd ${cmd}`));
        assert.match(help.stdout, /--version-id/);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
