/**
 * The docker runner (runner_type = docker): every crawl in its own container of
 * runner_docker_image, requirements installed once per image and egg, containers labelled
 * with this agent so the ones an earlier run left behind are removed at start.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { DockerClient } from '../../../docker/docker-client.js';
import { checkDockerHost } from '../../../docker/docker-check.js';
import { LABELS } from '../../../docker/container-sandbox.js';
import { runnerScriptPath } from '../../../runner/spider-lister.js';
import type { AgentRunner } from '../../runner-port.js';
import { readLines } from '../line-journal.js';
import { ensureContainerRequirements } from './container-requirements.js';
import { startDockerJob } from './docker-job.js';

export interface DockerRunnerOptions {
  client: DockerClient;
  /** runner_docker_image */
  image: string;
  /** runner_docker_network; absent: the daemon's default. */
  network?: string;
  dataDir: string;
  /** The node's name (nodes/{id}), or undefined for a temporary node. */
  node: string | undefined;
  logger: Logger;
}

/** The owner label of an agent's containers: one agent per data_dir and host (the data_dir lock). */
export function agentOwner(dataDir: string): string {
  return `agent@${hostname()}:${dataDir}`;
}

export function createDockerRunner(o: DockerRunnerOptions): AgentRunner {
  const owner = agentOwner(o.dataDir);
  const labels = { [LABELS.owner]: owner, [LABELS.node]: o.node ?? 'temporary' };
  const runnerScript = runnerScriptPath();
  return {
    async open() {
      await checkDockerHost(o.client, o.image, 'agent');
      const leftovers = await o.client.listContainers({ [LABELS.owner]: owner });
      for (const container of leftovers) await o.client.removeContainer(container.Id);
      if (leftovers.length > 0) o.logger.warn({ containers: leftovers.length }, 'removed containers an earlier run of this agent left behind');
      o.logger.info({ dockerHost: o.client.host, image: o.image }, 'docker runner ready');
    },
    async prepare(request) {
      // Resolved for every job: the image may have been rebuilt under the same name since.
      const imageId = (await o.client.inspectImage(o.image)).Id;
      const sitePackages = await ensureContainerRequirements({
        client: o.client,
        imageId,
        cacheDir: join(o.dataDir, 'container-packages'),
        eggPath: request.eggPath,
        eggSha256: request.eggSha256,
        extraRequirements: request.extraRequirements,
        network: o.network,
            owner,
        log: (line) => request.log(line),
      });
      return {
        description: `${o.image} (${imageId.slice(0, 19)})`,
        start: (spec, events) =>
          startDockerJob(spec, events, {
            client: o.client, image: imageId, runnerScript, sitePackages, network: o.network, labels, logger: o.logger,
          }),
      };
    },
    readLines,
    // open() removed every container of an earlier run; a pid of one means nothing here.
    stopLeftover: async () => {},
  };
}
