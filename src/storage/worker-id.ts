/**
 * Snowflake worker ids must differ between processes that write to one
 * database. On PostgreSQL each server holds a session advisory lock on its
 * worker id for as long as it runs; on SQLite (one server, plus short CLI
 * commands) a random id makes a clash vanishingly unlikely.
 */
import { randomInt } from 'node:crypto';
import type { QueryRunner } from 'typeorm';
import { MAX_WORKER_ID } from '../ids/snowflake.js';
import type { Db } from './database.js';

const LOCK_NAMESPACE = 0x5c7a; // first key of pg_try_advisory_lock(int, int)

export interface WorkerIdLease {
  readonly workerId: number;
  release(): Promise<void>;
}

export async function leaseWorkerId(db: Db): Promise<WorkerIdLease> {
  if (db.kind === 'sqlite') return { workerId: randomInt(0, MAX_WORKER_ID + 1), release: async () => undefined };
  const runner: QueryRunner = db.dataSource.createQueryRunner();
  await runner.connect();
  const start = randomInt(0, MAX_WORKER_ID + 1);
  for (let i = 0; i <= MAX_WORKER_ID; i++) {
    const id = (start + i) % (MAX_WORKER_ID + 1);
    const rows = (await runner.query('SELECT pg_try_advisory_lock($1, $2) AS ok', [LOCK_NAMESPACE, id])) as { ok: boolean }[];
    if (rows[0]?.ok) {
      return {
        workerId: id,
        release: async () => {
          await runner.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_NAMESPACE, id]).catch(() => undefined);
          await runner.release();
        },
      };
    }
  }
  await runner.release();
  throw new Error(`all ${MAX_WORKER_ID + 1} snowflake worker ids are taken: too many servers on one database`);
}

/**
 * How many processes hold a worker id on this PostgreSQL database now:
 * servers (and CLI commands while they run). One means this server is alone.
 */
export async function countWorkerIdHolders(db: Db): Promise<number> {
  if (db.kind === 'sqlite') return 1;
  const rows = await db.query(
    `SELECT COUNT(*) AS n FROM pg_locks
     WHERE locktype = 'advisory' AND classid = ? AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    [LOCK_NAMESPACE],
  );
  return Number(rows[0]?.n ?? 0);
}
