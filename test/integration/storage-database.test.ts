/**
 * The storage layer against real SQLite and PostgreSQL: migrations,
 * concurrent starts, snowflake worker id leases, int64 ids, transactions.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import pg from 'pg';
import { CreateProjectRequest, ProjectServiceClient } from '../../gen/scrapydd/v1/project.js';
import { parseDatabaseUrl } from '../../src/config/database-url.js';
import { openDatabase, type Db } from '../../src/storage/database.js';
import { migrations } from '../../src/storage/migrations/index.js';
import { findUserById, findUserByName, insertUser } from '../../src/storage/users-repo.js';
import { leaseWorkerId, type WorkerIdLease } from '../../src/storage/worker-id.js';
import { createTestDatabase, testDatabaseKinds, type TestDatabase } from '../support/databases.js';
import { addUser, auth, unary } from '../support/grpc-client.js';
import { basic, startTestServer, type TestServer } from '../support/server-process.js';

const WORKER_LOCK_NAMESPACE = 0x5c7a; // src/storage/worker-id.ts
const MIGRATION_NAMES = migrations.map((M) => new M().name);

async function open(db: TestDatabase): Promise<Db> {
  return openDatabase(parseDatabaseUrl(db.url));
}

/** Rows of schema_migrations as [name, timestamp], whatever the driver's integer type. */
async function appliedMigrations(db: Db): Promise<[string, number][]> {
  const rows = await db.query<{ name: unknown; timestamp: unknown }>('SELECT name, timestamp FROM schema_migrations ORDER BY id');
  return rows.map((r) => [String(r.name), Number(r.timestamp)]);
}

const EXPECTED_MIGRATIONS: [string, number][] = MIGRATION_NAMES.map((n) => [n, Number(/\d{13}$/.exec(n)![0])]);

/** Worker id advisory locks held in `database` (pg_try_advisory_lock(int, int) shows as objsubid 2). */
async function workerLocks(url: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const res = await client.query<{ objid: string }>(
      `SELECT objid::text AS objid FROM pg_locks
       WHERE locktype = 'advisory' AND objsubid = 2 AND classid = $1 AND granted
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
       ORDER BY objid`,
      [WORKER_LOCK_NAMESPACE],
    );
    return res.rows.map((r) => Number(r.objid)).sort((a, b) => a - b); // SQL sorted the text
  } finally {
    await client.end();
  }
}

const user = (id: string, username: string) => ({ id, username, passwordHash: 'scrypt$x', admin: false });

for (const kind of testDatabaseKinds()) {
  describe(`storage on ${kind}`, () => {
    let tdb: TestDatabase;
    let db: Db;

    before(async () => {
      tdb = await createTestDatabase(kind);
      db = await open(tdb);
    });

    after(async () => {
      await db?.close();
      await tdb?.drop();
    });

    it('runs every migration once, and opening again runs none', async () => {
      assert.ok(EXPECTED_MIGRATIONS.length > 0);
      assert.deepEqual(await appliedMigrations(db), EXPECTED_MIGRATIONS);
      await db.close();
      db = await open(tdb);
      assert.deepEqual(await appliedMigrations(db), EXPECTED_MIGRATIONS);
      const second = await open(tdb);
      try {
        assert.deepEqual(await appliedMigrations(second), EXPECTED_MIGRATIONS);
      } finally {
        await second.close();
      }
      // The schema is there and usable.
      assert.deepEqual(await db.query('SELECT COUNT(*) AS n FROM users').then((r) => Number(r[0]!.n)), 0);
    });

    it('stores and returns int64 ids exactly, beyond 2^53', async () => {
      for (const [id, name] of [
        ['9007199254740993', 'above-2-53'],
        ['9223372036854775807', 'int64-max'],
        ['1', 'one'],
      ] as const) {
        const inserted = await insertUser(db, user(id, name));
        assert.equal(inserted.id, id);
        assert.equal(inserted.username, name);
        assert.equal((await findUserById(db, id))?.username, name);
        assert.equal((await findUserByName(db, name))?.id, id);
      }
      // 2^53 + 1 is not 2^53: a lossy read would find this row under the wrong id.
      assert.equal(await findUserById(db, '9007199254740992'), undefined);
      const raw = await db.query<{ id: unknown }>('SELECT id FROM users WHERE username = ?', ['above-2-53']);
      assert.equal(String(raw[0]!.id), '9007199254740993');
      assert.notEqual(typeof raw[0]!.id, 'number');
    });

    it('rolls a transaction back when it throws', async () => {
      const boom = new Error('boom');
      await assert.rejects(
        db.transaction(async (tx) => {
          await insertUser(tx, user('424242', 'rolled-back'));
          assert.equal((await findUserByName(tx, 'rolled-back'))?.id, '424242'); // visible inside
          throw boom;
        }),
        (err) => err === boom,
      );
      assert.equal(await findUserByName(db, 'rolled-back'), undefined);
      assert.equal(await findUserById(db, '424242'), undefined);

      // A failing statement rolls back the statements before it too.
      await assert.rejects(
        db.transaction(async (tx) => {
          await insertUser(tx, user('434343', 'also-rolled-back'));
          await tx.query('INSERT INTO no_such_table (x) VALUES (1)');
        }),
      );
      assert.equal(await findUserByName(db, 'also-rolled-back'), undefined);

      // And the database is usable afterwards: a committed transaction sticks.
      const committed = await db.transaction(async (tx) => insertUser(tx, user('444444', 'committed')));
      assert.equal(committed.id, '444444');
      assert.equal((await findUserByName(db, 'committed'))?.id, '444444');
    });

    it('runs 20 concurrent read-increment-write transactions without losing an update', async () => {
      await db.query('CREATE TABLE test_counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)');
      await db.query('INSERT INTO test_counter (id, n) VALUES (1, 0)');
      // SQLite serialises transactions itself; PostgreSQL needs the row lock.
      const select = `SELECT n FROM test_counter WHERE id = 1${kind === 'postgres' ? ' FOR UPDATE' : ''}`;
      const seen = await Promise.all(
        Array.from({ length: 20 }, () =>
          db.transaction(async (tx) => {
            const n = Number((await tx.query<{ n: unknown }>(select))[0]!.n);
            await new Promise((resolve) => setImmediate(resolve)); // let the others run if they can
            await tx.query('UPDATE test_counter SET n = ? WHERE id = 1', [n + 1]);
            return n;
          }),
        ),
      );
      assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i));
      assert.equal(Number((await db.query<{ n: unknown }>('SELECT n FROM test_counter WHERE id = 1'))[0]!.n), 20);
    });

    if (kind === 'sqlite') {
      it('does not let a plain query see a transaction in progress', async () => {
        await db.query('CREATE TABLE test_visibility (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
        await db.query(`INSERT INTO test_visibility (id, v) VALUES (1, 'before')`);
        const events: string[] = [];
        let inside!: () => void;
        const entered = new Promise<void>((resolve) => (inside = resolve));
        let release!: () => void;
        const released = new Promise<void>((resolve) => (release = resolve));
        const tx = db.transaction(async (t) => {
          await t.query(`UPDATE test_visibility SET v = 'uncommitted' WHERE id = 1`);
          inside();
          await released;
          await t.query(`UPDATE test_visibility SET v = 'after' WHERE id = 1`);
          events.push('commit');
        });
        await entered;
        const read = db.query<{ v: string }>('SELECT v FROM test_visibility WHERE id = 1').then((r) => {
          events.push(`read ${r[0]!.v}`);
        });
        for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve)); // give the read every chance
        release();
        await Promise.all([tx, read]);
        assert.deepEqual(events, ['commit', 'read after']);
      });
    }

    if (kind === 'postgres') {
      it('leases different snowflake worker ids and releases them', async () => {
        const other = await open(tdb); // a second "server" on the same database
        const leases: WorkerIdLease[] = [];
        try {
          leases.push(await leaseWorkerId(db), await leaseWorkerId(other), await leaseWorkerId(db));
          const ids = leases.map((l) => l.workerId);
          assert.equal(new Set(ids).size, 3, `ids ${ids.join(', ')}`);
          for (const id of ids) assert.ok(Number.isInteger(id) && id >= 0 && id <= 1023, `id ${id}`);
          assert.deepEqual(await workerLocks(tdb.url), [...ids].sort((a, b) => a - b));
          await leases.shift()!.release();
          assert.deepEqual(await workerLocks(tdb.url), ids.slice(1).sort((a, b) => a - b));
        } finally {
          for (const l of leases) await l.release();
          await other.close();
        }
        assert.deepEqual(await workerLocks(tdb.url), []);
      });

      it('migrates once when two processes open a fresh database at the same time', async () => {
        const fresh = await createTestDatabase('postgres');
        try {
          const opened = await Promise.all([open(fresh), open(fresh), open(fresh)]);
          try {
            for (const d of opened) assert.deepEqual(await appliedMigrations(d), EXPECTED_MIGRATIONS);
          } finally {
            for (const d of opened) await d.close();
          }
        } finally {
          await fresh.drop();
        }
      });

      describe('two servers started together on one fresh database', () => {
        let fresh: TestDatabase;
        const servers: TestServer[] = [];

        before(async () => {
          fresh = await createTestDatabase('postgres');
        });

        after(async () => {
          for (const s of servers) await s.stop();
          await fresh?.drop();
        });

        it('both come up, hold different worker ids and serve the same data', async () => {
          const started = await Promise.allSettled([startTestServer({ databaseUrl: fresh.url }), startTestServer({ databaseUrl: fresh.url })]);
          for (const r of started) if (r.status === 'fulfilled') servers.push(r.value);
          for (const r of started) if (r.status === 'rejected') throw r.reason;
          for (const s of servers) assert.ok(s.logs.some((l) => l.includes('scrapydd server listening on 127.0.0.1:')));
          assert.equal((await workerLocks(fresh.url)).length, 2);

          const [a, b] = servers as [TestServer, TestServer];
          await addUser(a, 'admin', 'admin-password-1', true);
          const client = new ProjectServiceClient(b.address, grpc.credentials.createInsecure());
          try {
            await unary(client.createProject.bind(client), CreateProjectRequest.fromPartial({ projectId: 'shared' }), auth(basic('admin', 'admin-password-1')));
          } finally {
            client.close();
          }
          for (const s of servers) {
            const res = await fetch(`${s.baseUrl}/listprojects.json`, {
              headers: { authorization: basic('admin', 'admin-password-1') },
              signal: AbortSignal.timeout(30_000),
            });
            assert.equal(res.status, 200);
            const body = (await res.json()) as { status: string; projects: string[] };
            assert.equal(body.status, 'ok');
            assert.deepEqual(body.projects, ['shared']);
          }
        });
      });
    }
  });
}
