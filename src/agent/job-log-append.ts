/** Appends the agent's own lines (a failed setup) to a job's log.txt and counts the file's lines. */
import { appendFile, readFile } from 'node:fs/promises';

/** Appends `lines` as whole lines (closing a torn last line first); returns how many lines the file has now. */
export async function appendLogLines(file: string, lines: readonly string[]): Promise<number> {
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const prefix = text !== '' && !text.endsWith('\n') ? '\n' : '';
  const clean = lines.map((l) => l.replace(/\r?\n/g, ' '));
  await appendFile(file, `${prefix}${clean.join('\n')}\n`, { mode: 0o600 });
  return countLines(text + prefix) + clean.length;
}

function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
