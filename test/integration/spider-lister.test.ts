/**
 * Integration tests for the spider lister: the real Python runner against real eggs.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { access, chmod, copyFile } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { listSpiders, runnerScriptPath } from '../../src/runner/spider-lister.js';
import { FailedPrecondition, InvalidArgument } from '../../src/errors/domain-error.js';
import { TEST_PYTHON, buildEgg, writeTempFile } from '../support/eggs.js';
import { SPIDER, craftedEgg, rejectsWith } from '../support/spider-listing.js';

const OPTS = { python: TEST_PYTHON, timeoutMs: 60_000 };

describe('listSpiders', () => {
  it('lists the quotes spiders, sorted', async () => {
    assert.deepEqual(await listSpiders(await buildEgg('quotes'), OPTS), ['alpha', 'beta', 'gamma']);
  });

  it('reads entry_points.txt from the zip when the file is not named *.egg', async () => {
    const upload = await writeTempFile('', 'upload.bin');
    await copyFile(await buildEgg('quotes'), upload);
    assert.deepEqual(await listSpiders(upload, OPTS), ['alpha', 'beta', 'gamma']);
  });

  it('keeps stdout clean when project code prints at import', async () => {
    const egg = await craftedEgg(
      'import os, subprocess\nprint("settings says hi")\nos.write(1, b"raw fd write\\n")\n' +
        'subprocess.run(["echo", "child process output"])',
      `print("spider says hi")\n${SPIDER}`,
    );
    assert.deepEqual(await listSpiders(egg, OPTS), ['one']);
  });

  it('reports a spider module failing to import', async () => {
    await rejectsWith(
      listSpiders(await buildEgg('broken_import'), OPTS),
      InvalidArgument,
      'SPIDER_IMPORT_FAILED',
      "ModuleNotFoundError: No module named 'scrapydd_fixture_missing_dependency'",
    );
  });

  it('reports a spider module with a syntax error', async () => {
    await rejectsWith(
      listSpiders(await craftedEgg('', `${SPIDER}    def broken(:\n`), OPTS),
      InvalidArgument,
      'SPIDER_IMPORT_FAILED',
      /^SyntaxError: /,
    );
  });

  it('reports settings that raise', async () => {
    await rejectsWith(
      listSpiders(await buildEgg('bad_settings'), OPTS),
      InvalidArgument,
      'SETTINGS_IMPORT_FAILED',
      'ZeroDivisionError: division by zero',
    );
  });

  it('reports settings calling sys.exit()', async () => {
    await rejectsWith(
      listSpiders(await craftedEgg('import sys\nsys.exit(7)', SPIDER), OPTS),
      InvalidArgument,
      'SETTINGS_IMPORT_FAILED',
      'SystemExit: 7',
    );
  });

  it('reports an egg without the scrapy entry point', async () => {
    await rejectsWith(
      listSpiders(await buildEgg('no_entry_point'), OPTS),
      InvalidArgument,
      'NO_SCRAPY_ENTRY_POINT',
      'egg has no scrapy entry point (EGG-INFO/entry_points.txt needs [scrapy] settings = <module>)',
    );
  });

  it('reports a runner killed by project code (os._exit) as RUNNER_FAILED', async () => {
    await rejectsWith(
      listSpiders(await craftedEgg('import os\nos._exit(1)', SPIDER), OPTS),
      InvalidArgument,
      'RUNNER_FAILED',
      'listing spiders failed: the runner exited with code 1 without a valid result',
    );
  });

  it('times out, killing the runner and what it spawned', async () => {
    const started = Date.now();
    await rejectsWith(
      listSpiders(await buildEgg('slow_import'), { ...OPTS, timeoutMs: 1500 }),
      InvalidArgument,
      'SPIDER_LIST_TIMEOUT',
      'listing spiders timed out after 1.5 s',
    );
    const elapsed = Date.now() - started;
    // The module sleeps 60 s and its `sleep 60` child holds stderr: only a group kill is this fast.
    assert.ok(elapsed >= 1500 && elapsed < 15_000, `took ${elapsed} ms`);
  });

  it('reports a python that cannot be started', async () => {
    await rejectsWith(
      listSpiders(await buildEgg('quotes'), { ...OPTS, python: '/nonexistent/python3' }),
      FailedPrecondition,
      'RUNNER_UNAVAILABLE',
      /^runner_python "\/nonexistent\/python3" cannot be run: .*ENOENT/,
    );
  });

  it('reports a python without scrapy as a server problem, not an egg problem', async () => {
    // -S skips site-packages, where Debian's python3-scrapy lives.
    const wrapper = await writeTempFile(`#!/bin/sh\nexec ${TEST_PYTHON} -S "$@"\n`, 'python-no-site');
    await chmod(wrapper, 0o755);
    await rejectsWith(
      listSpiders(await buildEgg('quotes'), { ...OPTS, python: wrapper }),
      FailedPrecondition,
      'SCRAPY_NOT_INSTALLED',
      `runner_python ${JSON.stringify(wrapper)} cannot import scrapy: ModuleNotFoundError: No module named 'scrapy'`,
    );
  });

  it('reports a missing runner script', async () => {
    await rejectsWith(
      listSpiders(await buildEgg('quotes'), { ...OPTS, runnerPath: '/nonexistent/scrapydd_runner.py' }),
      FailedPrecondition,
      'RUNNER_UNAVAILABLE',
      'the scrapydd runner script is missing from this installation',
    );
  });

  it('locates the runner next to the module', async () => {
    const path = runnerScriptPath();
    assert.ok(isAbsolute(path), path);
    assert.match(path, /\/src\/runner\/python\/scrapydd_runner\.py$/);
    await access(path);
  });
});
