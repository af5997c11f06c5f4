/**
 * Builds a project egg with the configured Python's setuptools (`setup.py clean -a
 * bdist_egg`), writing a temporary setup.py when the project has none, and leaves the
 * project directory as it found it.
 */
import { copyFile, mkdtemp, readdir, stat, writeFile } from 'node:fs/promises';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { DeployError, EXIT } from './deploy-error.js';

export interface EggBuildOptions {
  readonly projectDir: string;
  /** `[settings] default` of scrapy.cfg: the egg's `scrapy: settings` entry point. */
  readonly settingsModule: string;
  /** The distribution name of a generated setup.py. */
  readonly projectName: string;
  readonly python: string;
  /** Absolute path the egg is written to. */
  readonly outFile: string;
  readonly progress: (line: string) => void;
}

export interface BuiltEgg {
  readonly file: string;
  readonly sizeBytes: number;
  /** False when a setup.py was written for the build (and removed). */
  readonly ownSetupPy: boolean;
}

/** Lines of build output shown when the build fails. */
const OUTPUT_TAIL_LINES = 25;

export async function buildEgg(opts: EggBuildOptions): Promise<BuiltEgg> {
  await checkSetuptools(opts.python);
  const setupPy = join(opts.projectDir, 'setup.py');
  const ownSetupPy = existsSync(setupPy);
  const before = new Set(leftoverCandidates(opts.projectDir));
  const tempDir = await mkdtemp(join(tmpdir(), 'scrapydd-egg-'));
  const cleanup = () => {
    if (!ownSetupPy) rmSync(setupPy, { force: true });
    for (const path of leftoverCandidates(opts.projectDir)) {
      if (!before.has(path)) rmSync(path, { recursive: true, force: true });
    }
    rmSync(tempDir, { recursive: true, force: true });
  };
  // Ctrl-C during the build must not leave the temporary setup.py behind either.
  const onSignal = (signal: NodeJS.Signals) => {
    cleanup();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    if (!ownSetupPy) {
      checkSettingsPackage(opts);
      await writeFile(setupPy, generatedSetupPy(opts.projectName, opts.settingsModule));
    }
    opts.progress(`building the egg with ${opts.python} (${ownSetupPy ? "the project's setup.py" : 'a temporary setup.py'})`);
    const build = await execa(opts.python, ['setup.py', 'clean', '-a', 'bdist_egg', '-d', tempDir], {
      cwd: opts.projectDir,
      stdin: 'ignore',
      all: true,
      reject: false,
    });
    if (build.exitCode !== 0) {
      throw new DeployError(`building the egg failed (exit code ${build.exitCode ?? build.signal}):\n${tail(build.all ?? '')}`, EXIT.build);
    }
    const eggs = (await readdir(tempDir)).filter((name) => name.endsWith('.egg'));
    if (eggs.length !== 1) {
      throw new DeployError(`building the egg made ${eggs.length} eggs instead of one:\n${tail(build.all ?? '')}`, EXIT.build);
    }
    await copyFile(join(tempDir, eggs[0]!), opts.outFile);
    return { file: opts.outFile, sizeBytes: (await stat(opts.outFile)).size, ownSetupPy };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    cleanup();
  }
}

async function checkSetuptools(python: string): Promise<void> {
  let check;
  try {
    check = await execa(python, ['-c', 'import setuptools'], { stdin: 'ignore', all: true, reject: false });
  } catch (err) {
    throw new DeployError(`cannot run ${python}: ${(err as Error).message} (give --python or set SCRAPYDD_RUNNER_PYTHON)`, EXIT.build);
  }
  if (check.failed && check.exitCode === undefined) {
    const reason = (check as { code?: string }).code === 'ENOENT' ? 'not found' : check.shortMessage;
    throw new DeployError(`cannot run ${python}: ${reason} (give --python or set SCRAPYDD_RUNNER_PYTHON)`, EXIT.build);
  }
  if (check.exitCode !== 0) {
    throw new DeployError(
      `${python} cannot import setuptools, which builds eggs (install python3-setuptools or pip install setuptools):\n${tail(check.all ?? '', 3)}`,
      EXIT.build,
    );
  }
}

/** A generated setup.py packs find_packages(); the settings module's package must be one of them. */
function checkSettingsPackage(opts: EggBuildOptions): void {
  const top = opts.settingsModule.split('.')[0]!;
  if (!existsSync(join(opts.projectDir, top, '__init__.py'))) {
    throw new DeployError(
      `the settings module ${opts.settingsModule} is not in a package of ${opts.projectDir} (no ${top}/__init__.py); ` +
        'add it, or give the project its own setup.py',
      EXIT.build,
    );
  }
}

function generatedSetupPy(projectName: string, settingsModule: string): string {
  // JSON string literals are valid Python string literals for these [A-Za-z0-9_.-] names.
  return [
    '# Written by `scrapydd package` for one build and removed afterwards.',
    'from setuptools import find_packages, setup',
    '',
    'setup(',
    `    name=${JSON.stringify(projectName)},`,
    "    version='1.0',",
    '    packages=find_packages(),',
    `    entry_points={'scrapy': [${JSON.stringify(`settings = ${settingsModule}`)}]},`,
    ')',
    '',
  ].join('\n');
}

/** What a bdist_egg build may leave behind: build/ and *.egg-info in the project dir or one level down (src/ layouts). */
function leftoverCandidates(projectDir: string): string[] {
  const found: string[] = [];
  const scan = (dir: string, depth: number) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const path = join(dir, entry.name);
      if (entry.name.endsWith('.egg-info') || (depth === 0 && entry.name === 'build')) found.push(path);
      else if (depth === 0 && !entry.name.startsWith('.')) scan(path, 1);
    }
  };
  scan(projectDir, 0);
  return found;
}

function tail(output: string, lines = OUTPUT_TAIL_LINES): string {
  const all = output.trimEnd().split(/\r?\n/);
  const shown = all.slice(-lines).map((line) => `  ${line}`).join('\n');
  return all.length > lines ? `  ...\n${shown}` : shown;
}
