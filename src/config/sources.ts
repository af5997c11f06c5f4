/** Where settings come from: the config file lookup, INI files, SCRAPYDD_* variables and flags. */
import fs from 'node:fs';
import path from 'node:path';
import ini from 'ini';
import { ConfigError } from './config-error.js';
import { envVarName, SCHEMA, SECTIONS, type SectionName } from './schema.js';

/** One raw value and where it came from; '' means "back to the default". */
export interface Setting {
  readonly value: string;
  readonly source: string;
}

/** Settings of one source, per section and key. */
export type SettingsLayer = Partial<Record<SectionName, Record<string, Setting>>>;

export type Warn = (message: string) => void;

/**
 * The lookup list, in the order applied (later overrides earlier):
 * `<etc>/scrapydd/scrapydd.conf`, `<etc>/scrapyd/conf.d/*` (sorted, no
 * dotfiles), `<cwd>/scrapydd.conf`, `<home>/.scrapydd.conf`. Missing paths and
 * directories are listed too; readConfigFile skips them.
 */
export function lookupPaths(etcDir: string, cwd: string, home: string): string[] {
  const confD = path.join(etcDir, 'scrapyd', 'conf.d');
  let confDFiles: string[] = [];
  try {
    confDFiles = fs
      .readdirSync(confD)
      .filter((name) => !name.startsWith('.'))
      .sort()
      .map((name) => path.join(confD, name));
  } catch (err) {
    if (!isMissing(err)) throw unreadable(confD, err);
  }
  return [
    path.join(etcDir, 'scrapydd', 'scrapydd.conf'),
    ...confDFiles,
    path.join(cwd, 'scrapydd.conf'),
    path.join(home, '.scrapydd.conf'),
  ];
}

/** Reads one INI file; undefined when it does not exist (or is not a file). */
export function readConfigFile(file: string, warn: Warn): SettingsLayer | undefined {
  if (!isFile(file)) return undefined;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw unreadable(file, err);
  }
  return parseIni(text.replace(/^\uFEFF/, ''), file, warn);
}

/** INI text to settings; unknown sections and keys are warned about, never fatal. */
export function parseIni(text: string, source: string, warn: Warn): SettingsLayer {
  const layer: SettingsLayer = {};
  const parsed = ini.parse(colonToEquals(text)) as Record<string, unknown>;
  for (const [rawName, body] of Object.entries(parsed)) {
    if (!isSection(body)) {
      warn(`unknown key '${rawName}' outside any section in ${source}`);
      continue;
    }
    const section = SECTIONS.find((s) => s === rawName.toLowerCase());
    if (section === undefined) {
      warn(`unknown section [${rawName}] in ${source}`);
      continue;
    }
    const out = (layer[section] ??= {});
    for (const [rawKey, value] of Object.entries(body)) {
      if (isSection(value)) {
        warn(`unknown section [${rawName}.${rawKey}] in ${source}`);
        continue;
      }
      const key = rawKey.toLowerCase();
      if (SCHEMA[section][key] === undefined) {
        warn(`unknown key '${rawKey}' in [${section}] of ${source}`);
        continue;
      }
      out[key] = { value: iniValueText(value), source };
    }
  }
  return layer;
}

/**
 * SCRAPYDD_<KEY> for every key, applied to each section that has the key
 * (SCRAPYDD_DEBUG sets both). Empty variables are ignored, as in the original.
 */
export function envSettings(env: NodeJS.ProcessEnv): SettingsLayer {
  const layer: SettingsLayer = {};
  for (const section of SECTIONS) {
    for (const key of Object.keys(SCHEMA[section])) {
      const name = envVarName(key);
      const value = env[name];
      if (value === undefined || value === '') continue;
      (layer[section] ??= {})[key] = { value, source: `environment variable ${name}` };
    }
  }
  return layer;
}

/**
 * DOCKER_HOST, as the Docker tools read it, for docker_host in both sections: under every
 * other source, so any scrapydd.conf, SCRAPYDD_DOCKER_HOST or flag wins over it.
 */
export function dockerHostSettings(env: NodeJS.ProcessEnv): SettingsLayer {
  const value = env.DOCKER_HOST;
  if (value === undefined || value.trim() === '') return {};
  const setting = { value, source: 'environment variable DOCKER_HOST' };
  return { server: { docker_host: setting }, agent: { docker_host: setting } };
}

export type FlagValues = Record<string, string | number | boolean | undefined>;

/**
 * Command-line values per section, keyed by config key in snake_case,
 * kebab-case or camelCase. An unknown key is a programming error: thrown.
 */
export function flagSettings(flags: Partial<Record<SectionName, FlagValues>>): SettingsLayer {
  const layer: SettingsLayer = {};
  for (const section of SECTIONS) {
    for (const [name, value] of Object.entries(flags[section] ?? {})) {
      if (value === undefined) continue;
      const key = name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/-/g, '_').toLowerCase();
      const source = `flag --${key.replace(/_/g, '-')}`;
      if (SCHEMA[section][key] === undefined) {
        throw new ConfigError(`unknown ${section} setting '${name}' given as a flag`, { key, source, section });
      }
      (layer[section] ??= {})[key] = { value: String(value), source };
    }
  }
  return layer;
}

/** Python's ConfigParser also accepts `key: value`; ini only knows `key = value`. */
function colonToEquals(text: string): string {
  return text.replace(/^([ \t]*[A-Za-z0-9_.-]+)[ \t]*:(.*)$/gm, '$1 =$2');
}

function iniValueText(value: unknown): string {
  // ini turns true/false/null into JS values and `key[]` lines into arrays.
  if (Array.isArray(value)) return value.map((v) => iniValueText(v)).join(',');
  if (value === null) return 'null';
  return String(value);
}

function isSection(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function unreadable(file: string, err: unknown): ConfigError {
  const reason = (err as NodeJS.ErrnoException | undefined)?.code ?? String(err);
  return new ConfigError(`cannot read configuration ${file}: ${reason}`, { key: 'config', source: file, cause: err });
}
