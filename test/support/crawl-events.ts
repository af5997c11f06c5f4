/**
 * Watching a crawl job in runner tests (any runner): an event collector whose `until` waits
 * with a deadline, deadlines and polls for what no event announces, and the check that
 * log.txt / items.jl hold exactly what was handed on.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobEvents, JobResult } from '../../src/agent/runner-port.js';

/** Lines in a file (0 if it does not exist yet). */
function fileLines(file: string): number {
  try {
    return readFileSync(file, 'utf8').split('\n').length - 1;
  } catch {
    return 0;
  }
}

export type Collector = ReturnType<typeof collector>;

/**
 * Collects events; `until` waits (with a deadline) for a condition re-checked on each batch.
 * With `workDir`, each callback also checks its lines were in the file before it was called.
 */
export function collector(workDir?: string) {
  const log: string[] = [];
  const items: string[] = [];
  const batchSizes: number[] = [];
  const notYetWritten: string[] = [];
  const waiters = new Set<() => void>();
  const changed = () => waiters.forEach((w) => w());
  const written = (file: string, count: number) => {
    if (workDir && fileLines(join(workDir, file)) < count) notYetWritten.push(`${file}: ${count}`);
  };
  const events: JobEvents = {
    onLog: (lines) => {
      log.push(...lines);
      written('log.txt', log.length);
      changed();
    },
    onItems: (batch) => {
      batchSizes.push(batch.length);
      items.push(...batch);
      written('items.jl', items.length);
      changed();
    },
  };
  const until = (cond: () => boolean, ms: number, what: string) =>
    new Promise<void>((ok, fail) => {
      if (cond()) return ok();
      const timer = setTimeout(() => {
        waiters.delete(check);
        fail(new Error(`timed out after ${ms} ms waiting for ${what}; last log lines:\n${log.slice(-20).join('\n')}`));
      }, ms);
      const check = () => {
        if (!cond()) return;
        clearTimeout(timer);
        waiters.delete(check);
        ok();
      };
      waiters.add(check);
    });
  return { log, items, batchSizes, notYetWritten, events, until };
}

export function deadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/** Polls `check` until it holds or `ms` pass (for states no event announces: files, processes, containers). */
export async function poll(check: () => Promise<boolean>, ms: number, what: string, everyMs = 50): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, everyMs));
  }
}

/** A poll check: whether `file` (missing: empty) contains `text`. */
export const fileHas = (file: string, text: string) => async () => (await readFile(file, 'utf8').catch(() => '')).includes(text);

/** The files hold exactly what was handed on, and the counts match them. */
export async function assertJournals(job: { workDir: string }, result: JobResult, c: Collector): Promise<void> {
  const logLines = (await readFile(join(job.workDir, 'log.txt'), 'utf8')).split('\n');
  const itemLines = (await readFile(join(job.workDir, 'items.jl'), 'utf8')).split('\n');
  assert.equal(logLines.pop(), '');
  assert.equal(itemLines.pop(), '');
  assert.deepEqual(c.log, logLines);
  assert.deepEqual(c.items, itemLines);
  assert.equal(result.logLineCount, logLines.length);
  assert.equal(result.itemCount, itemLines.length);
}
