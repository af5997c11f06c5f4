/** What the agent needs from the job runner (src/agent/runner/), as one injectable object. */
import { readLines, startJob, type JobEvents, type JobResult, type JobSpec, type RunningJob } from './runner/job-process.js';
import { ensureVenv, type EnsureVenvOptions } from './runner/venv-cache.js';

export interface AgentRunner {
  startJob(spec: JobSpec, events: JobEvents): Promise<RunningJob>;
  readLines(file: string, fromLine: number, maxLines: number): Promise<string[]>;
  ensureVenv(opts: EnsureVenvOptions): Promise<string>;
}

export const venvRunner: AgentRunner = { startJob, readLines, ensureVenv };

export type { EnsureVenvOptions, JobEvents, JobResult, JobSpec, RunningJob };
