/** Opens what the domain runs on (database, ids, blob store) from the server configuration. */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { describeDatabaseUrl } from '../config/database-url.js';
import { checkDockerHost } from '../docker/docker-check.js';
import { DockerClient } from '../docker/docker-client.js';
import type { ServerConfig } from '../config/load.js';
import { NO_EVENTS, type Deps } from '../domain/deps.js';
import { SnowflakeGenerator } from '../ids/snowflake.js';
import { FsBlobStore } from '../storage/blob-store.js';
import { openDatabase } from '../storage/database.js';
import { leaseWorkerId } from '../storage/worker-id.js';

export interface AppContext {
  readonly deps: Deps;
  close(): Promise<void>;
}

export async function openAppContext(config: ServerConfig, logger: Logger): Promise<AppContext> {
  logger.debug({ database: describeDatabaseUrl(config.database) }, 'opening database');
  const db = await openDatabase(config.database);
  const lease = await leaseWorkerId(db);
  const deps: Deps = {
    db,
    events: NO_EVENTS,
    ids: new SnowflakeGenerator(lease.workerId),
    blobs: new FsBlobStore(join(config.dataDir, 'blobs')),
    logger,
    settings: {
      enableAuthentication: config.enableAuthentication,
      runnerPython: config.runnerPython,
      runnerContainer: config.runnerType === 'docker' ? { dockerHost: config.dockerHost, image: config.runnerDockerImage } : undefined,
      spiderListTimeoutMs: config.spiderListTimeoutSeconds * 1000,
      maxUploadSizeBytes: config.maxUploadSizeBytes,
      nodeKeyTtlSeconds: config.nodeKeyTtlSeconds,
      webSessions: { idleSeconds: config.webSessionTtlSeconds, maxAgeSeconds: config.webSessionMaxAgeSeconds },
      tmpDir: join(config.dataDir, 'tmp'),
      cancelGraceSeconds: config.cancelGraceSeconds,
      jobsToKeep: config.jobsToKeep,
      webhooks: {
        allowPrivate: config.webhookAllowPrivate,
        maxAttempts: config.webhookMaxAttempts,
        timeoutMs: config.webhookTimeoutSeconds * 1000,
      },
      timeZone: config.timezone,
    },
  };
  if (config.runnerType === 'docker') void warnIfNoDockerRunner(config, logger);
  return {
    deps,
    close: async () => {
      await lease.release();
      await db.close();
    },
  };
}

/** Uploads list their spiders in containers: say at start-up, not at the first upload, when that cannot work. */
async function warnIfNoDockerRunner(config: ServerConfig, logger: Logger): Promise<void> {
  const client = new DockerClient(config.dockerHost);
  try {
    await checkDockerHost(client, config.runnerDockerImage, 'server');
    logger.info({ dockerHost: config.dockerHost, image: config.runnerDockerImage }, 'docker runner ready for spider listings');
  } catch (err) {
    logger.warn({ err: (err as Error).message }, 'uploads will fail until the docker runner works');
  } finally {
    client.close();
  }
}
