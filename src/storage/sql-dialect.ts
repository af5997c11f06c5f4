/** Placeholder and value conversions between our `?` SQL and each driver. */

export type DatabaseKind = 'sqlite' | 'postgres';

/** Rewrites `?` placeholders to PostgreSQL's `$1, $2, ...` (our SQL has no `?` literals). */
export function toPostgresPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** A database value as a decimal string id (int64 ids arrive as bigint, number or string). */
export function idString(v: unknown): string {
  if (typeof v === 'bigint' || typeof v === 'number' || typeof v === 'string') return String(v);
  throw new TypeError(`not an id: ${String(v)}`);
}

/** A nullable id. */
export function optionalId(v: unknown): string | undefined {
  return v === null || v === undefined ? undefined : idString(v);
}

/** A small integer column (counts, sizes below 2^53). */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint' || typeof v === 'string') return Number(v);
  if (v === null || v === undefined) return 0;
  throw new TypeError(`not a number: ${String(v)}`);
}

/** Booleans: PostgreSQL gives booleans, SQLite gives 0/1 (as bigint with safe integers). */
export function toBool(v: unknown): boolean {
  return v === true || v === 1 || v === 1n || v === '1' || v === 't';
}

/** Timestamps are stored as timestamptz (PostgreSQL) or ISO-8601 UTC text (SQLite). */
export function toIso(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'string') return new Date(v).toISOString();
  throw new TypeError(`not a timestamp: ${String(v)}`);
}

/** The current time as a SQL parameter usable by both databases. */
export function nowParam(date: Date = new Date()): string {
  return date.toISOString();
}

/** A boolean as a SQL parameter (SQLite has no boolean type). */
export function boolParam(kind: DatabaseKind, v: boolean): boolean | number {
  return kind === 'postgres' ? v : v ? 1 : 0;
}
