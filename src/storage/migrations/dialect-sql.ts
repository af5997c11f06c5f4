/**
 * Migrations are written once in PostgreSQL's DDL; SQLite gets the same with
 * TEXT timestamps (ISO-8601 UTC) and INTEGER booleans.
 */
import type { QueryRunner } from 'typeorm';

export function dialectSql(q: QueryRunner, sql: string): string {
  if (q.connection.options.type === 'postgres') return sql;
  return sql
    .replace(/\bTIMESTAMPTZ\b/g, 'TEXT')
    .replace(/\bBOOLEAN NOT NULL DEFAULT FALSE\b/g, 'INTEGER NOT NULL DEFAULT 0')
    .replace(/\bBOOLEAN NOT NULL DEFAULT TRUE\b/g, 'INTEGER NOT NULL DEFAULT 1')
    .replace(/\bBIGINT PRIMARY KEY\b/g, 'INTEGER PRIMARY KEY');
}
