/** File lock: an O_EXCL lock file between processes sharing a local directory, with stale-lock recovery. */
import { randomUUID } from 'node:crypto';
import { link, open, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';

export interface FileLock {
  release(): Promise<void>;
}

interface Owner {
  pid: number;
  host: string;
  token: string;
}

const POLL_MS = 100;
/** The holder touches the lock this often; one untouched for STALE_MS belongs to a dead holder. */
const REFRESH_MS = 5_000;
const STALE_MS = 30_000;

/**
 * Waits for and takes the lock at `path`. A lock is stale when its holder, on this host, is no
 * longer running, or when it has not been touched for STALE_MS (a holder on another host, or
 * a reused pid); a stale lock is broken and taken over.
 */
export async function acquireLock(path: string): Promise<FileLock> {
  const me: Owner = { pid: process.pid, host: hostname(), token: randomUUID() };
  for (;;) {
    if (await tryCreate(path, me)) {
      const refresh = setInterval(() => {
        const now = new Date();
        utimes(path, now, now).catch(() => {});
      }, REFRESH_MS);
      refresh.unref();
      return {
        release: async () => {
          clearInterval(refresh);
          if ((await readOwner(path))?.token === me.token) await rm(path, { force: true });
        },
      };
    }
    const owner = await readOwner(path);
    if (await isStale(path, owner)) await breakLock(path, owner);
    else await delay(POLL_MS);
  }
}

async function tryCreate(path: string, me: Owner): Promise<boolean> {
  let file;
  try {
    file = await open(path, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    await file.writeFile(JSON.stringify(me));
  } finally {
    await file.close();
  }
  return true;
}

async function readOwner(path: string): Promise<Owner | undefined> {
  try {
    const value = JSON.parse(await readFile(path, 'utf8')) as Partial<Owner>;
    if (typeof value.pid === 'number' && typeof value.host === 'string' && typeof value.token === 'string') return value as Owner;
  } catch {
    // Gone, or just created and not written yet: judged by its age alone.
  }
  return undefined;
}

async function isStale(path: string, owner: Owner | undefined): Promise<boolean> {
  if (owner && owner.host === hostname() && !isRunning(owner.pid)) return true;
  try {
    return Date.now() - (await stat(path)).mtimeMs > STALE_MS;
  } catch {
    return false; // released meanwhile: try again
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the stale lock, and only it: another waiter may have broken it and taken the lock
 * already. Renaming is atomic, so whoever renames the file we judged stale removes it; if we
 * moved someone's fresh lock instead, we put it back.
 */
async function breakLock(path: string, stale: Owner | undefined): Promise<void> {
  const moved = `${path}.${randomUUID()}.stale`;
  try {
    await rename(path, moved);
  } catch {
    return; // gone already
  }
  const owner = await readOwner(moved);
  if (owner && owner.token !== stale?.token) {
    // A live lock: put it back (link fails rather than replace a lock taken meanwhile, which
    // would take a stale lock and three contenders at the same instant).
    await link(moved, path).catch(() => {});
  }
  await rm(moved, { force: true });
}
