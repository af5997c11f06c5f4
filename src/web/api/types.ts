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

export interface ListUsersResponse {
  users?: User[];
  nextPageToken?: string;
}

export interface Node {
  name: string; // nodes/{id}
  id?: string;
  displayName?: string;
  tags?: string[];
  isOnline?: boolean;
  clientIp?: string;
  temporary?: boolean;
  slots?: number;
  runningJobs?: number;
  agentVersion?: string;
  lastHeartbeatTime?: string;
  createTime?: string;
}

export interface ListNodesResponse {
  nodes?: Node[];
  nextPageToken?: string;
}

export interface NodeKey {
  name: string; // nodeKeys/{id}
  /** Only in CreateNodeKey's answer. */
  secret?: string;
  tags?: string[];
  expireTime?: string;
  createTime?: string;
}

export interface ListNodeKeysResponse {
  nodeKeys?: NodeKey[];
  nextPageToken?: string;
}

/** GET /v1/server (admins). */
export interface ServerInfo {
  version?: string;
  databaseKind?: string;
  startTime?: string;
  currentTime?: string;
  settings?: ServerSetting[];
}

export interface ServerSetting {
  key: string;
  /** Empty when unset or redacted. */
  value?: string;
  defaultValue?: string;
  isDefault?: boolean;
  /** Set, but a secret: the value is never sent. */
  redacted?: boolean;
  source?: string;
  description?: string;
}

export interface Project {
  name: string; // projects/{project}
  owner?: string; // users/{user}
  latestVersion?: string; // projects/{project}/versions/{version}
  versionCount?: number;
  spiderCount?: number;
  createTime?: string;
  updateTime?: string;
}

export interface ListProjectsResponse {
  projects?: Project[];
  nextPageToken?: string;
}

export interface Version {
  name: string; // projects/{project}/versions/{version}
  eggSha256?: string;
  eggSizeBytes?: string;
  settingsModule?: string;
  spiders?: string[];
  creator?: string;
  createTime?: string;
}

export interface ListVersionsResponse {
  versions?: Version[];
  nextPageToken?: string;
}

export interface SpiderSettings {
  tag?: string;
  concurrency?: number;
  timeoutSeconds?: number;
  retries?: number;
  priority?: number;
  args?: Record<string, string>;
  scrapySettings?: Record<string, string>;
  extraRequirements?: string[];
  disabled?: boolean;
}

export interface Spider {
  name: string; // projects/{project}/spiders/{spider}
  latestVersion?: string;
  missing?: boolean;
  settings?: SpiderSettings;
  createTime?: string;
  updateTime?: string;
}

export interface ListSpidersResponse {
  spiders?: Spider[];
  nextPageToken?: string;
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

export type TriggerOutcome = 'QUEUED' | 'MISSED' | 'SPIDER_DISABLED' | 'SPIDER_MISSING' | 'NO_VERSION';

export interface Trigger {
  name: string; // projects/{project}/spiders/{spider}/triggers/{trigger}
  cron: string;
  timeZone?: string;
  enabled?: boolean;
  args?: Record<string, string>;
  scrapySettings?: Record<string, string>;
  nextFireTime?: string;
  createTime?: string;
  updateTime?: string;
  lastFireTime?: string;
  lastOutcome?: TriggerOutcome;
  lastOutcomeReason?: string;
  lastJob?: string;
}

export interface ListTriggersResponse {
  triggers?: Trigger[];
  nextPageToken?: string;
}

/** One fire time of a trigger and what became of it (GET /v1/{trigger}/fires). */
export interface TriggerFire {
  fireTime: string;
  outcome?: TriggerOutcome;
  reason?: string;
  job?: string; // projects/{project}/spiders/{spider}/jobs/{job}; absent when none was queued or it was pruned
  handleTime?: string;
}

export interface ListTriggerFiresResponse {
  fires?: TriggerFire[];
  nextPageToken?: string;
}

export interface Webhook {
  name: string; // projects/{project}/spiders/{spider}/webhook
  payloadUrl: string;
  pendingDeliveries?: string;
  failedDeliveries?: string;
  lastDeliveryTime?: string;
  lastError?: string;
  updateTime?: string;
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
  spiders?: { spider: string; lastJob?: Job; nextFireTime?: string }[];
}
