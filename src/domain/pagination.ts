/** AIP-158 pagination: page sizes with a default and a ceiling, opaque page tokens. */
import { InvalidArgument } from '../errors/domain-error.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

export function pageSize(requested: number): number {
  if (requested < 0) throw new InvalidArgument('page_size must not be negative', { field: 'page_size' });
  if (requested === 0) return DEFAULT_PAGE_SIZE;
  return Math.min(requested, MAX_PAGE_SIZE);
}

/** A token carries the sort key of the last item returned, tied to the request it came from. */
export function encodePageToken(scope: string, after: string): string {
  return Buffer.from(JSON.stringify({ s: scope, a: after })).toString('base64url');
}

export function decodePageToken(token: string, scope: string): string | undefined {
  if (token === '') return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { s?: unknown; a?: unknown };
    if (parsed.s === scope && typeof parsed.a === 'string') return parsed.a;
  } catch {
    // fall through
  }
  throw new InvalidArgument('page_token is not valid for this request', { field: 'page_token' });
}

/** Splits a "limit + 1" query result into the page and the next token. */
export function page<T>(rows: T[], size: number, scope: string, keyOf: (row: T) => string): { items: T[]; nextPageToken: string } {
  if (rows.length <= size) return { items: rows, nextPageToken: '' };
  const items = rows.slice(0, size);
  return { items, nextPageToken: encodePageToken(scope, keyOf(items[items.length - 1]!)) };
}

/** Every item across the pages of a list call (for callers that are not paginated, like scrapyd's API). */
export async function collectAll<T>(list: (pageToken: string) => Promise<{ items: T[]; nextPageToken: string }>): Promise<T[]> {
  const items: T[] = [];
  let pageToken = '';
  do {
    const p = await list(pageToken);
    items.push(...p.items);
    pageToken = p.nextPageToken;
  } while (pageToken !== '');
  return items;
}
