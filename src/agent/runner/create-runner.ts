/** The agent's runner for its runner_type: venv, or docker through the Docker Engine API at docker_host. */
import type { Logger } from 'pino';
import type { AgentConfig } from '../../config/types.js';
import { DockerClient } from '../../docker/docker-client.js';
import type { AgentRunner } from '../runner-port.js';
import { createDockerRunner } from './docker/docker-runner.js';
import { createVenvRunner } from './venv-runner.js';

export interface RunnerContext {
  /** The permanent node this agent is (nodes/{id}), undefined for a temporary node. */
  node: string | undefined;
  logger: Logger;
}

export type RunnerFactory = (context: RunnerContext) => AgentRunner;

export function createAgentRunner(config: AgentConfig, context: RunnerContext): AgentRunner {
  if (config.runnerType === 'docker') {
    return createDockerRunner({
      client: new DockerClient(config.dockerHost),
      image: config.runnerDockerImage,
      network: config.runnerDockerNetwork,
      dataDir: config.dataDir,
      node: context.node,
      logger: context.logger,
    });
  }
  return createVenvRunner({ python: config.runnerPython, dataDir: config.dataDir, logger: context.logger });
}
