/** loadConfig: scrapydd.conf files, then --config, then SCRAPYDD_* variables, then flags, validated. */
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from './config-error.js';
import { parseDatabaseUrl } from './database-url.js';
import { SCHEMA, type SectionName } from './schema.js';
import {
  dockerHostSettings,
  envSettings,
  flagSettings,
  lookupPaths,
  readConfigFile,
  type FlagValues,
  type Setting,
  type SettingsLayer,
  type Warn,
} from './sources.js';
import { Secret } from './secret.js';
import type { AgentConfig, Config, ConfiguredSetting, FailureMailConfig, LogFormat, RunnerType, ServerConfig, SmtpTls } from './types.js';
import {
  InvalidValue,
  parseBool,
  parseDurationSeconds,
  parseEnum,
  parseHostPort,
  parseInteger,
  parseList,
  parseMailAddress,
  parsePort,
  parseSizeBytes,
} from './values.js';

export { ConfigError } from './config-error.js';
export type * from './types.js';
export type { FlagValues, Warn } from './sources.js';

export interface LoadConfigOptions {
  /** `--config FILE`: applied after the looked-up files; must exist. Relative to cwd. */
  configFile?: string;
  /** Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Default process.cwd(); base of ./scrapydd.conf and of relative paths. */
  cwd?: string;
  /** Default os.homedir(); holds ~/.scrapydd.conf. */
  home?: string;
  /** Default '/etc'. */
  etcDir?: string;
  /** Command-line values per section, keyed by config key (snake_case, kebab-case or camelCase). */
  flags?: { server?: FlagValues; agent?: FlagValues };
  /** Unknown sections and keys; default prints to stderr. */
  warn?: Warn;
  /** Resolves log_format = auto; default process.stderr.isTTY. */
  stderrIsTTY?: boolean;
}

type Merged = Record<SectionName, Map<string, Setting>>;
type Value = string | number | boolean | string[] | undefined;

export function loadConfig(opts: LoadConfigOptions = {}): Config {
  const cwd = path.resolve(opts.cwd ?? process.cwd());
  const home = opts.home ?? os.homedir();
  const warn = opts.warn ?? ((msg: string) => process.stderr.write(`scrapydd: warning: ${msg}\n`));
  const env = opts.env ?? process.env;
  const layers: SettingsLayer[] = [dockerHostSettings(env)];
  const sources: string[] = [];

  for (const file of lookupPaths(opts.etcDir ?? '/etc', cwd, home)) {
    const layer = readConfigFile(file, warn);
    if (layer === undefined) continue;
    layers.push(layer);
    sources.push(file);
  }
  if (opts.configFile !== undefined) {
    const file = path.resolve(cwd, opts.configFile);
    const layer = readConfigFile(file, warn);
    if (layer === undefined) {
      throw new ConfigError(`--config ${file}: no such file`, { key: 'config', source: file });
    }
    layers.push(layer);
    sources.push(file);
  }
  layers.push(envSettings(env));
  layers.push(flagSettings(opts.flags ?? {}));

  const merged: Merged = { server: new Map(), agent: new Map() };
  for (const layer of layers) {
    for (const section of ['server', 'agent'] as const) {
      for (const [key, setting] of Object.entries(layer[section] ?? {})) {
        // An empty value puts the key back to its default (e.g. `https_port =` disables TLS).
        if (setting.value.trim() === '') merged[section].delete(key);
        else merged[section].set(key, setting);
      }
    }
  }

  const isTTY = opts.stderrIsTTY ?? process.stderr.isTTY === true;
  const context = { cwd, home, isTTY };
  return deepFreeze({
    server: buildServer(new Reader('server', merged.server, context)),
    agent: buildAgent(new Reader('agent', merged.agent, context)),
    sources,
  });
}

function buildServer(r: Reader): ServerConfig {
  const heartbeat = r.number('heartbeat_interval');
  const nodeTimeout = r.number('node_timeout');
  if (nodeTimeout <= heartbeat) {
    throw r.error('node_timeout', `${nodeTimeout} seconds must be more than heartbeat_interval (${heartbeat} seconds)`);
  }
  const databaseUrl = r.string('database_url');
  return {
    bindAddress: r.string('bind_address'),
    bindPort: r.number('bind_port'),
    clientValidation: r.bool('client_validation'),
    databaseUrl,
    database: parseDatabaseUrl(databaseUrl, { cwd: r.context.cwd, source: r.sourceOf('database_url') }),
    debug: r.bool('debug'),
    enableAuthentication: r.bool('enable_authentication'),
    httpsPort: r.optionalNumber('https_port'),
    runnerType: r.string('runner_type') as RunnerType,
    runnerDockerImage: r.string('runner_docker_image'),
    dockerHost: r.string('docker_host'),
    serverName: r.string('server_name'),
    dataDir: r.string('data_dir'),
    runnerPython: r.string('runner_python'),
    maxUploadSizeBytes: r.number('max_upload_size'),
    spiderListTimeoutSeconds: r.number('spider_list_timeout'),
    nodeName: r.string('node_name'),
    logFormat: r.logFormat(),
    timezone: r.string('timezone'),
    heartbeatIntervalSeconds: heartbeat,
    nodeTimeoutSeconds: nodeTimeout,
    nodeKeyTtlSeconds: r.number('node_key_ttl'),
    webSessionTtlSeconds: r.number('web_session_ttl'),
    webSessionMaxAgeSeconds: r.number('web_session_max_age'),
    cancelGraceSeconds: r.number('cancel_grace'),
    misfireGraceSeconds: r.number('misfire_grace'),
    jobsToKeep: r.number('jobs_to_keep'),
    webhookAllowPrivate: r.bool('webhook_allow_private'),
    webhookMaxAttempts: r.number('webhook_max_attempts'),
    webhookTimeoutSeconds: r.number('webhook_timeout'),
    ...failureMail(r),
    settings: r.configured(),
  };
}

/**
 * job_fail_send_mail and the smtp_* keys, checked together: mail turned on
 * needs a server and receivers, a login needs both user and password, and
 * every address must be one. Off, nothing of it reaches the server.
 */
function failureMail(r: Reader): { failureMail?: FailureMailConfig } {
  const receivers = r.list('job_fail_mail_receiver').map((a) => r.guard('job_fail_mail_receiver', () => parseMailAddress(a)));
  const tls = r.string('smtp_tls') as SmtpTls;
  const port = r.optionalNumber('smtp_port') ?? (tls === 'tls' ? 465 : 25);
  const user = r.optionalString('smtp_user');
  const password = r.optionalString('smtp_passwd');
  let from = r.optionalString('smtp_from');
  if (!r.bool('job_fail_send_mail')) return {};

  const needs = (key: string, problem: string) =>
    new ConfigError(`${key}: ${problem} (job_fail_send_mail = true in ${r.sourceOf('job_fail_send_mail')})`, { key, section: 'server' });
  const host = r.optionalString('smtp_server');
  if (host === undefined) throw needs('smtp_server', 'not set, but failure e-mail needs an SMTP server');
  if (receivers.length === 0) throw needs('job_fail_mail_receiver', 'no address given, but failure e-mail needs at least one');
  if ((user === undefined) !== (password === undefined)) {
    throw user === undefined
      ? needs('smtp_user', 'not set, but smtp_passwd is: a login needs both')
      : needs('smtp_passwd', 'not set, but smtp_user is: a login needs both');
  }
  if (from === undefined) {
    // Derived from server_name, so checked here rather than by the schema.
    from = `scrapydd@${r.string('server_name')}`;
    try {
      parseMailAddress(from);
    } catch {
      throw needs('smtp_from', `not set, and the default '${from}' (from server_name) is not an e-mail address`);
    }
  }
  const auth = user !== undefined && password !== undefined ? { auth: { user, password: new Secret(password) } } : {};
  return { failureMail: { smtp: { host, port, tls, from, ...auth }, receivers } };
}

function buildAgent(r: Reader): AgentConfig {
  const serverPort = r.number('server_port');
  const entries = r.list('server');
  if (entries.length === 0) throw r.error('server', 'no server given');
  const servers = entries.map((item) => r.guard('server', () => parseHostPort(item, serverPort)));
  const dataDir = r.string('data_dir');
  return {
    debug: r.bool('debug'),
    servers,
    serverPort,
    slots: r.number('slots'),
    requestTimeoutSeconds: r.number('request_timeout'),
    tags: r.list('tags'),
    runnerType: r.string('runner_type') as RunnerType,
    runnerPython: r.string('runner_python'),
    runnerDockerImage: r.string('runner_docker_image'),
    dockerHost: r.string('docker_host'),
    runnerDockerNetwork: r.optionalString('runner_docker_network'),
    dataDir,
    caFile: r.optionalString('ca_file'),
    certFile: r.optionalString('cert_file'),
    keyFile: r.optionalString('key_file'),
    nodeFile: r.optionalString('node_file') ?? path.join(dataDir, 'node.json'),
    logFormat: r.logFormat(),
  };
}

/** Reads one section's merged settings (or defaults), parsing each by its schema type. */
class Reader {
  constructor(
    readonly section: SectionName,
    private readonly settings: Map<string, Setting>,
    readonly context: { cwd: string; home: string; isTTY: boolean },
  ) {}

  sourceOf(key: string): string {
    return this.settings.get(key)?.source ?? 'default';
  }

  /** Every key of the section as configured, for the configuration overview; secret values left out. */
  configured(): ConfiguredSetting[] {
    return Object.entries(SCHEMA[this.section]).map(([key, spec]) => {
      const setting = this.settings.get(key);
      const secret = spec.secret === true;
      return { key, value: secret ? undefined : setting?.value.trim(), isSet: setting !== undefined, secret, source: this.sourceOf(key) };
    });
  }

  error(key: string, problem: string): ConfigError {
    return ConfigError.forValue(key, this.sourceOf(key), problem, this.section);
  }

  /** Runs a parser, turning InvalidValue into a ConfigError naming key and source. */
  guard<T>(key: string, parse: () => T): T {
    try {
      return parse();
    } catch (err) {
      if (err instanceof InvalidValue) throw this.error(key, err.message);
      throw err;
    }
  }

  value(key: string): Value {
    const spec = SCHEMA[this.section][key];
    if (spec === undefined) throw new Error(`config key ${key} is not in the [${this.section}] schema`);
    const raw = this.settings.get(key)?.value ?? spec.default;
    if (raw === undefined) return undefined;
    return this.guard(key, (): Value => {
      switch (spec.type) {
        case 'bool':
          return parseBool(raw);
        case 'int':
          return parseInteger(raw, spec.min);
        case 'port':
          return parsePort(raw);
        case 'enum':
          return parseEnum(raw, spec.values ?? []);
        case 'duration-seconds':
          return parseDurationSeconds(raw, spec.allowZero);
        case 'size-bytes':
          return parseSizeBytes(raw);
        case 'list':
          return parseList(raw);
        case 'string': {
          const text = spec.validate ? spec.validate(raw) : raw.trim();
          return spec.path ? this.resolvePath(text) : text;
        }
      }
    });
  }

  optionalString(key: string): string | undefined {
    const v = this.value(key);
    if (v !== undefined && typeof v !== 'string') throw new Error(`config key ${key} is not a string`);
    return v;
  }

  string(key: string): string {
    const v = this.optionalString(key);
    if (v === undefined) throw new Error(`config key ${key} has no default`);
    return v;
  }

  optionalNumber(key: string): number | undefined {
    const v = this.value(key);
    if (v !== undefined && typeof v !== 'number') throw new Error(`config key ${key} is not a number`);
    return v;
  }

  number(key: string): number {
    const v = this.optionalNumber(key);
    if (v === undefined) throw new Error(`config key ${key} has no default`);
    return v;
  }

  bool(key: string): boolean {
    const v = this.value(key);
    if (typeof v !== 'boolean') throw new Error(`config key ${key} is not a boolean`);
    return v;
  }

  list(key: string): string[] {
    const v = this.value(key);
    if (!Array.isArray(v)) throw new Error(`config key ${key} is not a list`);
    return v;
  }

  logFormat(): LogFormat {
    const v = this.string('log_format');
    if (v === 'auto') return this.context.isTTY ? 'pretty' : 'json';
    return v as LogFormat;
  }

  private resolvePath(text: string): string {
    const expanded = text === '~' || text.startsWith('~/') ? path.join(this.context.home, text.slice(1)) : text;
    return path.resolve(this.context.cwd, expanded);
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
