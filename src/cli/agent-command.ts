/** `scrapydd agent`: runs the worker daemon; `scrapydd agent -g` registers this machine as a permanent node. */
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { PACKAGE_VERSION } from '../package-root.js';
import { readSecret } from './read-secret.js';

/** Flags that are not config keys. */
interface AgentOnlyFlags {
  register?: boolean;
  nodeKey?: string;
  nodeSecret?: string;
  displayName?: string;
  force?: boolean;
}

const STOP_GRACE_MS = 30_000;

export function registerAgentCommand(program: Command): void {
  program
    .command('agent')
    .description('run the scrapydd agent: the worker that runs jobs sent by the server (-g registers a permanent node)')
    .option('-g, --register', 'register this machine as a permanent node with a node key and its secret, then exit')
    .option('--node-key <key>', 'with -g: the node key (else prompted, or the first line of standard input)')
    .option('--node-secret <secret>', 'with -g: the node key\'s secret (else prompted, or the next line of standard input)')
    .option('--display-name <name>', 'with -g: the node\'s display name (default: a random one)')
    .option('--force', 'with -g: replace an existing node file')
    .option('--server <hosts>', 'server host[:port], or a comma-separated list to fail over (server)')
    .option('--server-port <port>', 'port of server entries without one (server_port)')
    .option('--slots <n>', 'how many jobs to run at once (slots)')
    .option('--tags <tags>', 'comma-separated tags (tags)')
    .option('--data-dir <dir>', 'eggs, virtualenvs and job files (data_dir)')
    .option('--node-file <file>', 'the permanent node\'s credentials (node_file)')
    .option('--runner-type <type>', 'venv or docker (runner_type)')
    .option('--runner-python <python>', 'the Python that virtualenvs are made from (runner_python)')
    .option('--runner-docker-image <image>', 'the image crawls run in with runner_type = docker (runner_docker_image)')
    .option('--docker-host <host>', 'the Docker Engine API socket, unix:///path (docker_host)')
    .option('--debug', 'log at debug level (debug = true)')
    .action(async (all: Record<string, string | boolean | undefined>) => {
      const { register, nodeKey, nodeSecret, displayName, force, ...flags } = all as AgentOnlyFlags & Record<string, string | boolean | undefined>;
      const config = loadConfig({ configFile: program.opts<{ config?: string }>().config, flags: { agent: flags } });
      // Loaded here, not at the top: `scrapydd --help` and the other commands start faster without them.
      const [{ startAgent }, { NodeFileError }, { registerNode, RegistrationError }, { createAgentRunner }, { createLogger }] = await Promise.all([
        import('../agent/agent-daemon.js'),
        import('../agent/identity.js'),
        import('../agent/registration.js'),
        import('../agent/runner/create-runner.js'),
        import('../server/logging.js'),
      ]);
      const agent = config.agent;
      const logger = createLogger({ debug: agent.debug, format: agent.logFormat, name: 'scrapydd-agent' });

      if (register) {
        const [key, secret] = await readCredentials(nodeKey, nodeSecret);
        try {
          const { node } = await registerNode(agent, { nodeKey: key, nodeKeySecret: secret, displayName, force }, logger);
          process.stdout.write(`registered ${node.name}${node.displayName ? ` (${node.displayName})` : ''}\nnode file: ${agent.nodeFile}\n`);
          logger.flush();
          process.exit(0);
        } catch (err) {
          if (err instanceof RegistrationError || err instanceof NodeFileError) fail(err.message);
          throw err;
        }
      }

      let daemon;
      try {
        daemon = await startAgent(agent, logger, (context) => createAgentRunner(agent, context), PACKAGE_VERSION);
      } catch (err) {
        if (err instanceof NodeFileError) fail(err.message);
        throw err;
      }
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) {
          logger.warn({ signal }, 'second signal: exiting now');
          logger.flush();
          process.exit(1);
        }
        stopping = true;
        logger.info({ signal }, 'stopping: cancelling running jobs and reporting them');
        await daemon.stop(STOP_GRACE_MS).catch((err: unknown) => logger.error({ err }, 'error while stopping'));
        logger.info('agent stopped');
        logger.flush();
        process.exit(0);
      };
      process.on('SIGINT', () => void stop('SIGINT'));
      process.on('SIGTERM', () => void stop('SIGTERM'));
    });
}

function fail(message: string): never {
  process.stderr.write(`scrapydd: ${message}\n`);
  process.exit(2);
}

/** The node key and secret: flags, else prompts on a terminal, else the next lines of standard input. */
async function readCredentials(key: string | undefined, secret: string | undefined): Promise<[string, string]> {
  if (key !== undefined && secret !== undefined) return [key, secret];
  if (process.stdin.isTTY) {
    const k = key ?? (await readSecret('Node key: '));
    const s = secret ?? (await readSecret('Secret key: '));
    return [k, s];
  }
  const lines = await stdinLines(key === undefined ? 2 : 1);
  if (key === undefined) return [lines[0] ?? '', secret ?? lines[1] ?? ''];
  return [key, lines[0] ?? ''];
}

/** Up to `count` lines of (non-terminal) standard input. */
async function stdinLines(count: number): Promise<string[]> {
  const rl = createInterface({ input: process.stdin, terminal: false });
  const lines: string[] = [];
  for await (const line of rl) {
    lines.push(line.replace(/\r$/, ''));
    if (lines.length >= count) break;
  }
  rl.close();
  return lines;
}
