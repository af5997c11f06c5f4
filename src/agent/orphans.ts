/** Kills a job process left behind by an earlier agent run — only when /proc shows it still works in that job's directory. */
import { readFile, readlink } from 'node:fs/promises';
import type { Logger } from 'pino';

/** True when `pid` is alive and its working directory or command line points into `dir` (Linux /proc). */
async function belongsTo(pid: number, dir: string): Promise<boolean> {
  try {
    const cwd = await readlink(`/proc/${pid}/cwd`);
    if (cwd === dir || cwd.startsWith(`${dir}/`)) return true;
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    return cmdline.some((arg) => arg === dir || arg.startsWith(`${dir}/`));
  } catch {
    return false; // gone, or not ours to inspect
  }
}

export async function killOrphan(pid: number, dir: string, logger: Logger): Promise<void> {
  if (!Number.isInteger(pid) || pid <= 1 || !(await belongsTo(pid, dir))) return;
  try {
    process.kill(-pid, 'SIGKILL'); // its process group, when the runner made it a group leader
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      return;
    }
  }
  logger.warn({ pid, dir }, 'killed a job process left by an earlier agent run');
}
