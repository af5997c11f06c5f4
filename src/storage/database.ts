/**
 * The database: a TypeORM DataSource (better-sqlite3 or pg) that runs our
 * migrations, plus the `Db` interface the rest of the code queries through
 * with explicit SQL and `?` placeholders.
 */
import { DataSource } from 'typeorm';
import type pg from 'pg';
import type BetterSqlite3 from 'better-sqlite3';
import type { DatabaseUrl } from '../config/database-url.js';
import { type DatabaseKind, toPostgresPlaceholders } from './sql-dialect.js';
import { migrations } from './migrations/index.js';
import { AsyncMutex } from './async-mutex.js';

export type Row = Record<string, unknown>;

/** What queries run on: the database itself or one transaction. */
export interface Queryable {
  readonly kind: DatabaseKind;
  query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]>;
}

export interface TransactionOptions {
  /**
   * The commit need not wait for the WAL flush (PostgreSQL's
   * synchronous_commit = off): for writes a crash may lose because they are
   * sent again (agents re-send log lines and items from the server's counts).
   */
  asyncCommit?: boolean;
}

export interface Db extends Queryable {
  /** Runs `fn` in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>, options?: TransactionOptions): Promise<T>;
  readonly dataSource: DataSource;
  close(): Promise<void>;
}

/** Key of the advisory lock that serialises migrations between servers. */
const MIGRATION_LOCK_KEY = 0x5c7a9dd1;

export async function openDatabase(url: DatabaseUrl): Promise<Db> {
  const db = url.kind === 'sqlite' ? await openSqlite(url.path) : await openPostgres(url.url);
  return db;
}

async function openSqlite(path: string): Promise<Db> {
  const dataSource = new DataSource({
    type: 'better-sqlite3',
    database: path,
    migrations,
    migrationsTableName: 'schema_migrations',
    logging: false,
    enableWAL: path !== ':memory:',
    timeout: 10_000,
    prepareDatabase: (raw: BetterSqlite3.Database) => {
      raw.pragma('foreign_keys = ON');
      raw.pragma('busy_timeout = 10000');
    },
  });
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'each' });
  const raw = (dataSource.driver as unknown as { databaseConnection: BetterSqlite3.Database }).databaseConnection;
  return new SqliteDb(dataSource, raw);
}

async function openPostgres(url: string): Promise<Db> {
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    migrations,
    migrationsTableName: 'schema_migrations',
    logging: false,
    poolSize: 10,
  });
  await dataSource.initialize();
  // Two servers starting at once: the second waits here until the first has
  // migrated, then finds nothing left to run.
  const runner = dataSource.createQueryRunner();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await runner.release();
  }
  return new PostgresDb(dataSource);
}

/**
 * SQLite through better-sqlite3 directly: statements return int64 as bigint
 * (snowflake ids exceed 2^53), and one mutex keeps async transactions from
 * interleaving on the single connection.
 */
class SqliteDb implements Db {
  readonly kind = 'sqlite' as const;
  private readonly mutex = new AsyncMutex();
  private readonly statements = new Map<string, BetterSqlite3.Statement>();

  constructor(readonly dataSource: DataSource, private readonly raw: BetterSqlite3.Database) {}

  private run<T>(sql: string, params: readonly unknown[]): T[] {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.raw.prepare(sql);
      if (stmt.reader) stmt.safeIntegers(true);
      if (this.statements.size > 500) this.statements.clear();
      this.statements.set(sql, stmt);
    }
    const values = params.map(sqliteValue);
    if (stmt.reader) return stmt.all(...values) as T[];
    stmt.run(...values);
    return [];
  }

  query<T extends Row = Row>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return this.mutex.run(async () => this.run<T>(sql, params));
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.mutex.run(async () => {
      this.raw.exec('BEGIN IMMEDIATE');
      let open = true;
      const tx: Queryable = {
        kind: 'sqlite',
        query: async <R extends Row = Row>(sql: string, params: readonly unknown[] = []) => {
          if (!open) throw new Error('transaction already finished');
          return this.run<R>(sql, params);
        },
      };
      try {
        const result = await fn(tx);
        this.raw.exec('COMMIT');
        return result;
      } catch (err) {
        if (this.raw.inTransaction) this.raw.exec('ROLLBACK');
        throw err;
      } finally {
        open = false;
      }
    });
  }

  async close(): Promise<void> {
    await this.mutex.run(async () => {
      this.statements.clear();
      if (this.dataSource.isInitialized) await this.dataSource.destroy();
    });
  }
}

function sqliteValue(v: unknown): unknown {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof Date) return v.toISOString();
  if (v === undefined) return null;
  return v;
}

/**
 * PostgreSQL through TypeORM's pg pool directly: one round trip per query
 * (a TypeORM QueryRunner per statement costs more than the statement), and
 * transactions on one pooled client. Statements run often are prepared
 * (named): most of the time of a small query is PostgreSQL planning it,
 * which a prepared statement does once per connection. Batched statements
 * come in many lengths, so a statement is prepared from its second use on,
 * and at most MAX_PREPARED of them (prepared statements live as long as
 * their connection).
 */
const MAX_PREPARED = 512;
const MAX_COUNTED = 10_000;

class PostgresDb implements Db {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly prepared = new Map<string, { text: string; name: string }>();
  private readonly seen = new Map<string, number>();

  constructor(readonly dataSource: DataSource) {
    this.pool = (dataSource.driver as unknown as { master: pg.Pool }).master;
  }

  private statement(sql: string, params: readonly unknown[]): pg.QueryConfig {
    const values = [...params];
    const known = this.prepared.get(sql);
    if (known) return { name: known.name, text: known.text, values };
    const text = toPostgresPlaceholders(sql);
    if (this.prepared.size < MAX_PREPARED) {
      const uses = (this.seen.get(sql) ?? 0) + 1;
      if (uses >= 2) {
        this.seen.delete(sql);
        const s = { text, name: `scrapydd_${this.prepared.size}` };
        this.prepared.set(sql, s);
        return { ...s, values };
      }
      if (this.seen.size >= MAX_COUNTED) this.seen.clear();
      this.seen.set(sql, uses);
    }
    return { text, values };
  }

  async query<T extends Row = Row>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    const result = await this.pool.query(this.statement(sql, params));
    return (result.rows ?? []) as T[];
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      // Not awaited before the first statement: the client sends that one the
      // moment BEGIN is answered, without a turn of our event loop between.
      const begun = client.query(options.asyncCommit ? 'BEGIN; SET LOCAL synchronous_commit = off' : 'BEGIN');
      begun.catch(() => undefined); // seen below, by whoever awaits it first
      const tx: Queryable = {
        kind: 'postgres',
        query: async <R extends Row = Row>(sql: string, params: readonly unknown[] = []) => {
          const result = client.query(this.statement(sql, params));
          result.catch(() => undefined); // awaited below, after BEGIN
          await begun;
          return ((await result).rows ?? []) as R[];
        },
      };
      const value = await fn(tx);
      await begun;
      await client.query('COMMIT');
      return value;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw err;
    } finally {
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
