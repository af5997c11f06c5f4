/**
 * A job's log and items as text, read from its /logs/… and /items/… URLs
 * with the session cookie (they are not JSON, so not through api.get).
 */
import { fetchText } from './client';

export interface LogPart {
  firstLine: number;
  lines: string[];
  /** Lines stored so far (X-Log-Line-Count). */
  lineCount: number;
}

async function getText(url: string, signal?: AbortSignal): Promise<{ text: string; headers: Headers }> {
  const { res, text } = await fetchText(url, { signal });
  return { text, headers: res.headers };
}

function splitLines(text: string): string[] {
  if (text === '') return [];
  return (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n');
}

/** Up to `maxLines` log lines from `firstLine` on. */
export async function readLog(logUrl: string, firstLine: number, maxLines: number, signal?: AbortSignal): Promise<LogPart> {
  const { text, headers } = await getText(`${logUrl}?first_line=${firstLine}&max_lines=${maxLines}`, signal);
  return { firstLine, lines: splitLines(text), lineCount: Number(headers.get('x-log-line-count') ?? 0) };
}

/** The first `max` items, parsed (an item that is not an object shows under "value"). */
export async function readItems(itemsUrl: string, max: number, signal?: AbortSignal): Promise<Record<string, unknown>[]> {
  const { text } = await getText(`${itemsUrl}?max_items=${max}`, signal);
  return splitLines(text).map((line) => {
    try {
      const v = JSON.parse(line) as unknown;
      return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : { value: v };
    } catch {
      return { value: line };
    }
  });
}
