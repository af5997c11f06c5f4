/** Job process: runs one crawl (`scrapydd_runner.py crawl`) in its own process group and streams its log, items and outcome. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { runnerScriptPath } from '../../runner/spider-lister.js';
import { jobOutcome, type JobState, type StopReason } from './job-outcome.js';
import { LineJournal } from './line-journal.js';

export { readLines } from './line-journal.js';

export interface JobSpec {
  /** projects/{p}/spiders/{s}/jobs/{j} */
  job: string;
  eggPath: string;
  spider: string;
  /** Spider arguments (scrapy crawl -a). */
  args: Record<string, string>;
  /** Scrapy settings (scrapy crawl -s), over the project's. */
  settings: Record<string, string>;
  /** The Python to run (the job's venv python, see ensureVenv). */
  python: string;
  /** The job's directory: the crawl's cwd and HOME, holds log.txt and items.jl. */
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

export interface RunningJob {
  /** The runner's pid, also its process group id. */
  readonly pid: number;
  /** Stops the job: `signal` (default INT: Scrapy's graceful stop) to its process group, SIGKILL after `graceSeconds` (default spec.cancelGraceSeconds). */
  cancel(signal?: 'INT' | 'TERM' | 'KILL', graceSeconds?: number): void;
  /** SIGKILL to the process group at once. */
  kill(): void;
  /** Resolves once the process group is gone and every line is written and handed on. */
  readonly done: Promise<JobResult>;
}

export const LOG_FILE = 'log.txt';
export const ITEMS_FILE = 'items.jl';

/** After the runner exits: how long leftovers (escaped from the group) may hold the pipes open. */
const PIPE_DRAIN_MS = 5000;
const GROUP_GONE_MS = 2000;
const MAX_STATS_CHARS = 16 * 1024 * 1024;

/** Starts the crawl; rejects if the runner cannot be started at all (bad python, unwritable workDir). */
export async function startJob(spec: JobSpec, events: JobEvents): Promise<RunningJob> {
  const argv = runnerArgs(spec);
  const workDir = resolve(spec.workDir);
  await mkdir(workDir, { recursive: true });
  const log = await LineJournal.create(join(workDir, LOG_FILE), (lines) => events.onLog(lines));
  const items = await LineJournal.create(join(workDir, ITEMS_FILE), (lines) => events.onItems(lines));
  let child: ChildProcess;
  try {
    child = spawn(spec.python.includes('/') ? resolve(spec.python) : spec.python, argv, {
      cwd: workDir,
      // Spider code is third-party code: a clean environment, never the agent's secrets.
      env: {
        PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
        HOME: workDir,
        LANG: 'C.UTF-8',
        TMPDIR: workDir,
        PYTHONIOENCODING: 'utf-8',
        PYTHONUNBUFFERED: '1',
        PYTHONDONTWRITEBYTECODE: '1',
        ...spec.env,
      },
      // stdin: never written, kept open; its EOF tells the runner the agent is gone.
      // stderr: the log; fd 3: items; fd 4: final stats (see scrapydd_runner.py).
      stdio: ['pipe', 'ignore', 'pipe', 'pipe', 'pipe'],
      // Own process group: signals reach whatever project code spawned too.
      detached: true,
    });
    await new Promise<void>((ok, fail) => {
      child.once('spawn', ok);
      child.once('error', fail);
    });
  } catch (err) {
    await Promise.allSettled([log.discard(), items.discard()]);
    throw new Error(`cannot start the crawl of ${spec.job} with ${spec.python}: ${(err as Error).message}`, { cause: err });
  }
  return new JobProcess(spec, child, log, items);
}

function runnerArgs(spec: JobSpec): string[] {
  const pairs = (flag: string, values: Record<string, string>) =>
    Object.entries(values).map(([key, value]) => {
      if (!key || key.includes('=')) throw new Error(`${flag} name ${JSON.stringify(key)} is empty or contains '='`);
      // --flag=k=v: a value starting with '-' cannot be taken for an option.
      return `--${flag}=${key}=${value}`;
    });
  const egg = isAbsolute(spec.eggPath) ? spec.eggPath : resolve(spec.eggPath);
  return [
    runnerScriptPath(),
    'crawl',
    `--egg=${egg}`,
    `--spider=${spec.spider}`,
    ...pairs('arg', spec.args),
    ...pairs('setting', spec.settings),
  ];
}

class JobProcess implements RunningJob {
  readonly pid: number;
  readonly done: Promise<JobResult>;
  #stopReason: StopReason | undefined;
  #exited = false;
  #killAt = Infinity;
  #killTimer: NodeJS.Timeout | undefined;
  #timeoutTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly spec: JobSpec,
    child: ChildProcess,
    log: LineJournal,
    items: LineJournal,
  ) {
    this.pid = child.pid!;
    child.on('error', () => {}); // after 'spawn' only signalling could fail, and we signal the group
    child.stdin!.on('error', () => {});
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) =>
      child.once('exit', (code, signal) => ok({ code, signal })),
    );
    const streams = [child.stdio[2], child.stdio[3], child.stdio[4]] as Readable[];
    const outputs = Promise.allSettled([log.consume(streams[0]!), items.consume(streams[1]!), readAll(streams[2]!)]);
    if (spec.timeoutSeconds > 0) {
      this.#timeoutTimer = setTimeout(() => this.#stop('timeout', 'INT', spec.cancelGraceSeconds), spec.timeoutSeconds * 1000);
    }
    this.done = this.#finish(child, exited, streams, outputs, log, items);
  }

  cancel(signal: 'INT' | 'TERM' | 'KILL' = 'INT', graceSeconds = this.spec.cancelGraceSeconds): void {
    this.#stop('cancelled', signal, graceSeconds);
  }

  kill(): void {
    this.#stop('cancelled', 'KILL', 0);
  }

  #stop(reason: StopReason, signal: 'INT' | 'TERM' | 'KILL', graceSeconds: number): void {
    if (this.#exited) return; // it finished on its own: nothing to stop, nothing to blame
    this.#stopReason ??= reason; // a timeout stays a timeout if a cancel follows
    signalGroup(this.pid, `SIG${signal}`);
    if (signal === 'KILL') return;
    // Every stop may bring the SIGKILL forward, none pushes it back.
    const at = Date.now() + Math.max(0, graceSeconds) * 1000;
    if (at >= this.#killAt) return;
    this.#killAt = at;
    clearTimeout(this.#killTimer);
    this.#killTimer = setTimeout(() => signalGroup(this.pid, 'SIGKILL'), at - Date.now());
  }

  async #finish(
    child: ChildProcess,
    exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
    streams: Readable[],
    outputs: Promise<PromiseSettledResult<unknown>[]>,
    log: LineJournal,
    items: LineJournal,
  ): Promise<JobResult> {
    const { code, signal } = await exited;
    this.#exited = true;
    clearTimeout(this.#timeoutTimer);
    clearTimeout(this.#killTimer);
    child.stdin!.destroy();
    // The runner is gone; whatever project code left in its group dies with it.
    signalGroup(this.pid, 'SIGKILL');
    const drainTimer = setTimeout(() => {
      for (const stream of streams) stream.destroy(); // held open by a process that left the group
    }, PIPE_DRAIN_MS);
    const [logDone, itemsDone, statsRead] = await outputs;
    clearTimeout(drainTimer);
    await groupGone(this.pid);
    for (const settled of [logDone, itemsDone]) if (settled!.status === 'rejected') throw settled.reason;

    const statsText = statsRead!.status === 'fulfilled' ? String(statsRead.value).trim() : '';
    const stats = parseStats(statsText);
    const outcome = jobOutcome({ exitCode: code, signal, stats, stopReason: this.#stopReason });
    return {
      ...outcome,
      exitCode: code ?? -(osConstants.signals[signal as NodeJS.Signals] ?? 0),
      statsJson: stats ? statsText : '{}',
      logLineCount: log.lineCount,
      itemCount: items.lineCount,
    };
  }
}

function parseStats(text: string): Record<string, unknown> | undefined {
  if (!text) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function readAll(stream: Readable): Promise<string> {
  let text = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    if (text.length < MAX_STATS_CHARS) text += chunk;
  });
  stream.on('error', () => {});
  return new Promise((ok) => stream.once('close', () => ok(text)));
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** Waits (briefly) until no live process is left in the group. */
async function groupGone(pgid: number): Promise<void> {
  const deadline = Date.now() + GROUP_GONE_MS;
  while ((await groupAlive(pgid)) && Date.now() < deadline) await delay(10);
}

/**
 * Whether a process of the group still runs. kill(-pgid, 0) also counts zombies, and killed
 * leftovers (orphans) stay zombies for good under a PID 1 that does not reap (containers
 * without an init): on Linux, /proc tells the living from the dead.
 */
export async function groupAlive(pgid: number): Promise<boolean> {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  } catch {
    return true;
  }
  for (const pid of pids) {
    let stat: string;
    try {
      stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') return true;
  }
  return false;
}
