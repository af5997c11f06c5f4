/** What the domain needs from the outside world, passed in explicitly. */
import type { Logger } from 'pino';
import type { SnowflakeGenerator } from '../ids/snowflake.js';
import type { BlobStore } from '../storage/blob-store.js';
import type { Db } from '../storage/database.js';
import type { WebhookSettings } from './webhooks/webhook-settings.js';
import type { FailureMailPort } from './notifications/failure-mail.js';
import type { WebSessionSettings } from './users/web-session-settings.js';

export interface DomainSettings {
  readonly enableAuthentication: boolean;
  readonly runnerPython: string;
  /** runner_type = docker: uploaded eggs are listed in a container of this image, not with runnerPython. */
  readonly runnerContainer?: { readonly dockerHost: string; readonly image: string };
  readonly spiderListTimeoutMs: number;
  readonly maxUploadSizeBytes: number;
  /** How long a node registration key stays valid (node_key_ttl). */
  readonly nodeKeyTtlSeconds: number;
  /** Where uploads are staged before they are checked and stored. */
  readonly tmpDir: string;
  readonly cancelGraceSeconds: number;
  /** Finished jobs kept per spider. */
  readonly jobsToKeep: number;
  /** webhook_* keys; DEFAULT_WEBHOOK_SETTINGS when unset. */
  readonly webhooks?: WebhookSettings;
  /** web_session_ttl / web_session_max_age; DEFAULT_WEB_SESSION_SETTINGS when unset. */
  readonly webSessions?: WebSessionSettings;
  /** IANA zone of triggers created without one (the `timezone` key). */
  readonly timeZone: string;
}

/** What the domain announces to dispatch (in-process, and to other servers on PostgreSQL). */
export interface DomainEvents {
  /** New PENDING jobs were queued (a run, a retry). */
  jobsQueued(): void;
  /** Slots or concurrency were freed (a job ended, a spider's concurrency rose): waiting jobs may be claimable now. */
  capacityFreed(): void;
  /** A running job must be stopped on whichever server holds its agent. */
  jobCancelRequested(jobId: string): void;
}

export const NO_EVENTS: DomainEvents = { jobsQueued: () => undefined, capacityFreed: () => undefined, jobCancelRequested: () => undefined };

export interface Deps {
  readonly events: DomainEvents;
  readonly db: Db;
  readonly ids: SnowflakeGenerator;
  readonly blobs: BlobStore;
  readonly settings: DomainSettings;
  readonly logger: Logger;
  /** Failure e-mail (job_fail_send_mail); absent: nothing is queued. */
  readonly failureMail?: FailureMailPort;
}
