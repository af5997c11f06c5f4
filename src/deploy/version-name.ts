/**
 * The version id of a deploy: given (-v or the target's `version`), from git
 * (`r<commits>-<short hash>`, `-dirty` with uncommitted changes), or a UTC timestamp.
 */
import { execa } from 'execa';
import { DeployError, EXIT } from './deploy-error.js';

/** The server's rule for version ids (src/domain names): checked here to fail before building. */
const VERSION_ID = /^[A-Za-z0-9_.-]{1,100}$/;

export interface ResolvedVersion {
  readonly version: string;
  readonly source: 'given' | 'git' | 'timestamp';
}

/**
 * `requested` is -v (or the target's `version`): a literal id, or `GIT` to require a git
 * version. Without it: git when `dir` is inside a git work tree with a commit, else the time.
 */
export async function resolveVersion(requested: string | undefined, dir: string, now = new Date()): Promise<ResolvedVersion> {
  if (requested === 'GIT') {
    const git = await gitVersion(dir);
    if (git === undefined) throw new DeployError(`-v GIT: ${dir} is not in a git work tree with a commit`, EXIT.usage);
    return { version: git, source: 'git' };
  }
  if (requested === 'HG') {
    throw new DeployError('-v HG is not supported; give -v GIT or a version id', EXIT.usage);
  }
  if (requested !== undefined) {
    checkVersionId(requested);
    return { version: requested, source: 'given' };
  }
  const git = await gitVersion(dir);
  if (git !== undefined) return { version: git, source: 'git' };
  return { version: timestampVersion(now), source: 'timestamp' };
}

export function checkVersionId(version: string): void {
  if (!VERSION_ID.test(version) || /^\.+$/.test(version)) {
    throw new DeployError(
      `version '${version}' is not valid: use 1 to 100 of A-Z a-z 0-9 _ . - (and not only dots)`,
      EXIT.usage,
    );
  }
}

/** `YYYYMMDDTHHMMSS` in UTC: sorts in upload order and is a valid version id. */
export function timestampVersion(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '');
}

/** `r<commit count>-<short hash>` plus `-dirty` when files under `dir` differ from HEAD (untracked included). */
async function gitVersion(dir: string): Promise<string | undefined> {
  const git = (args: string[]) => execa('git', args, { cwd: dir, stdin: 'ignore', reject: false, env: { GIT_OPTIONAL_LOCKS: '0' } });
  const inside = await git(['rev-parse', '--is-inside-work-tree']).catch(() => undefined); // no git installed
  if (inside === undefined || inside.exitCode !== 0 || inside.stdout.trim() !== 'true') return undefined;
  const count = await git(['rev-list', '--count', 'HEAD']);
  const hash = await git(['rev-parse', '--short', 'HEAD']);
  if (count.exitCode !== 0 || hash.exitCode !== 0) return undefined; // no commit yet
  const status = await git(['status', '--porcelain', '--', '.']);
  const dirty = status.exitCode === 0 && status.stdout.trim() !== '';
  return `r${count.stdout.trim()}-${hash.stdout.trim()}${dirty ? '-dirty' : ''}`;
}
