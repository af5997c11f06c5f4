/** `scrapydd package`: the project around a directory, its name and version, built into an egg file. */
import { resolve } from 'node:path';
import { SCHEMA } from '../config/schema.js';
import { DeployError, EXIT } from './deploy-error.js';
import { buildEgg, type BuiltEgg } from './egg-builder.js';
import { defaultProjectName, deployTarget, loadScrapyProject, type ScrapyProject } from './scrapy-project.js';
import { resolveVersion, type ResolvedVersion } from './version-name.js';

export interface PackageOptions {
  /** Where to look for scrapy.cfg (walking up); default the working directory. */
  readonly projectDir?: string;
  readonly output?: string;
  readonly python?: string;
  readonly project?: string;
  readonly version?: string;
  readonly progress: (line: string) => void;
}

export interface PackagedEgg extends BuiltEgg {
  readonly project: string;
  readonly version: ResolvedVersion;
}

/** The server's rule for project ids, checked before anything is built. */
const PROJECT_ID = /^[A-Za-z0-9_.-]{1,100}$/;

/** --python, else SCRAPYDD_RUNNER_PYTHON, else runner_python's default: the Python the server lists spiders with. */
export function buildPython(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.SCRAPYDD_RUNNER_PYTHON;
  return flag ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv : SCHEMA.server.runner_python!.default!);
}

export function checkProjectName(project: string): void {
  if (!PROJECT_ID.test(project) || /^\.+$/.test(project)) {
    throw new DeployError(`project name '${project}' is not valid: use 1 to 100 of A-Z a-z 0-9 _ . - (and not only dots)`, EXIT.usage);
  }
}

export async function packageProject(opts: PackageOptions): Promise<PackagedEgg> {
  const project = loadScrapyProject(opts.projectDir ?? process.cwd());
  const name = opts.project ?? deployTarget(project, undefined).project ?? defaultProjectName(project);
  checkProjectName(name);
  const version = await resolveVersion(opts.version, project.dir);
  const outFile = resolve(opts.output ?? `${name}-${version.version}.egg`);
  const egg = await buildProjectEgg(project, name, opts.python, outFile, opts.progress);
  return { ...egg, project: name, version };
}

export function buildProjectEgg(
  project: ScrapyProject,
  name: string,
  python: string | undefined,
  outFile: string,
  progress: (line: string) => void,
): Promise<BuiltEgg> {
  return buildEgg({
    projectDir: project.dir,
    settingsModule: project.settingsModule,
    projectName: name,
    python: buildPython(python),
    outFile,
    progress,
  });
}
