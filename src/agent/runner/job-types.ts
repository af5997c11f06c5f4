/** One crawl job as every runner sees it: what to run, the events it streams, how it can be stopped, what it ends with. */
import type { JobState } from './job-outcome.js';

export interface CrawlSpec {
  /** projects/{p}/spiders/{s}/jobs/{j} */
  job: string;
  eggPath: string;
  spider: string;
  /** Spider arguments (scrapy crawl -a). */
  args: Record<string, string>;
  /** Scrapy settings (scrapy crawl -s), over the project's. */
  settings: Record<string, string>;
  /** The job's directory: holds log.txt and items.jl; the crawl works in it (or, in a container, in its crawl/). */
  workDir: string;
  /** Stop the job after this long (0: never); it then ends CANCELLED with closeReason 'timeout'. */
  timeoutSeconds: number;
  /** SIGKILL this long after the stop signal (cancel or timeout) if it is still running. */
  cancelGraceSeconds: number;
  /** Added to the crawl's (otherwise clean) environment. */
  env?: NodeJS.ProcessEnv;
}

export interface JobEvents {
  /** Log lines, in order, each already in <workDir>/log.txt; must not throw. */
  onLog(lines: string[]): void;
  /** Items (one JSON object each), in order, each already in <workDir>/items.jl; must not throw. */
  onItems(items: string[]): void;
}

export interface JobResult {
  state: JobState;
  /** The runner's exit code, or minus the signal number that killed it (-9 for SIGKILL). */
  exitCode: number;
  warning: boolean;
  closeReason: string;
  /** Final Scrapy stats as a JSON object ('{}' when the crawl reported none). */
  statsJson: string;
  /** Lines in log.txt / items.jl: everything handed to onLog / onItems. */
  logLineCount: number;
  itemCount: number;
}

export type StopSignal = 'INT' | 'TERM' | 'KILL';

export interface RunningJob {
  /** The crawl's main process on this host (for a venv job also its process group id; 0 if unknown). */
  readonly pid: number;
  /** Stops the job: `signal` (default INT: Scrapy's graceful stop), SIGKILL after `graceSeconds` (default spec.cancelGraceSeconds). */
  cancel(signal?: StopSignal, graceSeconds?: number): void;
  /** SIGKILL at once. */
  kill(): void;
  /** Resolves once the crawl is gone and every line is written and handed on. */
  readonly done: Promise<JobResult>;
}

export const LOG_FILE = 'log.txt';
export const ITEMS_FILE = 'items.jl';
