/**
 * JSON shapes of the REST API's resources as the UI uses them (proto3 JSON:
 * lowerCamelCase, int64 as strings, timestamps as RFC 3339 strings, default
 * values left out — hence the optional fields). Add types here as pages
 * need them; the protos in proto/scrapydd/v1 are the source of truth.
 */

export interface User {
  name: string; // users/{user}
  admin?: boolean;
  disabled?: boolean;
  createTime?: string;
}

export interface ApiKey {
  name: string; // users/{user}/apiKeys/{id}
  displayName?: string;
  /** Only in CreateApiKey's answer. */
  secret?: string;
  createTime?: string;
  lastUseTime?: string;
}

export interface ListApiKeysResponse {
  apiKeys?: ApiKey[];
  nextPageToken?: string;
}

/** GET /ui/api/session */
export interface SessionInfo {
  user: { name: string; admin: boolean };
  authenticationEnabled: boolean;
  csrfToken: string;
  expireTime?: string;
}

/** A paginated list answer: the items under their plural name plus nextPageToken. */
export interface Page<T> {
  items: T[];
  nextPageToken: string;
}

export type JobState = 'PENDING' | 'RUNNING' | 'CANCELLING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'LOST';

/** Where a finished job's items are in being sent to its spider's webhook. */
export interface WebhookDelivery {
  state?: 'PENDING' | 'DELIVERING' | 'DONE' | 'FAILED' | 'CANCELLED';
  deliveredItems?: string;
  totalItems?: string;
  attempts?: number;
  lastError?: string;
  payloadUrl?: string;
  nextAttemptTime?: string;
}

export interface Job {
  name: string; // projects/{project}/spiders/{spider}/jobs/{job}
  state?: JobState;
  version?: string;
  args?: Record<string, string>;
  scrapySettings?: Record<string, string>;
  priority?: number;
  node?: string;
  trigger?: string;
  attempt?: number;
  warning?: boolean;
  exitCode?: number;
  itemCount?: string;
  closeReason?: string;
  pid?: number;
  logUrl?: string;
  itemsUrl?: string;
  createTime?: string;
  startTime?: string;
  endTime?: string;
  statsJson?: string;
  logLineCount?: string;
  retryOf?: string;
  webhookDelivery?: WebhookDelivery;
}

export interface ListJobsResponse {
  jobs?: Job[];
  nextPageToken?: string;
}

/** GET /v1/projects/-/spiders/-/jobs:stats */
export interface JobStats {
  computeTime?: string;
  pendingJobs?: string;
  runningJobs?: string;
  succeededJobs?: string;
  failedJobs?: string;
  cancelledJobs?: string;
  lostJobs?: string;
  /** Only for admins. */
  onlineNodes?: number;
  hours?: { startTime: string; startedJobs?: string; items?: string }[];
  spiders?: { spider: string; lastJob?: Job }[];
}
