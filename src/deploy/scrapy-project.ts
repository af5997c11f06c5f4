/**
 * A Scrapy project on disk: the nearest scrapy.cfg, its settings module and its deploy targets.
 * As Scrapy reads it (so as scrapyd-deploy does): /etc/scrapy.cfg, $XDG_CONFIG_HOME/scrapy.cfg
 * (default ~/.config), ~/.scrapy.cfg, then the project's scrapy.cfg, each file's keys overriding
 * the ones before; [DEFAULT] keys apply to every section; values take %(name)s references.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { DeployError, EXIT } from './deploy-error.js';
import { interpolatedValue, InterpolationError } from './ini-interpolation.js';
import { parseIniSections, type IniSections } from './ini-sections.js';

export interface ScrapyProject {
  /** The directory holding scrapy.cfg. */
  readonly dir: string;
  readonly cfgFile: string;
  /** `[settings] default`, e.g. `quotes.settings`. */
  readonly settingsModule: string;
  /** Every source's sections merged, later files winning key by key. */
  readonly sections: IniSections;
  /** The last file that set keys of each section, for messages. */
  readonly sectionFiles: ReadonlyMap<string, string>;
  /** The files read, in order (user-level ones only when they exist). */
  readonly files: readonly string[];
}

/** Where the user-level scrapy.cfg files are looked for; tests point these elsewhere. */
export interface ConfigLocations {
  readonly env?: NodeJS.ProcessEnv;
  readonly home?: string;
  /** Default /etc/scrapy.cfg. */
  readonly systemFile?: string;
}

/** One `[deploy]` or `[deploy:NAME]` section, scrapyd-deploy's format. */
export interface DeployTarget {
  /** `default` for `[deploy]`. */
  readonly name: string;
  readonly url?: string;
  readonly project?: string;
  readonly version?: string;
  readonly username?: string;
  readonly password?: string;
}

const MODULE_NAME = /^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$/;

/** The directory of the nearest scrapy.cfg at or above `start`, or undefined. */
export function findProjectDir(start: string): string | undefined {
  let dir = resolve(start);
  for (;;) {
    const candidate = join(dir, 'scrapy.cfg');
    if (existsSync(candidate) && statSync(candidate).isFile()) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Scrapy's user-level configuration files, in the order it reads them. */
export function userConfigFiles(where: ConfigLocations = {}): string[] {
  const env = where.env ?? process.env;
  const home = where.home ?? homedir();
  const xdg = env.XDG_CONFIG_HOME || join(home, '.config');
  return [where.systemFile ?? '/etc/scrapy.cfg', join(xdg, 'scrapy.cfg'), join(home, '.scrapy.cfg')];
}

function readCfg(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new DeployError(`cannot read ${file}: ${(err as Error).message}`, EXIT.usage);
  }
}

/** Loads the project around `start` (cwd or --project-dir); a clear error when there is none. */
export function loadScrapyProject(start: string, where: ConfigLocations = {}): ScrapyProject {
  if (!existsSync(start) || !statSync(start).isDirectory()) {
    throw new DeployError(`${resolve(start)} is not a directory`, EXIT.usage);
  }
  const dir = findProjectDir(start);
  if (dir === undefined) {
    throw new DeployError(
      `no scrapy.cfg found in ${resolve(start)} or any parent directory (run this inside a Scrapy project or give --project-dir)`,
      EXIT.usage,
    );
  }
  const cfgFile = join(dir, 'scrapy.cfg');
  const files = [...userConfigFiles(where).filter((f) => f !== cfgFile && existsSync(f) && statSync(f).isFile()), cfgFile];
  const sections: IniSections = new Map();
  const sectionFiles = new Map<string, string>();
  for (const file of files) {
    for (const [name, keys] of parseIniSections(readCfg(file))) {
      const merged = sections.get(name) ?? new Map<string, string>();
      for (const [key, value] of keys) merged.set(key, value);
      sections.set(name, merged);
      sectionFiles.set(name, file);
    }
  }
  const project = { dir, cfgFile, settingsModule: '', sections, sectionFiles, files };
  const settingsModule = configValue(project, 'settings', 'default');
  const settingsFile = sectionFiles.get('settings') ?? cfgFile;
  if (settingsModule === undefined || settingsModule === '') {
    throw new DeployError(`${cfgFile} has no [settings] default (e.g. default = myproject.settings)`, EXIT.usage);
  }
  if (!MODULE_NAME.test(settingsModule)) {
    throw new DeployError(`[settings] default in ${settingsFile} is not a module name: '${settingsModule}'`, EXIT.usage);
  }
  return { ...project, settingsModule };
}

/** A value with [DEFAULT] and %(name)s applied, as ConfigParser gives it; a clear error for a bad reference. */
function configValue(project: Omit<ScrapyProject, 'settingsModule'>, section: string, key: string): string | undefined {
  try {
    return interpolatedValue(project.sections, section, key);
  } catch (err) {
    if (!(err instanceof InterpolationError)) throw err;
    throw new DeployError(`${project.sectionFiles.get(section) ?? project.cfgFile}: ${err.message}`, EXIT.usage);
  }
}

/** The file a target's section comes from (the last one that set any of its keys), for messages. */
export function targetFile(project: ScrapyProject, name: string | undefined): string {
  return project.sectionFiles.get(targetSection(name)) ?? project.cfgFile;
}

function targetSection(name: string | undefined): string {
  return name === undefined || name === 'default' ? 'deploy' : `deploy:${name}`;
}

/** The top package of the settings module: scrapy startproject's project name. */
export function defaultProjectName(project: ScrapyProject): string {
  return project.settingsModule.split('.')[0]!;
}

/** Names of the deploy targets, `default` for `[deploy]`. */
export function targetNames(project: ScrapyProject): string[] {
  const names: string[] = [];
  for (const name of project.sections.keys()) {
    if (name === 'deploy') names.push('default');
    else if (name.startsWith('deploy:')) names.push(name.slice('deploy:'.length));
  }
  return names;
}

/**
 * `[deploy:NAME]`, or `[deploy]` without a name. A named target that does not exist is an
 * error; a missing `[deploy]` is an empty target (flags may give everything).
 */
export function deployTarget(project: ScrapyProject, name: string | undefined): DeployTarget {
  const sectionName = targetSection(name);
  const section = project.sections.get(sectionName);
  if (section === undefined && name !== undefined && name !== 'default') {
    const known = targetNames(project);
    throw new DeployError(
      `unknown deploy target '${name}': no [${sectionName}] in ${project.files.join(', ')}` +
        (known.length > 0 ? ` (targets: ${known.join(', ')})` : ''),
      EXIT.usage,
    );
  }
  // As scrapyd-deploy: a named target takes the keys it lacks from [deploy].
  const get = (key: string) => {
    const from = section?.has(key) || !project.sections.has('deploy') ? sectionName : 'deploy';
    if (!project.sections.has(from)) return undefined;
    const value = configValue(project, from, key);
    return value === undefined || value === '' ? undefined : value;
  };
  return {
    name: name ?? 'default',
    url: get('url'),
    project: get('project'),
    version: get('version'),
    username: get('username'),
    password: get('password'),
  };
}
