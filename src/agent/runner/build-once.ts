/**
 * Build once: a cache of directories, one per key, each built by one process under a lock and
 * reused by every later caller. A marker file, written last, says a directory is complete.
 */
import { access, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { acquireLock } from './file-lock.js';

/**
 * `<cacheDir>/<key>`, built with `build(dir)` unless it is complete already. A failed build
 * leaves nothing behind; so does one whose builder died (the next caller starts over).
 */
export async function buildOnce(
  cacheDir: string,
  key: string,
  marker: string,
  build: (dir: string) => Promise<unknown>,
): Promise<string> {
  const root = resolve(cacheDir);
  const dir = join(root, key);
  const markerFile = join(dir, marker);
  if (await exists(markerFile)) return dir;

  await mkdir(root, { recursive: true });
  const lock = await acquireLock(join(root, `${key}.lock`));
  try {
    if (await exists(markerFile)) return dir; // built while we waited
    await rm(dir, { recursive: true, force: true }); // leftovers of a builder that died
    let description: unknown;
    try {
      description = await build(dir);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    // Last, atomically: its presence means the directory is complete.
    await writeFile(`${markerFile}.tmp`, `${JSON.stringify(description ?? {}, null, 2)}\n`);
    await rename(`${markerFile}.tmp`, markerFile);
    return dir;
  } finally {
    await lock.release();
  }
}

/** Requirements become pip arguments: one starting with '-' would be an option (--index-url, -r). */
export function checkRequirement(requirement: string): void {
  if (requirement.startsWith('-')) throw new Error(`invalid requirement ${JSON.stringify(requirement)}: options are not allowed`);
}

/** The spider's extra requirements as a cache key part: trimmed, deduplicated, sorted, checked. */
export function normalizeRequirements(requirements: readonly string[]): string[] {
  const out = [...new Set(requirements.map((r) => r.trim()).filter(Boolean))].sort();
  out.forEach(checkRequirement);
  return out;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
