/** Opens what the domain runs on (database, ids, blob store) from the server configuration. */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { describeDatabaseUrl } from '../config/database-url.js';
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
      spiderListTimeoutMs: config.spiderListTimeoutSeconds * 1000,
      maxUploadSizeBytes: config.maxUploadSizeBytes,
      nodeKeyTtlSeconds: config.nodeKeyTtlSeconds,
      tmpDir: join(config.dataDir, 'tmp'),
      cancelGraceSeconds: config.cancelGraceSeconds,
      jobsToKeep: config.jobsToKeep,
    },
  };
  return {
    deps,
    close: async () => {
      await lease.release();
      await db.close();
    },
  };
}
