/** `scrapydd package` and `scrapydd deploy`: build a Scrapy project's egg and upload it to a scrapydd server. */
import { type Command, InvalidArgumentError } from 'commander';
import { DeployError, EXIT } from '../deploy/deploy-error.js';
import { deployTarget, loadScrapyProject, targetNames } from '../deploy/scrapy-project.js';
import { readSecret } from './read-secret.js';

interface PackageFlags {
  projectDir?: string;
  output?: string;
  python?: string;
  project?: string;
  versionId?: string;
}

interface DeployFlags {
  projectDir?: string;
  project?: string;
  versionId?: string;
  url?: string;
  username?: string;
  passwordStdin?: boolean;
  apiKeyEnv?: string;
  egg?: string;
  python?: string;
  caFile?: string;
  timeout: number;
  listTargets?: boolean;
}

const DEFAULT_TIMEOUT_SECONDS = 300;

function seconds(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new InvalidArgumentError('expected a whole number of seconds, at least 1');
  return n;
}

const progress = (line: string) => process.stderr.write(`${line}\n`);

const VERSION_HELP =
  'the version id (default: r<commits>-<short hash>[-dirty] in a git work tree, else the UTC time YYYYMMDDTHHMMSS; GIT requires git)';

export function registerDeployCommands(program: Command): void {
  program
    .command('package')
    .description(
      "build the egg of the Scrapy project around the working directory (the nearest scrapy.cfg) with Python's setuptools; " +
        'a temporary setup.py is written when the project has none; prints the egg path',
    )
    .option('--project-dir <dir>', 'look for scrapy.cfg from this directory instead of the working directory')
    .option('-o, --output <file>', 'where to write the egg (default: <project>-<version>.egg in the working directory)')
    .option('--python <python>', 'the Python whose setuptools builds the egg (default: $SCRAPYDD_RUNNER_PYTHON, else /usr/bin/python3)')
    .option('-p, --project <name>', "the project name (default: [deploy] project of scrapy.cfg, else the settings module's package)")
    .option('-v, --version-id <version>', VERSION_HELP)
    .action(async (flags: PackageFlags) => {
      const [{ packageProject }, { formatSize }] = await Promise.all([import('../deploy/package-project.js'), import('../deploy/deploy-project.js')]);
      const egg = await packageProject({
        ...(flags.projectDir === undefined ? {} : { projectDir: flags.projectDir }),
        ...(flags.output === undefined ? {} : { output: flags.output }),
        ...(flags.python === undefined ? {} : { python: flags.python }),
        ...(flags.project === undefined ? {} : { project: flags.project }),
        ...(flags.versionId === undefined ? {} : { version: flags.versionId }),
        progress,
      });
      progress(`built ${egg.project} version ${egg.version.version} (${formatSize(egg.sizeBytes)})`);
      process.stdout.write(`${egg.file}\n`);
    });

  program
    .command('deploy')
    .description(
      'build the egg of the Scrapy project around the working directory and upload it as a new version to a scrapydd server ' +
        '(the url, project, username and password of [deploy] or [deploy:TARGET] in scrapy.cfg, as scrapyd-deploy reads them; flags override)',
    )
    .argument('[target]', 'the [deploy:TARGET] section of scrapy.cfg (default: [deploy])')
    .option('-p, --project <name>', "the project (default: the target's project, else the settings module's package)")
    .option('-v, --version-id <version>', VERSION_HELP)
    .option('--url <url>', "the server's URL, http:// or https:// (default: the target's url)")
    .option('-u, --username <user>', 'log in as this user; the password comes from --password-stdin, SCRAPYDD_PASSWORD, or a prompt')
    .option('--password-stdin', 'read the password from the first line of standard input')
    .option('--api-key-env <variable>', 'send the API key held in this environment variable (as a Bearer token)')
    .option('--egg <file>', 'upload this egg instead of building one')
    .option('--python <python>', 'the Python whose setuptools builds the egg (default: $SCRAPYDD_RUNNER_PYTHON, else /usr/bin/python3)')
    .option('--project-dir <dir>', 'look for scrapy.cfg from this directory instead of the working directory')
    .option('--ca-file <file>', "PEM certificate of the CA that signed an https server's certificate (e.g. keys/ca.crt of scrapydd cert)")
    .option('--timeout <seconds>', 'give up on a request after this long (the upload waits for the server to list the spiders)', seconds, DEFAULT_TIMEOUT_SECONDS)
    .option('-l, --list-targets', 'list the deploy targets of scrapy.cfg and exit')
    .addHelpText(
      'after',
      '\nCredentials, first found wins: flags (-u with --password-stdin or a prompt, --api-key-env), the environment\n' +
        '(SCRAPYDD_USERNAME, SCRAPYDD_PASSWORD, SCRAPYDD_API_KEY), ~/.scrapydd ([<server url>] or [default] with\n' +
        'username, password or api_key; mode 0600), then username/password in the scrapy.cfg target.\n' +
        '\nExit codes: 2 usage or project problem, 3 build failed, 4 authentication or permission,\n' +
        '5 server unreachable, 6 server refused the upload.',
    )
    .action(async (target: string | undefined, flags: DeployFlags) => {
      if (flags.listTargets) {
        listTargets(flags.projectDir);
        return;
      }
      let apiKey: string | undefined;
      if (flags.apiKeyEnv !== undefined) {
        apiKey = process.env[flags.apiKeyEnv];
        if (apiKey === undefined || apiKey === '') {
          throw new DeployError(`--api-key-env ${flags.apiKeyEnv}: the environment variable is not set`, EXIT.usage);
        }
      }
      let password: string | undefined;
      if (flags.passwordStdin) {
        password = await readSecret('Password: ');
        if (password === '') throw new DeployError('--password-stdin: standard input held no password', EXIT.usage);
      }
      const { deployProject } = await import('../deploy/deploy-project.js');
      const result = await deployProject({
        ...(target === undefined ? {} : { target }),
        ...(flags.projectDir === undefined ? {} : { projectDir: flags.projectDir }),
        ...(flags.project === undefined ? {} : { project: flags.project }),
        ...(flags.versionId === undefined ? {} : { version: flags.versionId }),
        ...(flags.url === undefined ? {} : { url: flags.url }),
        ...(flags.username === undefined ? {} : { username: flags.username }),
        ...(password === undefined ? {} : { password }),
        ...(apiKey === undefined ? {} : { apiKey }),
        ...(flags.egg === undefined ? {} : { egg: flags.egg }),
        ...(flags.python === undefined ? {} : { python: flags.python }),
        ...(flags.caFile === undefined ? {} : { caFile: flags.caFile }),
        timeoutMs: flags.timeout * 1000,
        env: process.env,
        promptPassword: process.stdin.isTTY ? (user) => readSecret(`Password for ${user}: `) : undefined,
        progress,
      });
      const spiders = result.uploaded.spiders ?? [];
      process.stdout.write(
        `server:  ${result.server}\n` +
          `project: ${result.project}${result.createdProject ? ' (created)' : ''}\n` +
          `version: ${result.version.version}\n` +
          `spiders: ${spiders.length === 0 ? '(none)' : spiders.join(' ')}\n`,
      );
    });
}

function listTargets(projectDir: string | undefined): void {
  const project = loadScrapyProject(projectDir ?? process.cwd());
  for (const name of targetNames(project)) {
    process.stdout.write(`${name.padEnd(20)} ${deployTarget(project, name).url ?? '(no url)'}\n`);
  }
}
