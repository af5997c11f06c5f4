/** The typed, validated configuration the rest of the code reads (never raw strings). */
import type { DatabaseUrl } from './database-url.js';
import type { HostPort } from './values.js';
import type { Secret } from './secret.js';

export type RunnerType = 'venv' | 'docker';
/** `auto` in the file is resolved at load time from whether stderr is a terminal. */
export type LogFormat = 'json' | 'pretty';

/** smtp_tls: `starttls` upgrades when offered, `tls` is implicit TLS (port 465), `none` never upgrades. */
export type SmtpTls = 'starttls' | 'tls' | 'none';

export interface SmtpConfig {
  readonly host: string;
  readonly port: number;
  readonly tls: SmtpTls;
  /** smtp_user and smtp_passwd, both set: log in before sending. */
  readonly auth?: { readonly user: string; readonly password: Secret };
  /** smtp_from: an address, or `Name <address>`. */
  readonly from: string;
}

/** job_fail_send_mail = true, with where and how to send. */
export interface FailureMailConfig {
  readonly smtp: SmtpConfig;
  /** job_fail_mail_receiver: at least one address. */
  readonly receivers: readonly string[];
}

/**
 * One [server] key as configured, for the configuration overview (the admin's
 * server settings page): its text, or unset (the default applies). A secret
 * key's value is never kept here, only whether it is set.
 */
export interface ConfiguredSetting {
  readonly key: string;
  /** The configured text, trimmed; undefined when unset or secret. */
  readonly value: string | undefined;
  /** Set by a file, variable or flag (not the default). */
  readonly isSet: boolean;
  readonly secret: boolean;
  /** A config file path, `environment variable SCRAPYDD_X`, `flag --x`, or `default`. */
  readonly source: string;
}

export interface ServerConfig {
  readonly bindAddress: string;
  readonly bindPort: number;
  readonly clientValidation: boolean;
  /** As configured; use describeDatabaseUrl() before logging it. */
  readonly databaseUrl: string;
  /** database_url parsed; a sqlite path is absolute (or `:memory:`). */
  readonly database: DatabaseUrl;
  readonly debug: boolean;
  readonly enableAuthentication: boolean;
  /** Unset: no TLS listener. */
  readonly httpsPort?: number;
  readonly runnerType: RunnerType;
  readonly runnerDockerImage: string;
  /** docker_host (or DOCKER_HOST): unix:///path or /path. */
  readonly dockerHost: string;
  readonly serverName: string;
  /** Absolute. */
  readonly dataDir: string;
  readonly runnerPython: string;
  readonly maxUploadSizeBytes: number;
  readonly spiderListTimeoutSeconds: number;
  readonly nodeName: string;
  readonly logFormat: LogFormat;
  /** Canonical IANA name. */
  readonly timezone: string;
  readonly heartbeatIntervalSeconds: number;
  readonly nodeTimeoutSeconds: number;
  readonly nodeKeyTtlSeconds: number;
  /** Web UI sessions: idle expiry (web_session_ttl) and absolute expiry (web_session_max_age). */
  readonly webSessionTtlSeconds: number;
  readonly webSessionMaxAgeSeconds: number;
  readonly cancelGraceSeconds: number;
  readonly misfireGraceSeconds: number;
  readonly jobsToKeep: number;
  readonly webhookAllowPrivate: boolean;
  readonly webhookMaxAttempts: number;
  readonly webhookTimeoutSeconds: number;
  /** Unset when job_fail_send_mail is false. */
  readonly failureMail?: FailureMailConfig;
  /** Every [server] key of the schema, in schema order, as configured (secrets without their value). */
  readonly settings: readonly ConfiguredSetting[];
}

export interface AgentConfig {
  readonly debug: boolean;
  /** From `server` (host[:port] list) and `server_port`; never empty. */
  readonly servers: readonly HostPort[];
  readonly serverPort: number;
  readonly slots: number;
  readonly requestTimeoutSeconds: number;
  readonly tags: readonly string[];
  readonly runnerType: RunnerType;
  readonly runnerPython: string;
  readonly runnerDockerImage: string;
  /** docker_host (or DOCKER_HOST): unix:///path or /path. */
  readonly dockerHost: string;
  /** Unset: the daemon's default network. */
  readonly runnerDockerNetwork?: string;
  /** Absolute. */
  readonly dataDir: string;
  /** Absolute when set. */
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  /** Absolute; default `<dataDir>/node.json`. */
  readonly nodeFile: string;
  readonly logFormat: LogFormat;
}

export interface Config {
  readonly server: ServerConfig;
  readonly agent: AgentConfig;
  /** Absolute paths of the config files read, in the order applied. */
  readonly sources: readonly string[];
}

export type { DatabaseUrl, HostPort, Secret };
