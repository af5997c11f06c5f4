/**
 * `scrapydd deploy`: resolves target, project, version and credentials, builds the egg
 * (or takes --egg) and uploads it over REST as a new version, creating the project with it
 * when it does not exist yet.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { DeployError, EXIT } from './deploy-error.js';
import {
  authorizationHeader,
  chooseCredentials,
  credentialsFileLayer,
  credentialsFilePath,
  describeCredentials,
  environmentLayer,
  type CredentialLayer,
} from './credentials.js';
import { buildProjectEgg, checkProjectName } from './package-project.js';
import { netrcLayer, netrcPath } from './netrc.js';
import { RestClient, type VersionJson } from './rest-client.js';
import { defaultProjectName, deployTarget, findProjectDir, loadScrapyProject, targetFile, type DeployTarget, type ScrapyProject } from './scrapy-project.js';
import { resolveVersion, type ResolvedVersion } from './version-name.js';

export interface DeployOptions {
  readonly target?: string;
  readonly projectDir?: string;
  readonly project?: string;
  readonly version?: string;
  readonly url?: string;
  readonly username?: string;
  /** The password read from standard input (--password-stdin). */
  readonly password?: string;
  /** The API key read from the variable named by --api-key-env. */
  readonly apiKey?: string;
  readonly egg?: string;
  readonly python?: string;
  readonly caFile?: string;
  readonly timeoutMs: number;
  readonly env: NodeJS.ProcessEnv;
  /** Asks for a password without echo; undefined when there is no terminal. */
  readonly promptPassword: ((username: string) => Promise<string>) | undefined;
  readonly progress: (line: string) => void;
}

export interface DeployResult {
  readonly server: string;
  readonly project: string;
  readonly version: ResolvedVersion;
  readonly createdProject: boolean;
  readonly uploaded: VersionJson;
}

export async function deployProject(opts: DeployOptions): Promise<DeployResult> {
  const start = opts.projectDir ?? process.cwd();
  // With --egg, --url and -p nothing needs to come from a Scrapy project.
  const project: ScrapyProject | undefined =
    opts.egg !== undefined && findProjectDir(start) === undefined ? undefined : loadScrapyProject(start);
  const target: DeployTarget = project ? deployTarget(project, opts.target) : { name: opts.target ?? 'default' };
  if (project === undefined && opts.target !== undefined) {
    throw new DeployError(`deploy target '${opts.target}' needs a scrapy.cfg, and none was found from ${resolve(start)}`, EXIT.usage);
  }

  const fromFlag = opts.url !== undefined;
  const rawUrl = opts.url ?? target.url;
  if (rawUrl === undefined) {
    throw new DeployError(
      `no server URL: give --url or set url in [${target.name === 'default' ? 'deploy' : `deploy:${target.name}`}] of ${project ? targetFile(project, target.name) : 'scrapy.cfg'}`,
      EXIT.usage,
    );
  }
  const { url, userinfo } = parseServerUrl(rawUrl);

  const name = opts.project ?? target.project ?? (project ? defaultProjectName(project) : undefined);
  if (name === undefined) throw new DeployError('no project name: give -p (there is no scrapy.cfg)', EXIT.usage);
  checkProjectName(name);
  const version = await resolveVersion(opts.version ?? target.version, project?.dir ?? start);

  const cfgSource = project ? `${targetFile(project, target.name)} [${target.name === 'default' ? 'deploy' : `deploy:${target.name}`}]` : 'scrapy.cfg';
  const flagLayer: CredentialLayer = {
    source: 'the command line',
    ...defined({ username: opts.username ?? (fromFlag ? userinfo.username : undefined), password: opts.password ?? (fromFlag ? userinfo.password : undefined), apiKey: opts.apiKey }),
  };
  const cfgLayer: CredentialLayer = {
    source: cfgSource,
    passwordBoundToUsername: true,
    ...defined({ username: target.username ?? (fromFlag ? undefined : userinfo.username), password: target.password ?? (fromFlag ? undefined : userinfo.password) }),
  };
  const credentials = await chooseCredentials(
    [flagLayer, environmentLayer(opts.env), credentialsFileLayer(credentialsFilePath(), url), cfgLayer, netrcLayer(netrcPath(opts.env), url)],
    opts.promptPassword,
  );
  const client = new RestClient({
    baseUrl: url,
    authorization: authorizationHeader(credentials),
    credentialsLabel: describeCredentials(credentials),
    ...(opts.caFile === undefined ? {} : { caFile: opts.caFile }),
    timeoutMs: opts.timeoutMs,
  });

  let egg = opts.egg === undefined ? undefined : await readEgg(resolve(opts.egg));
  // Looking the project up first checks the URL and the credentials before a build that takes seconds.
  const projectExists = await client.projectExists(name);
  let tempDir: string | undefined;
  try {
    let eggFile = opts.egg === undefined ? undefined : resolve(opts.egg);
    if (egg === undefined || eggFile === undefined) {
      tempDir = await mkdtemp(join(tmpdir(), 'scrapydd-deploy-'));
      eggFile = join(tempDir, `${name}-${version.version}.egg`);
      opts.progress(`packing project '${name}' from ${project!.dir}`);
      await buildProjectEgg(project!, name, opts.python, eggFile, opts.progress);
      egg = await readEgg(eggFile);
    }
    const createdProject = !projectExists;
    opts.progress(
      `uploading version '${version.version}' of ${createdProject ? 'the new project' : 'project'} '${name}' to ${client.serverLabel} ` +
        `(${formatSize(egg.length)}, ${describeCredentials(credentials)})`,
    );
    const uploaded = await client.uploadVersion(name, version.version, egg, basename(eggFile), createdProject);
    opts.progress('done');
    return { server: client.serverLabel, project: name, version, createdProject, uploaded };
  } finally {
    if (tempDir !== undefined) await rm(tempDir, { recursive: true, force: true });
  }
}

async function readEgg(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new DeployError(`cannot read the egg ${file}: ${(err as Error).message}`, EXIT.usage);
  }
}

/** The URL without credentials (they would end up in messages), and the credentials it carried. */
function parseServerUrl(raw: string): { url: URL; userinfo: { username?: string; password?: string } } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new DeployError(`server URL '${raw.replace(/\/\/[^@/]*@/, '//***@')}' is not a URL (e.g. http://localhost:6800)`, EXIT.usage);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new DeployError(`server URL must start with http:// or https://, not ${url.protocol}//`, EXIT.usage);
  }
  const userinfo = defined({ username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) });
  url.username = '';
  url.password = '';
  url.search = '';
  url.hash = '';
  return { url, userinfo };
}

function defined<T extends Record<string, string | undefined>>(values: T): { [K in keyof T]?: string } {
  const out: { [K in keyof T]?: string } = {};
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined && value !== '') out[key as keyof T] = value;
  }
  return out;
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
