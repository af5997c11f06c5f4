/**
 * Spider lister: runs the Python runner (`scrapydd_runner.py list`) against an egg, with
 * runner_python or in a container of the runner image (runner_type = docker), and turns its
 * one-line JSON answer, a timeout or a crash into spider names or domain errors.
 */
import { access, mkdtemp, rm } from 'node:fs/promises';
import { constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { FailedPrecondition, InvalidArgument } from '../errors/domain-error.js';
import { listInContainer, type ContainerListing } from './spider-list-container.js';

interface ListingOptions {
  timeoutMs: number;
  /** Override of the runner script location (default: runnerScriptPath()). */
  runnerPath?: string;
}

export interface PythonListingOptions extends ListingOptions {
  /** Python interpreter with Scrapy installed (config: runner_python). */
  python: string;
}

export interface ContainerListingOptions extends ListingOptions {
  container: ContainerListing;
}

export type ListSpidersOptions = PythonListingOptions | ContainerListingOptions;

/** How the runner ran: its exit, its stdout (the answer), the end of its stderr. */
export interface ListingRun {
  exitCode: number | undefined;
  signal: string | undefined;
  timedOut: boolean;
  stdout: string;
  stderrTail: string;
}

/** Reasons the runner reports that blame the egg (anything else is a runner failure). */
const EGG_REASONS = new Set([
  'SETTINGS_IMPORT_FAILED',
  'SPIDER_IMPORT_FAILED',
  'NO_SCRAPY_ENTRY_POINT',
  'RUNNER_FAILED',
]);
const STDERR_TAIL_BYTES = 16 * 1024;
const EXIT_FAILED = 3;

/** Absolute path of the bundled runner; the build copies src/runner/python/ next to this module. */
export function runnerScriptPath(): string {
  return fileURLToPath(new URL('./python/scrapydd_runner.py', import.meta.url));
}

/** Names of the egg's spiders, sorted. Imports project code: only call on inspected eggs. */
export async function listSpiders(eggPath: string, opts: ListSpidersOptions): Promise<string[]> {
  const runner = opts.runnerPath ?? runnerScriptPath();
  try {
    await access(runner, constants.R_OK);
  } catch (err) {
    throw new FailedPrecondition('the scrapydd runner script is missing from this installation', {
      reason: 'RUNNER_UNAVAILABLE',
      cause: err,
    });
  }
  if ('container' in opts) {
    const run = await listInContainer(eggPath, runner, opts.container, opts.timeoutMs);
    return interpret(run, `runner image '${opts.container.image}'`, opts.timeoutMs);
  }
  // Private scratch space, also handed to Python as TMPDIR: whatever the runner or project
  // code leaves behind is removed here even when the child has to be SIGKILLed.
  const scratch = await mkdtemp(join(tmpdir(), 'scrapydd-list-'));
  try {
    const run = await runPython(eggPath, runner, scratch, opts);
    return interpret(run, `runner_python ${JSON.stringify(opts.python)}`, opts.timeoutMs);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function runPython(eggPath: string, runner: string, scratch: string, opts: PythonListingOptions): Promise<ListingRun> {
  const child = execa(opts.python, [runner, 'list', '--egg', eggPath], {
    cwd: scratch,
    // Project code runs here: give it a clean environment, never the server's secrets.
    extendEnv: false,
    env: {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: scratch,
      LANG: 'C.UTF-8',
      TMPDIR: scratch,
      PYTHONIOENCODING: 'utf-8',
      PYTHONUNBUFFERED: '1',
      PYTHONDONTWRITEBYTECODE: '1',
    },
    stdin: 'ignore',
    // Own process group, so a timeout kills whatever project code spawned too (a grandchild
    // holding our pipes open would otherwise keep this promise pending).
    detached: true,
    reject: false,
    buffer: { stdout: true, stderr: false },
    maxBuffer: { stdout: 1024 * 1024 },
  });

  let stderrTail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL_BYTES);
  });

  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child.pid);
  }, opts.timeoutMs);
  // Once Python is gone, anything left in its group (daemons started by project code) only
  // holds our stderr pipe open; kill it right away rather than waiting for the timeout.
  child.once('exit', () => killGroup(child.pid));
  const result = await child;
  clearTimeout(timer);
  if (!timedOut && result.exitCode === undefined && result.signal === undefined) {
    // Never started: ENOENT, EACCES, not an executable...
    throw new FailedPrecondition(
      `runner_python ${JSON.stringify(opts.python)} cannot be run: ${result.originalMessage ?? result.shortMessage}`,
      { reason: 'RUNNER_UNAVAILABLE', cause: result.cause ?? result },
    );
  }
  const stdout = typeof result.stdout === 'string' ? result.stdout : '';
  return { exitCode: result.exitCode, signal: result.signal, timedOut, stdout, stderrTail };
}

/** The spiders of a run that answered, or the domain error its answer (or its lack of one) means. */
function interpret(result: ListingRun, runnerName: string, timeoutMs: number): string[] {
  // Operators' diagnostics travel as the cause; clients only ever see the message.
  const cause = new Error(`runner stderr (tail):\n${result.stderrTail}`);
  if (result.timedOut) {
    throw new InvalidArgument(`listing spiders timed out after ${timeoutMs / 1000} s`, {
      reason: 'SPIDER_LIST_TIMEOUT',
      field: 'egg',
      cause,
    });
  }
  const answer = parseAnswer(result.stdout);
  if (result.exitCode === 0 && answer && 'spiders' in answer) return answer.spiders;
  if (result.exitCode === EXIT_FAILED && answer && 'error' in answer) {
    const { reason, message } = answer.error;
    if (reason === 'SCRAPY_NOT_INSTALLED') {
      throw new FailedPrecondition(`${runnerName} cannot import scrapy: ${message}`, { reason, cause });
    }
    if (EGG_REASONS.has(reason)) throw new InvalidArgument(message, { reason, field: 'egg', cause });
  }
  // No (valid) answer: the process died abnormally. The runner catches every exception, so
  // this is almost always project code (os._exit, a crashing C extension, the OOM killer).
  const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
  throw new InvalidArgument(`listing spiders failed: the runner ${how} without a valid result`, {
    reason: 'RUNNER_FAILED',
    field: 'egg',
    cause,
  });
}

type Answer = { spiders: string[] } | { error: { reason: string; message: string } };

/** The runner's answer: stdout must be exactly one well-formed JSON line (strict on purpose,
 * so anything leaking onto stdout shows up as a failure instead of going unnoticed). */
function parseAnswer(stdout: string): Answer | undefined {
  const text = stdout.trim();
  if (text.includes('\n')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (Array.isArray(v.spiders) && v.spiders.every((s) => typeof s === 'string')) {
    return { spiders: v.spiders as string[] };
  }
  const e = v.error as Record<string, unknown> | undefined;
  if (e && typeof e.reason === 'string' && typeof e.message === 'string') {
    return { error: { reason: e.reason, message: e.message } };
  }
  return undefined;
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is already gone.
  }
}
