/** Per-job directories under <dataDir>/jobs/<job key> and their state.json (pid, counters, finished result), written atomically. */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobResult } from './runner/job-process.js';

/** What a job ended with, as reported in JobFinished: the runner's result. */
export type FinishedResult = JobResult;

export interface JobStateFile {
  /** projects/{p}/spiders/{s}/jobs/{j} */
  job: string;
  pid?: number;
  /** What the server acknowledged at the last resume, then what was written to a stream since. */
  sentLogLines: number;
  sentItems: number;
  /** Set once the job ended; until the server confirms it, the job is listed in hello.running_jobs. */
  result?: FinishedResult;
  /** JobFinished was written to a stream (the server may still not have applied it). */
  reported?: boolean;
}

export const LOG_FILE = 'log.txt';
export const ITEMS_FILE = 'items.jl';
const STATE_FILE = 'state.json';

export class JobStore {
  constructor(readonly root: string) {}

  dirOf(key: string): string {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(key)) throw new Error(`job key '${key}' cannot be a directory name`);
    return join(this.root, key);
  }

  async create(key: string): Promise<string> {
    const dir = this.dirOf(key);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return dir;
  }

  async save(key: string, state: JobStateFile): Promise<void> {
    const dir = this.dirOf(key);
    const tmp = join(dir, `.${STATE_FILE}.${randomBytes(4).toString('hex')}`);
    const handle = await open(tmp, 'wx', 0o600);
    try {
      await handle.writeFile(JSON.stringify(state));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, join(dir, STATE_FILE));
  }

  async load(key: string): Promise<JobStateFile | undefined> {
    try {
      const state = JSON.parse(await readFile(join(this.dirOf(key), STATE_FILE), 'utf8')) as JobStateFile;
      return typeof state.job === 'string' ? state : undefined;
    } catch {
      return undefined;
    }
  }

  /** Keys of every job directory on disk. */
  async keys(): Promise<string[]> {
    try {
      const entries = await readdir(this.root, { withFileTypes: true });
      return entries.filter((e) => e.isDirectory() && /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(e.name)).map((e) => e.name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  async remove(key: string): Promise<void> {
    await rm(this.dirOf(key), { recursive: true, force: true });
  }
}
