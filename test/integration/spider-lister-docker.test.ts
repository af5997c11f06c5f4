/**
 * Integration tests for the spider lister with runner_type = docker: the real Python runner
 * in a container of the test runner image (real podman), against real eggs: names, the
 * errors an egg causes, a timeout, a missing image or daemon; no container is left behind.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LABELS } from '../../src/docker/container-sandbox.js';
import { FailedPrecondition, InvalidArgument } from '../../src/errors/domain-error.js';
import { listSpiders, type ContainerListingOptions } from '../../src/runner/spider-lister.js';
import { buildEgg } from '../support/eggs.js';
import { startPodmanService, TEST_RUNNER_IMAGE, type PodmanService } from '../support/podman-service.js';
import { craftedEgg, rejectsWith } from '../support/spider-listing.js';

let podman: PodmanService;
let opts: ContainerListingOptions;

before(async () => {
  podman = await startPodmanService();
  opts = { container: { dockerHost: podman.host, image: TEST_RUNNER_IMAGE }, timeoutMs: 60_000 };
});
after(() => podman?.stop());

/** Listing containers (role=list) that mount `egg`: none may outlive a listing. */
async function containersOf(egg: string): Promise<string[]> {
  const listed = (await podman.client.listContainers({ [LABELS.role]: 'list' })) as { Id: string; Mounts?: { Source?: string }[] }[];
  return listed.filter((c) => c.Mounts?.some((m) => m.Source === egg)).map((c) => c.Id);
}

describe('listSpiders in a container', () => {
  it('lists the quotes spiders, sorted, and removes its container', async () => {
    const egg = await buildEgg('quotes');
    assert.deepEqual(await listSpiders(egg, opts), ['alpha', 'beta', 'gamma']);
    assert.deepEqual(await containersOf(egg), []);
  });

  it('keeps the answer clean when project code prints, and gives it no network', async () => {
    const egg = await craftedEgg(
      'import os, socket\nprint("settings says hi")\nos.write(1, b"raw fd write\\n")\n' +
        'try:\n    socket.create_connection(("1.1.1.1", 53), timeout=2)\n    raise SystemExit("reached the network")\nexcept OSError:\n    pass',
    );
    assert.deepEqual(await listSpiders(egg, opts), ['one']);
  });

  it('reports a spider module failing to import as the egg\'s fault', async () => {
    await rejectsWith(
      listSpiders(await buildEgg('broken_import'), opts),
      InvalidArgument,
      'SPIDER_IMPORT_FAILED',
      "ModuleNotFoundError: No module named 'scrapydd_fixture_missing_dependency'",
    );
  });

  it('reports a runner killed by project code as RUNNER_FAILED', async () => {
    await rejectsWith(
      listSpiders(await craftedEgg('import os\nos._exit(1)'), opts),
      InvalidArgument,
      'RUNNER_FAILED',
      'listing spiders failed: the runner exited with code 1 without a valid result',
    );
  });

  it('times out, killing and removing the container', async () => {
    const egg = await buildEgg('slow_import');
    const started = Date.now();
    await rejectsWith(listSpiders(egg, { ...opts, timeoutMs: 2000 }), InvalidArgument, 'SPIDER_LIST_TIMEOUT', 'listing spiders timed out after 2 s');
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 2000 && elapsed < 15_000, `took ${elapsed} ms`);
    assert.deepEqual(await containersOf(egg), []);
  });

  it('reports a missing image as a server problem, without pulling it', async () => {
    await rejectsWith(
      listSpiders(await buildEgg('quotes'), { ...opts, container: { ...opts.container, image: 'localhost/scrapydd-no-such-image:1' } }),
      FailedPrecondition,
      'RUNNER_UNAVAILABLE',
      "cannot list spiders: runner image 'localhost/scrapydd-no-such-image:1' is not on the Docker host (pull it beforehand)",
    );
  });

  it('reports an unreachable daemon without naming its socket', async () => {
    await rejectsWith(
      listSpiders(await buildEgg('quotes'), { ...opts, container: { ...opts.container, dockerHost: `unix://${join('/nonexistent', 'docker.sock')}` } }),
      FailedPrecondition,
      'RUNNER_UNAVAILABLE',
      'cannot list spiders: the Docker daemon of the docker runner is not reachable',
    );
  });
});
