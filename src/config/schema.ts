/** The table of every scrapydd.conf key per section: type, default, description, origin. */
import os from 'node:os';
import { DEFAULT_DOCKER_HOST } from '../docker/docker-host.js';
import { parseDockerHost, parseMailbox, parseTimezone } from './values.js';

export type SectionName = 'server' | 'agent';

export type KeyType = 'string' | 'int' | 'bool' | 'port' | 'enum' | 'duration-seconds' | 'size-bytes' | 'list';

export interface KeySpec {
  readonly type: KeyType;
  /** Default in config-file syntax; undefined means unset (optional, or derived in load.ts). */
  readonly default: string | undefined;
  readonly description: string;
  /** `seed`: documented by the original scrapydd; `new`: added by this implementation. */
  readonly origin: 'seed' | 'new';
  /** enum: the allowed values. */
  readonly values?: readonly string[];
  /** int: the smallest allowed value. */
  readonly min?: number;
  /** duration-seconds: whether 0 is allowed (otherwise it must be > 0). */
  readonly allowZero?: boolean;
  /** string: a filesystem path, `~/` expanded and resolved against the working directory. */
  readonly path?: boolean;
  /** string: extra check; returns the normalized value or throws InvalidValue. */
  readonly validate?: (value: string) => string;
  /** A password: its value is never kept in the configuration overview (ServerConfig.settings) nor shown. */
  readonly secret?: boolean;
}

export const RUNNER_TYPES = ['venv', 'docker'] as const;
export const SMTP_TLS_MODES = ['starttls', 'tls', 'none'] as const;
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;

const runnerType: KeySpec = {
  type: 'enum',
  values: RUNNER_TYPES,
  default: 'venv',
  origin: 'seed',
  description: 'How spiders run: venv (a virtualenv per package) or docker (a container).',
};
const runnerPython: KeySpec = {
  type: 'string',
  default: '/usr/bin/python3',
  origin: 'new',
  description: 'Python interpreter the venv runner builds virtualenvs from (--system-site-packages).',
};
const runnerDockerImage: KeySpec = {
  type: 'string',
  default: 'kevenli/scrpaydd', // sic: the original documentation's spelling
  origin: 'seed',
  description: 'Container image for the docker runner; never pulled at run time.',
};
const dockerHost: KeySpec = {
  type: 'string',
  default: DEFAULT_DOCKER_HOST, // DOCKER_HOST, when set, comes before it (see dockerHostSettings)
  validate: parseDockerHost,
  origin: 'new',
  description: 'The Docker Engine API socket for the docker runner (unix:///path); DOCKER_HOST when unset.',
};
const runnerDockerNetwork: KeySpec = {
  type: 'string',
  default: undefined,
  origin: 'new',
  description: "Network of the docker runner's crawl and pip containers (bridge, host, none, a network name); unset: the daemon's default.",
};
const logFormat: KeySpec = {
  type: 'enum',
  values: LOG_FORMATS,
  default: 'auto',
  origin: 'new',
  description: 'Log output: json, pretty, or auto (pretty when stderr is a terminal, else json).',
};
const debug: KeySpec = {
  type: 'bool',
  default: 'false',
  origin: 'seed',
  description: 'Debug mode: log level DEBUG.',
};

export const SERVER_KEYS: Readonly<Record<string, KeySpec>> = {
  bind_address: { type: 'string', default: '0.0.0.0', origin: 'seed', description: 'Address the server listens on.' },
  bind_port: { type: 'port', default: '6800', origin: 'seed', description: 'Port for gRPC, REST, the scrapyd API and the web UI.' },
  client_validation: {
    type: 'bool',
    default: 'false',
    origin: 'seed',
    description: 'On the HTTPS port, require and verify client certificates.',
  },
  database_url: {
    type: 'string',
    default: 'sqlite:///database.db',
    origin: 'seed',
    description: 'Database: sqlite:///relative.db, sqlite:////abs.db, sqlite:///:memory:, postgresql://...',
  },
  debug,
  enable_authentication: {
    type: 'bool',
    default: 'true',
    origin: 'seed',
    description: 'Require users to log in; agents to authenticate.',
  },
  https_port: {
    type: 'port',
    default: undefined,
    origin: 'seed',
    description: 'Also listen with TLS on this port (keys/<server_name>.crt and .key); unset = no TLS.',
  },
  runner_type: runnerType,
  runner_docker_image: runnerDockerImage,
  docker_host: dockerHost,
  server_name: {
    type: 'string',
    default: 'localhost',
    origin: 'seed',
    description: "Server's host name; names the TLS certificate files keys/<server_name>.crt|.key.",
  },
  data_dir: {
    type: 'string',
    default: 'data',
    path: true,
    origin: 'new',
    description: 'Directory for blobs (eggs, logs, items); relative to the working directory.',
  },
  runner_python: runnerPython,
  max_upload_size: {
    type: 'size-bytes',
    default: '100MiB',
    origin: 'new',
    description: 'Largest accepted upload (egg): bytes, or with a unit such as 10MB or 512KiB.',
  },
  spider_list_timeout: {
    type: 'duration-seconds',
    default: '60',
    origin: 'new',
    description: 'Time limit for listing the spiders of an uploaded package.',
  },
  node_name: {
    type: 'string',
    default: os.hostname(),
    origin: 'new',
    description: "This server's name, reported as node_name by the scrapyd API (default: the host name).",
  },
  log_format: logFormat,
  timezone: {
    type: 'string',
    default: 'UTC',
    validate: parseTimezone,
    origin: 'new',
    description: 'Default IANA time zone for cron triggers.',
  },
  heartbeat_interval: {
    type: 'duration-seconds',
    default: '3',
    origin: 'new',
    description: 'How often agents send heartbeats on their session stream.',
  },
  node_timeout: {
    type: 'duration-seconds',
    default: '15',
    origin: 'new',
    description: 'An agent silent this long is offline and its running jobs are LOST.',
  },
  node_key_ttl: {
    type: 'duration-seconds',
    default: '600',
    origin: 'new',
    description: 'Lifetime of a node registration key (single use).',
  },
  web_session_ttl: {
    type: 'duration-seconds',
    default: '43200',
    origin: 'new',
    description: 'A web UI sign-in unused this long ends (idle expiry).',
  },
  web_session_max_age: {
    type: 'duration-seconds',
    default: '604800',
    origin: 'new',
    description: 'A web UI sign-in ends this long after it started, however busy (absolute expiry).',
  },
  cancel_grace: {
    type: 'duration-seconds',
    default: '30',
    allowZero: true,
    origin: 'new',
    description: 'Time between SIGINT and SIGKILL when a job is cancelled or times out.',
  },
  misfire_grace: {
    type: 'duration-seconds',
    default: '60',
    allowZero: true,
    origin: 'new',
    description: 'A cron trigger fire missed by at most this long still runs.',
  },
  jobs_to_keep: {
    type: 'int',
    default: '100',
    min: 1,
    origin: 'new',
    description: 'Finished jobs kept per spider (with their logs and items); older ones are deleted.',
  },
  webhook_allow_private: {
    type: 'bool',
    default: 'false',
    origin: 'new',
    description: 'Let webhooks reach loopback, private, link-local and other non-public addresses.',
  },
  webhook_max_attempts: {
    type: 'int',
    default: '8',
    min: 1,
    origin: 'new',
    description: "Requests per item before a webhook delivery gives up (FAILED) and the webhook's next delivery starts.",
  },
  webhook_timeout: {
    type: 'duration-seconds',
    default: '30',
    origin: 'new',
    description: 'Time limit of one webhook request; a request past it is retried.',
  },
  smtp_server: {
    type: 'string',
    default: undefined,
    origin: 'seed',
    description: 'SMTP server host for failure e-mail; required when job_fail_send_mail = true.',
  },
  smtp_port: {
    type: 'port',
    default: undefined, // derived: 465 with smtp_tls = tls, else 25
    origin: 'seed',
    description: 'SMTP server port (default 25; 465 with smtp_tls = tls).',
  },
  smtp_user: {
    type: 'string',
    default: undefined,
    origin: 'seed',
    description: 'SMTP user name; with smtp_passwd, the server logs in (AUTH) before sending.',
  },
  smtp_passwd: {
    type: 'string',
    default: undefined,
    secret: true,
    origin: 'seed',
    description: 'SMTP password (never logged; held as a Secret in the loaded config).',
  },
  smtp_from: {
    type: 'string',
    default: undefined, // derived: scrapydd@<server_name>
    validate: parseMailbox,
    origin: 'seed',
    description: 'Sender address of failure e-mail (default scrapydd@<server_name>).',
  },
  smtp_tls: {
    type: 'enum',
    values: SMTP_TLS_MODES,
    default: 'starttls',
    origin: 'new',
    description: 'starttls: upgrade when the server offers STARTTLS; tls: implicit TLS (port 465); none: never upgrade.',
  },
  job_fail_send_mail: {
    type: 'bool',
    default: 'false',
    origin: 'seed',
    description: 'Send an e-mail to job_fail_mail_receiver when a job fails (FAILED or LOST, no retry left).',
  },
  job_fail_mail_receiver: {
    type: 'list',
    default: '',
    origin: 'seed',
    description: 'Comma-separated addresses that receive failure e-mail.',
  },
};

export const AGENT_KEYS: Readonly<Record<string, KeySpec>> = {
  debug,
  server: {
    type: 'list',
    default: 'localhost',
    origin: 'seed',
    description: 'Server host to connect to; a comma-separated list of host[:port] for several servers.',
  },
  server_port: {
    type: 'port',
    default: '6800',
    origin: 'seed',
    description: 'Server port, for server entries without a port.',
  },
  slots: { type: 'int', default: '1', min: 1, origin: 'seed', description: 'How many jobs the agent runs at once.' },
  request_timeout: {
    type: 'duration-seconds',
    default: '60',
    origin: 'seed',
    description: 'Time limit for requests to the server.',
  },
  tags: {
    type: 'list',
    default: '',
    origin: 'new',
    description: 'Comma-separated tags; a spider with a tag runs only on agents that have it.',
  },
  runner_type: runnerType,
  runner_python: runnerPython,
  runner_docker_image: runnerDockerImage,
  docker_host: dockerHost,
  runner_docker_network: runnerDockerNetwork,
  data_dir: {
    type: 'string',
    default: 'data',
    path: true,
    origin: 'new',
    description: 'Directory for virtualenvs, eggs and job files; relative to the working directory.',
  },
  ca_file: {
    type: 'string',
    default: undefined,
    path: true,
    origin: 'new',
    description: 'CA certificate (PEM) to verify the server with; unset = system CAs.',
  },
  cert_file: {
    type: 'string',
    default: undefined,
    path: true,
    origin: 'new',
    description: 'Client certificate (PEM) for mTLS.',
  },
  key_file: {
    type: 'string',
    default: undefined,
    path: true,
    origin: 'new',
    description: 'Private key (PEM) of the client certificate.',
  },
  node_file: {
    type: 'string',
    default: undefined, // derived: <data_dir>/node.json
    path: true,
    origin: 'new',
    description: 'Where a permanent node keeps its id and credentials (default <data_dir>/node.json).',
  },
  log_format: logFormat,
};

export const SCHEMA: Readonly<Record<SectionName, Readonly<Record<string, KeySpec>>>> = {
  server: SERVER_KEYS,
  agent: AGENT_KEYS,
};

export const SECTIONS: readonly SectionName[] = ['server', 'agent'];

/** The environment variable that overrides `key` in every section that has it. */
export function envVarName(key: string): string {
  return `SCRAPYDD_${key.toUpperCase()}`;
}
