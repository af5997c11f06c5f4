/** Job process: runs one crawl (`scrapydd_runner.py crawl`) in its own process group and streams its log, items and outcome. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { runnerScriptPath } from '../../runner/spider-lister.js';
import { crawlArguments } from './crawl-command.js';
import { jobResult } from './job-outcome.js';
import { ITEMS_FILE, LOG_FILE, type CrawlSpec, type JobEvents, type JobResult, type RunningJob, type StopSignal } from './job-types.js';
import { LineJournal } from './line-journal.js';
import { StopControl } from './stop-control.js';

export { readLines } from './line-journal.js';

/** A crawl run by a Python on this host (the job's venv python, see ensureVenv). */
export interface JobSpec extends CrawlSpec {
  python: string;
}

export { ITEMS_FILE, LOG_FILE, type JobEvents, type JobResult, type RunningJob };

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
  return [runnerScriptPath(), ...crawlArguments(spec, resolve(spec.eggPath))];
}

class JobProcess implements RunningJob {
  readonly pid: number;
  readonly done: Promise<JobResult>;
  readonly #stop: StopControl;

  constructor(
    spec: JobSpec,
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
    this.#stop = new StopControl((signal) => signalGroup(this.pid, `SIG${signal}`), spec.timeoutSeconds, spec.cancelGraceSeconds);
    this.done = this.#finish(child, exited, streams, outputs, log, items);
  }

  cancel(signal?: StopSignal, graceSeconds?: number): void {
    this.#stop.cancel(signal, graceSeconds);
  }

  kill(): void {
    this.#stop.kill();
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
    this.#stop.exited();
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

    return jobResult({
      exitCode: code,
      signal,
      statsText: statsRead!.status === 'fulfilled' ? String(statsRead.value) : '',
      stopReason: this.#stop.reason,
      logLineCount: log.lineCount,
      itemCount: items.lineCount,
    });
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
