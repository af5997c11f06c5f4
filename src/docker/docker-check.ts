/** The start-up check of a process that runs containers: the daemon answers and has the runner image. */
import { ConfigError } from '../config/config-error.js';
import type { DockerClient } from './docker-client.js';
import { DockerImageMissing, DockerUnreachable } from './docker-errors.js';

/** Start-up check: the daemon answers and has the image, else a configuration error saying which. */
export async function checkDockerHost(client: DockerClient, image: string, section: 'server' | 'agent'): Promise<void> {
  try {
    await client.ping();
    await client.inspectImage(image);
  } catch (err) {
    if (err instanceof DockerUnreachable) throw new ConfigError(`docker_host: ${err.message}`, { key: 'docker_host', section, cause: err });
    if (err instanceof DockerImageMissing) throw new ConfigError(`runner_docker_image: ${err.message}`, { key: 'runner_docker_image', section, cause: err });
    throw err;
  }
}
