/** ConfigError: a configuration value or file the process cannot start with. */

export interface ConfigErrorOptions {
  /** The config key at fault (`bind_port`), or `config` for the `--config` file itself. */
  key: string;
  /** Where the value came from: a file path, `environment variable SCRAPYDD_X`, `flag --x`, `default`. */
  source?: string;
  /** `server` or `agent` when the key belongs to one section. */
  section?: string;
  cause?: unknown;
}

/**
 * Thrown by loadConfig and parseDatabaseUrl. The message always names the key,
 * the offending value (secrets masked) and its source, so the CLI can print it
 * as is and exit.
 */
export class ConfigError extends Error {
  readonly key: string;
  readonly source: string | undefined;
  readonly section: string | undefined;

  constructor(message: string, options: ConfigErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ConfigError';
    this.key = options.key;
    this.source = options.source;
    this.section = options.section;
  }

  /** `bind_port in /etc/scrapydd/scrapydd.conf: 'abc' is not a port number (1-65535)` */
  static forValue(key: string, source: string | undefined, problem: string, section?: string): ConfigError {
    const where = source === undefined ? key : `${key} in ${source}`;
    return new ConfigError(`${where}: ${problem}`, { key, source, section });
  }
}
