/** Venv cache: one virtualenv per (egg, extra requirements), built once under a lock and reused by every job that needs it. */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { acquireLock } from './file-lock.js';
import { readEggRequirements } from './egg-requirements.js';

export interface EnsureVenvOptions {
  /** The base Python (runner_python); the venv sees its site-packages (Debian's Scrapy). */
  python: string;
  cacheDir: string;
  eggPath: string;
  /** Hex SHA-256 of the egg: the cache key, with the python and the extra requirements. */
  eggSha256: string;
  /** The spider's extra requirements (pip requirement specifiers). */
  extraRequirements: string[];
  /** Added to the environment of venv and pip (e.g. PIP_INDEX_URL, PIP_FIND_LINKS, proxies). */
  env?: NodeJS.ProcessEnv;
  /** Receives the output of venv and pip, line by line. */
  log?: (line: string) => void;
}

const MARKER = '.scrapydd-venv.json';
/** From the agent's own environment, pip and proxy configuration carry over to pip. */
const INHERITED_ENV = /^(PIP_.*|https?_proxy|no_proxy|all_proxy)$/i;

/** The venv's python for this egg and these extra requirements, building the venv if needed. */
export async function ensureVenv(opts: EnsureVenvOptions): Promise<string> {
  const extra = [...new Set(opts.extraRequirements.map((r) => r.trim()).filter(Boolean))].sort();
  extra.forEach(checkRequirement);
  const key = createHash('sha256')
    .update(JSON.stringify({ python: opts.python, egg: opts.eggSha256.toLowerCase(), extra }))
    .digest('hex')
    .slice(0, 32);
  const cacheDir = resolve(opts.cacheDir);
  const dir = join(cacheDir, key);
  const python = join(dir, 'bin', 'python');
  if (await exists(join(dir, MARKER))) return python;

  await mkdir(cacheDir, { recursive: true });
  const lock = await acquireLock(join(cacheDir, `${key}.lock`));
  try {
    if (await exists(join(dir, MARKER))) return python; // built while we waited
    await rm(dir, { recursive: true, force: true }); // leftovers of a builder that died
    try {
      await build(dir, python, extra, opts);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    return python;
  } finally {
    await lock.release();
  }
}

async function build(dir: string, python: string, extra: string[], opts: EnsureVenvOptions): Promise<void> {
  const log = opts.log ?? (() => {});
  const env = buildEnv(opts.env);
  const fromEgg = await readEggRequirements(opts.eggPath);
  fromEgg.forEach(checkRequirement);
  const requirements = [...new Set([...fromEgg, ...extra])];

  log(`scrapydd: creating virtualenv ${dir}`);
  // Without pip: 0.05 s instead of 3 s, and the base Python's pip (visible through the system
  // site-packages) installs into the venv just as well. ensurepip only if there is none.
  await run(opts.python, ['-m', 'venv', '--system-site-packages', '--without-pip', dir], env, log, 'creating the virtualenv');
  if (requirements.length > 0) {
    if (!(await succeeds(python, ['-m', 'pip', '--version'], env))) {
      await run(python, ['-m', 'ensurepip', '--default-pip'], env, log, 'installing pip');
    }
    log(`scrapydd: installing ${requirements.join(' ')}`);
    await run(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', ...requirements], env, log, 'pip install');
  }
  // Last, atomically: its presence means the venv is complete.
  const marker = join(dir, MARKER);
  await writeFile(`${marker}.tmp`, `${JSON.stringify({ python: opts.python, egg: opts.eggSha256, requirements }, null, 2)}\n`);
  await rename(`${marker}.tmp`, marker);
}

/** Requirements become pip arguments: one starting with '-' would be an option (--index-url, -r). */
function checkRequirement(requirement: string): void {
  if (requirement.startsWith('-')) throw new Error(`invalid requirement ${JSON.stringify(requirement)}: options are not allowed`);
}

function buildEnv(extra: NodeJS.ProcessEnv | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME,
    LANG: 'C.UTF-8',
    PYTHONIOENCODING: 'utf-8',
  };
  for (const [name, value] of Object.entries(process.env)) if (INHERITED_ENV.test(name)) env[name] = value;
  return { ...env, ...extra };
}

/** Runs a command, its output to `log`; throws with its last error line if it fails. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv, log: (line: string) => void, what: string): Promise<void> {
  return new Promise((ok, fail) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    const onLine = (line: string) => {
      log(line);
      tail.push(line);
      if (tail.length > 200) tail.shift();
    };
    const flushes = [child.stdout, child.stderr].map((stream) => splitLines(stream, onLine));
    child.once('error', (err) => fail(new Error(`${what} failed: ${err.message}`, { cause: err })));
    // 'close' comes after both pipes closed: every line is in.
    child.once('close', (code, signal) => {
      flushes.forEach((flush) => flush());
      if (code === 0) return ok();
      const lines = tail.map((l) => l.trim()).filter(Boolean);
      const errors = lines.filter((l) => l.startsWith('ERROR:'));
      const last = errors.at(-1) ?? lines.at(-1) ?? (signal ? `killed by ${signal}` : `exit code ${code}`);
      fail(new Error(`${what} failed: ${last}`));
    });
  });
}

function succeeds(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<boolean> {
  return new Promise((ok) => {
    const child = spawn(command, args, { env, stdio: 'ignore' });
    child.once('error', () => ok(false));
    child.once('close', (code) => ok(code === 0));
  });
}

/** Feeds `stream`'s lines to onLine; the returned function passes on a last unterminated line. */
function splitLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): () => void {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (partial + chunk).split(/\r?\n/);
    partial = parts.pop() ?? '';
    parts.forEach(onLine);
  });
  return () => {
    if (partial) onLine(partial);
    partial = '';
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
