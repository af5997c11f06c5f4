/**
 * What the agent needs from a runner (src/agent/runner/), as one injectable object. The job
 * manager prepares an environment for each job and starts the crawl in it, without knowing
 * whether that is a virtualenv or a container image.
 */
import type { CrawlSpec, JobEvents, JobResult, RunningJob, StopSignal } from './runner/job-types.js';

export interface AgentRunner {
  /**
   * Once at agent start, before any job: checks what the runner needs (a clear error when it
   * is missing) and clears what an earlier run of this agent left behind.
   */
  open(): Promise<void>;
  /** What the job's crawl runs in, with the egg's and the spider's requirements installed; made once, then reused. */
  prepare(request: PrepareRequest): Promise<JobEnvironment>;
  /** Lines of a job's log.txt or items.jl, for re-sending. */
  readLines(file: string, fromLine: number, maxLines: number): Promise<string[]>;
  /** A job an earlier agent run left running (the pid in its state.json): stops it if it is still there. */
  stopLeftover(pid: number, jobDir: string): Promise<void>;
}

export interface PrepareRequest {
  eggPath: string;
  /** Hex SHA-256 of the egg: part of the cache key. */
  eggSha256: string;
  /** The spider's extra requirements (pip requirement specifiers). */
  extraRequirements: string[];
  /** Receives the output of the preparation (pip), line by line; kept for the job's log if it fails. */
  log(line: string): void;
}

/** A prepared environment; opaque: all the job manager can do with it is start crawls. */
export interface JobEnvironment {
  /** For logs: the venv's python, the image. */
  readonly description: string;
  /** Starts the crawl; rejects if it cannot be started at all. */
  start(spec: CrawlSpec, events: JobEvents): Promise<RunningJob>;
}

export type { CrawlSpec, JobEvents, JobResult, RunningJob, StopSignal };
