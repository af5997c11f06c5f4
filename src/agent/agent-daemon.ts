/** Runs the agent daemon: identity, job directory recovery, the session loop, and a graceful stop. */
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ConfigError } from '../config/config-error.js';
import type { AgentConfig } from '../config/types.js';
import { EggCache } from './egg-cache.js';
import { readNodeFile } from './identity.js';
import { JobManager } from './job-manager.js';
import { JobStore } from './job-store.js';
import type { RunnerFactory } from './runner/create-runner.js';
import { SessionClient } from './session-client.js';

export interface AgentDaemon {
  /** Cancels running jobs (reporting them) for up to `graceMs`, then ends the session. */
  stop(graceMs: number): Promise<void>;
}

export async function startAgent(config: AgentConfig, baseLogger: Logger, makeRunner: RunnerFactory, agentVersion: string): Promise<AgentDaemon> {
  let logger = baseLogger;
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const releaseLock = await lockDataDir(config.dataDir);
  const identity = await readNodeFile(config.nodeFile).catch(async (err: unknown) => {
    await releaseLock();
    throw err;
  });
  if (identity) {
    logger = logger.child({ node: identity.node }); // every line names the node (never the token)
    logger.info('signing in as a permanent node');
  } else if (config.certFile) {
    logger.info({ certFile: config.certFile }, 'no node file: signing in with the client certificate');
  } else {
    logger.warn(
      { nodeFile: config.nodeFile },
      'no node file: connecting as a temporary node (needs enable_authentication = false on the server; register with `scrapydd agent -g`)',
    );
  }

  const runner = makeRunner({ node: identity?.node, logger });
  // Before any job: a runner that cannot work (no Docker daemon, no image) stops the agent here.
  await runner.open().catch(async (err: unknown) => {
    await releaseLock();
    throw err;
  });
  let session: SessionClient | undefined;
  const eggs = new EggCache(join(config.dataDir, 'eggs'), () => session!.eggSource(), logger, config.requestTimeoutSeconds * 1000);
  const jobs = new JobManager({ store: new JobStore(join(config.dataDir, 'jobs')), eggs, runner, logger });
  await jobs.recover();
  session = new SessionClient({ config, identity, jobs, logger, agentVersion });
  session.start();
  logger.info(
    { servers: config.servers.map((s) => `${s.host}:${s.port}`), slots: config.slots, tags: config.tags, runner: config.runnerType },
    'scrapydd agent started',
  );

  return {
    async stop(graceMs) {
      await jobs.stop(graceMs);
      await session.stop();
      await releaseLock();
    },
  };
}

/** One agent per data directory: <dataDir>/agent.pid, taken over when its process is gone. */
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const file = join(dataDir, 'agent.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return () => rm(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && (await isAgent(pid))) {
        throw new ConfigError(`another agent (pid ${pid}) uses data_dir ${dataDir}`, { key: 'data_dir', section: 'agent' });
      }
      await rm(file, { force: true });
    }
  }
  throw new ConfigError(`cannot lock data_dir ${dataDir}`, { key: 'data_dir', section: 'agent' });
}

/** Whether `pid` is alive and (where /proc tells) an agent, not some process that reused the pid. */
async function isAgent(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
  return cmdline === undefined || cmdline.split('\0').includes('agent');
}
