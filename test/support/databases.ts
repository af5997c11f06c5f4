/**
 * Databases for tests: every test file gets its own fresh SQLite file and
 * its own PostgreSQL database (dropped afterwards). The suite runs against
 * both; SCRAPYDD_TEST_DATABASES=sqlite (or postgres) narrows it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export type TestDatabaseKind = 'sqlite' | 'postgres';

export const PG_ADMIN_URL = process.env.SCRAPYDD_TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

export function testDatabaseKinds(): TestDatabaseKind[] {
  const wanted = (process.env.SCRAPYDD_TEST_DATABASES ?? 'sqlite,postgres').split(',').map((s) => s.trim());
  return (['sqlite', 'postgres'] as const).filter((k) => wanted.includes(k));
}

export interface TestDatabase {
  readonly kind: TestDatabaseKind;
  /** A database_url for scrapydd. */
  readonly url: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(kind: TestDatabaseKind): Promise<TestDatabase> {
  if (kind === 'sqlite') {
    const dir = await mkdtemp(join(tmpdir(), 'scrapydd-db-'));
    return { kind, url: `sqlite:///${join(dir, 'test.db')}`, drop: () => rm(dir, { recursive: true, force: true }) };
  }
  const name = `scrapydd_test_${Date.now()}_${randomBytes(4).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const admin = new URL(PG_ADMIN_URL);
  admin.pathname = `/${name}`;
  return {
    kind,
    url: admin.toString(),
    drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
