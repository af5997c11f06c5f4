/**
 * Integration tests for the venv cache: real virtualenvs from the test Python, requirements
 * installed by pip from a local directory of tiny wheels made here (no index is reachable).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { ensureVenv, type EnsureVenvOptions } from '../../src/agent/runner/venv-cache.js';
import { parseRequiresTxt } from '../../src/agent/runner/egg-requirements.js';
import { acquireLock } from '../../src/agent/runner/file-lock.js';
import { startJob } from '../../src/agent/runner/job-process.js';
import { TEST_PYTHON, makeZip, writeTempFile } from '../support/eggs.js';
import { writeWheel } from '../support/wheels.js';

let root: string;
let wheels: string;
let egg: string;
let cacheNo = 0;

const REQUIRES_TXT = `scrapydd-fixture-egg-dep>=1.0

[:python_version >= "3"]
scrapydd_fixture_marker_dep

[:python_version < "3"]
scrapydd-fixture-never-installed

[socks]
scrapydd-fixture-never-installed
`;

const SPIDER = `import scrapy
import scrapydd_fixture_egg_dep


class UsesDep(scrapy.Spider):
    name = "uses_dep"
    start_urls = ["data:text/plain,hello"]

    def parse(self, response):
        yield {"value": scrapydd_fixture_egg_dep.VALUE, "body": response.text}
`;

function opts(over: Partial<EnsureVenvOptions> = {}): EnsureVenvOptions {
  cacheNo += 1;
  return {
    python: TEST_PYTHON,
    cacheDir: join(root, `cache-${cacheNo}`),
    eggPath: egg,
    eggSha256: 'ab'.repeat(32),
    extraRequirements: [],
    env: { PIP_NO_INDEX: '1', PIP_FIND_LINKS: wheels, PIP_NO_CACHE_DIR: '1' },
    ...over,
  };
}

async function pythonSays(python: string, code: string): Promise<string> {
  return (await execa(python, ['-c', code], { stdin: 'ignore' })).stdout.trim();
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'scrapydd-venvs-'));
  wheels = join(root, 'wheels');
  await execa('mkdir', [wheels]);
  await writeWheel(wheels, 'scrapydd_fixture_egg_dep', 'egg-dep');
  await writeWheel(wheels, 'scrapydd_fixture_marker_dep', 'marker-dep');
  await writeWheel(wheels, 'scrapydd_fixture_extra_req', 'extra-req');
  egg = await writeTempFile(
    await makeZip([
      { name: 'EGG-INFO/entry_points.txt', data: '[scrapy]\nsettings = demo.settings\n' },
      { name: 'EGG-INFO/requires.txt', data: REQUIRES_TXT },
      { name: 'demo/__init__.py', data: '' },
      { name: 'demo/settings.py', data: 'SPIDER_MODULES = ["demo.spiders"]\nREQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"\n' },
      { name: 'demo/spiders/__init__.py', data: '' },
      { name: 'demo/spiders/uses_dep.py', data: SPIDER },
    ]),
    'demo-1.0-py3.11.egg',
  );
});

after(() => rm(root, { recursive: true, force: true }));

describe('parseRequiresTxt', () => {
  it('keeps plain and marker sections, drops named extras', () => {
    assert.deepEqual(parseRequiresTxt(REQUIRES_TXT), [
      'scrapydd-fixture-egg-dep>=1.0',
      'scrapydd_fixture_marker_dep; python_version >= "3"',
      'scrapydd-fixture-never-installed; python_version < "3"',
    ]);
    assert.deepEqual(parseRequiresTxt('# c\r\na\r\n[:os_name == "posix"]\nb; python_version > "3"\n'), [
      'a',
      'b; (python_version > "3") and (os_name == "posix")',
    ]);
  });
});

describe('ensureVenv', () => {
  it('builds a venv with the egg\'s requires.txt and the extra requirements, then reuses it', async () => {
    const lines: string[] = [];
    const o = opts({ extraRequirements: ['scrapydd-fixture-extra-req'], log: (l) => lines.push(l) });
    const python = await ensureVenv(o);
    assert.ok(python.startsWith(o.cacheDir) && python.endsWith('/bin/python'));
    assert.equal(
      await pythonSays(
        python,
        'import sys, scrapy, scrapydd_fixture_egg_dep as a, scrapydd_fixture_marker_dep as b, scrapydd_fixture_extra_req as c; print(a.VALUE, b.VALUE, c.VALUE, sys.prefix != sys.base_prefix)',
      ),
      'egg-dep marker-dep extra-req True',
    );
    assert.ok(lines.some((l) => /Successfully installed .*scrapydd-fixture-egg-dep/i.test(l)), lines.join('\n'));
    const built = (await stat(python)).mtimeMs;

    lines.length = 0;
    assert.equal(await ensureVenv({ ...o, extraRequirements: [' scrapydd-fixture-extra-req', 'scrapydd-fixture-extra-req'] }), python);
    assert.deepEqual(lines, [], 'the venv was built again');
    assert.equal((await stat(python)).mtimeMs, built);
    // Other extra requirements: another venv.
    const other = await ensureVenv({ ...o, extraRequirements: [] });
    assert.notEqual(other, python);
    assert.equal((await readdir(o.cacheDir)).length, 2);
  });

  it('runs a crawl with the venv python, which the base python cannot', async () => {
    const python = await ensureVenv(opts());
    const run = async (py: string) => {
      const items: string[] = [];
      const job = await startJob(
        {
          job: 'projects/demo/spiders/uses_dep/jobs/1', eggPath: egg, spider: 'uses_dep', args: {}, settings: {},
          python: py, workDir: join(root, `job-${++cacheNo}`), timeoutSeconds: 60, cancelGraceSeconds: 5,
        },
        { onLog: () => {}, onItems: (batch) => items.push(...batch) },
      );
      return { result: await job.done, items };
    };
    const inVenv = await run(python);
    assert.equal(inVenv.result.state, 'SUCCEEDED');
    assert.deepEqual(inVenv.items.map((i) => JSON.parse(i)), [{ value: 'egg-dep', body: 'hello' }]);
    assert.equal((await run(TEST_PYTHON)).result.state, 'FAILED');
  });

  it('builds one venv for concurrent callers', async () => {
    const lines: string[] = [];
    const o = opts({ log: (l) => lines.push(l) });
    const pythons = await Promise.all([1, 2, 3, 4].map(() => ensureVenv(o)));
    assert.equal(new Set(pythons).size, 1);
    assert.equal(lines.filter((l) => l.startsWith('scrapydd: creating virtualenv')).length, 1);
    assert.deepEqual(await readdir(o.cacheDir), [pythons[0]!.split('/').at(-3)], 'one venv and no lock left');
  });

  it('fails with pip\'s error on a missing requirement and leaves nothing behind', async () => {
    const o = opts({ extraRequirements: ['scrapydd-fixture-missing'] });
    await assert.rejects(ensureVenv(o), /pip install failed: ERROR: No matching distribution found for scrapydd-fixture-missing/);
    assert.deepEqual(await readdir(o.cacheDir), []);
  });

  it('refuses requirements that pip would take for options', async () => {
    await assert.rejects(ensureVenv(opts({ extraRequirements: ['--index-url=http://evil.example/'] })), /options are not allowed/);
  });
});

describe('acquireLock', () => {
  it('waits for a live holder', async () => {
    const path = join(root, 'live.lock');
    const first = await acquireLock(path);
    let second = false;
    const waiting = acquireLock(path).then((lock) => {
      second = true;
      return lock;
    });
    await new Promise((ok) => setTimeout(ok, 300)); // several polls: it must still wait
    assert.equal(second, false);
    await first.release();
    await (await waiting).release();
  });

  it('takes over a lock whose holder is dead', async () => {
    const dead = spawn('true');
    await once(dead, 'exit');
    const path = join(root, 'stale.lock');
    await writeFile(path, JSON.stringify({ pid: dead.pid, host: (await import('node:os')).hostname(), token: 'old' }));
    const lock = await Promise.race([
      acquireLock(path),
      new Promise<never>((_, fail) => setTimeout(() => fail(new Error('stale lock not taken over')), 5000)),
    ]);
    await lock.release();
    await assert.rejects(stat(path), /ENOENT/);
  });
});
