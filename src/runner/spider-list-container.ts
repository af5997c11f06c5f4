/**
 * Spider listing in a container (runner_type = docker): the runner script and the egg mounted
 * read-only into a sandboxed container of the runner image, no network, removed afterwards.
 */
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { LABELS, readOnly, sandboxedContainer } from '../docker/container-sandbox.js';
import { DockerClient } from '../docker/docker-client.js';
import { DockerImageMissing, DockerUnreachable } from '../docker/docker-errors.js';
import { signalOfStatus } from '../docker/exit-status.js';
import { runContainer } from '../docker/run-container.js';
import { FailedPrecondition } from '../errors/domain-error.js';
import type { ListingRun } from './spider-lister.js';

export interface ContainerListing {
  /** docker_host */
  dockerHost: string;
  /** runner_docker_image */
  image: string;
}

const RUNNER_MOUNT = '/scrapydd/runner/scrapydd_runner.py';
const EGG_MOUNT = '/scrapydd/project.egg';

export async function listInContainer(eggPath: string, runnerPath: string, listing: ContainerListing, timeoutMs: number): Promise<ListingRun> {
  const client = new DockerClient(listing.dockerHost);
  try {
    const run = await runContainer(
      client,
      sandboxedContainer({
        image: listing.image,
        command: ['python3', RUNNER_MOUNT, 'list', '--egg', EGG_MOUNT],
        env: { HOME: '/tmp', TMPDIR: '/tmp', LANG: 'C.UTF-8', PYTHONIOENCODING: 'utf-8', PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' },
        mounts: [readOnly(runnerPath, RUNNER_MOUNT), readOnly(resolve(eggPath), EGG_MOUNT)],
        labels: { [LABELS.owner]: `server@${hostname()}`, [LABELS.role]: 'list' },
        stdin: false,
        // Listing imports project code and needs nothing from the network.
        network: 'none',
      }),
      { timeoutMs },
    );
    const signal = signalOfStatus(run.status) ?? undefined;
    return { exitCode: signal ? undefined : run.status, signal, timedOut: run.timedOut, stdout: run.stdout, stderrTail: run.stderrTail };
  } catch (err) {
    // Details (socket path, daemon messages) are for operators, in the cause.
    if (err instanceof DockerUnreachable) {
      throw new FailedPrecondition('cannot list spiders: the Docker daemon of the docker runner is not reachable', { reason: 'RUNNER_UNAVAILABLE', cause: err });
    }
    if (err instanceof DockerImageMissing) {
      throw new FailedPrecondition(`cannot list spiders: runner image '${listing.image}' is not on the Docker host (pull it beforehand)`, {
        reason: 'RUNNER_UNAVAILABLE',
        cause: err,
      });
    }
    throw new FailedPrecondition('cannot list spiders: the docker runner failed', { reason: 'RUNNER_UNAVAILABLE', cause: err });
  } finally {
    client.close();
  }
}
