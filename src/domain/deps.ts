/** What the domain needs from the outside world, passed in explicitly. */
import type { Logger } from 'pino';
import type { SnowflakeGenerator } from '../ids/snowflake.js';
import type { BlobStore } from '../storage/blob-store.js';
import type { Db } from '../storage/database.js';

export interface DomainSettings {
  readonly enableAuthentication: boolean;
  readonly runnerPython: string;
  readonly spiderListTimeoutMs: number;
  readonly maxUploadSizeBytes: number;
  /** Where uploads are staged before they are checked and stored. */
  readonly tmpDir: string;
}

export interface Deps {
  readonly db: Db;
  readonly ids: SnowflakeGenerator;
  readonly blobs: BlobStore;
  readonly settings: DomainSettings;
  readonly logger: Logger;
}
