/** The venv runner (runner_type = venv): a cached virtualenv per egg and requirements, the crawl a child process of the agent. */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { AgentRunner } from '../runner-port.js';
import { killOrphan } from '../orphans.js';
import { readLines, startJob } from './job-process.js';
import { ensureVenv } from './venv-cache.js';

export interface VenvRunnerOptions {
  /** runner_python: the base of every virtualenv. */
  python: string;
  dataDir: string;
  logger: Logger;
}

export function createVenvRunner(o: VenvRunnerOptions): AgentRunner {
  return {
    open: async () => {},
    async prepare(request) {
      const python = await ensureVenv({
        python: o.python,
        cacheDir: join(o.dataDir, 'venvs'),
        eggPath: request.eggPath,
        eggSha256: request.eggSha256,
        extraRequirements: request.extraRequirements,
        log: (line) => request.log(line),
      });
      return { description: python, start: (spec, events) => startJob({ ...spec, python }, events) };
    },
    readLines,
    stopLeftover: (pid, jobDir) => killOrphan(pid, jobDir, o.logger),
  };
}
