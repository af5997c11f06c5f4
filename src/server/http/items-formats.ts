/**
 * A job's items as a download: JSON lines (as stored), one JSON array, or
 * CSV (RFC 4180: header from the union of the items' keys in order of first
 * appearance, nested values JSON-encoded, CRLF line ends). Each writer gets
 * the stored item strings chunk by chunk and never holds more than a chunk.
 */

export type ItemsFormat = 'jsonl' | 'json' | 'csv';

export const ITEMS_FORMATS: readonly ItemsFormat[] = ['jsonl', 'json', 'csv'];

export const ITEMS_CONTENT_TYPES: Record<ItemsFormat, string> = {
  jsonl: 'application/x-ndjson; charset=utf-8',
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8; header=present',
};

export const ITEMS_EXTENSIONS: Record<ItemsFormat, string> = { jsonl: 'jl', json: 'json', csv: 'csv' };

/** An item as a flat record: objects as they are, anything else under "value". */
export function itemRecord(raw: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return { value: raw };
  }
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : { value: v };
}

/** One CSV field: strings as they are, null/undefined empty, other values as JSON; quoted when needed. */
export function csvField(v: unknown): string {
  const text = v === null || v === undefined ? '' : typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvRow(fields: readonly unknown[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}

/** The keys of a chunk of items, added to `keys` in order of first appearance. */
export function collectKeys(keys: Set<string>, items: readonly string[]): void {
  for (const raw of items) for (const k of Object.keys(itemRecord(raw))) keys.add(k);
}

/** A `Content-Disposition` for a download named `name` (ASCII fallback plus RFC 5987 UTF-8). */
export function attachment(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}
