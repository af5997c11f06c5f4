/** A Scrapy project on disk: the nearest scrapy.cfg, its settings module and its deploy targets. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DeployError, EXIT } from './deploy-error.js';
import { parseIniSections, type IniSections } from './ini-sections.js';

export interface ScrapyProject {
  /** The directory holding scrapy.cfg. */
  readonly dir: string;
  readonly cfgFile: string;
  /** `[settings] default`, e.g. `quotes.settings`. */
  readonly settingsModule: string;
  readonly sections: IniSections;
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

/** Loads the project around `start` (cwd or --project-dir); a clear error when there is none. */
export function loadScrapyProject(start: string): ScrapyProject {
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
  let text: string;
  try {
    text = readFileSync(cfgFile, 'utf8');
  } catch (err) {
    throw new DeployError(`cannot read ${cfgFile}: ${(err as Error).message}`, EXIT.usage);
  }
  const sections = parseIniSections(text);
  const settingsModule = sections.get('settings')?.get('default');
  if (settingsModule === undefined || settingsModule === '') {
    throw new DeployError(`${cfgFile} has no [settings] default (e.g. default = myproject.settings)`, EXIT.usage);
  }
  if (!MODULE_NAME.test(settingsModule)) {
    throw new DeployError(`[settings] default in ${cfgFile} is not a module name: '${settingsModule}'`, EXIT.usage);
  }
  return { dir, cfgFile, settingsModule, sections };
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
  const sectionName = name === undefined || name === 'default' ? 'deploy' : `deploy:${name}`;
  const section = project.sections.get(sectionName);
  if (section === undefined && name !== undefined && name !== 'default') {
    const known = targetNames(project);
    throw new DeployError(
      `unknown deploy target '${name}': ${project.cfgFile} has no [${sectionName}]` +
        (known.length > 0 ? ` (targets: ${known.join(', ')})` : ''),
      EXIT.usage,
    );
  }
  const get = (key: string) => {
    const value = section?.get(key);
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
