/**
 * The mail outbox on real SQLite and PostgreSQL: leases give each mail one
 * sender at a time (concurrent claimers on PostgreSQL's pool never share a
 * mail), a lease that ran out is claimed again, only the lease holder
 * records an outcome, retries wait for their time, and a mail outlives the
 * job it is about.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseDatabaseUrl } from '../../src/config/database-url.js';
import { openDatabase, type Db } from '../../src/storage/database.js';
import * as outbox from '../../src/storage/mail-outbox-repo.js';
import { createTestDatabase, testDatabaseKinds, type TestDatabase } from '../support/databases.js';
import { addJob, ids, seedProject } from '../support/job-rows.js';

const LEASE_MS = 60_000;
const later = (ms: number) => new Date(Date.now() + ms);

for (const kind of testDatabaseKinds()) {
  describe(`mail outbox (${kind})`, () => {
    let tdb: TestDatabase;
    let db: Db;
    let jobId: string;

    before(async () => {
      tdb = await createTestDatabase(kind);
      db = await openDatabase(parseDatabaseUrl(tdb.url));
      const { projectId, spiderIds } = await seedProject(db, 'mailbox', ['s']);
      jobId = await addJob(db, projectId, spiderIds.get('s')!);
    });
    after(async () => {
      await db?.close();
      await tdb?.drop();
    });

    /** Queues `n` mails about the seeded job; their ids. */
    async function queue(n: number): Promise<string[]> {
      const mails = Array.from({ length: n }, (_, i) => ({ id: ids.next(), jobId, recipients: ['a@example.com'], subject: `s${i}`, body: `b${i}` }));
      await outbox.insertMails(db, mails);
      return mails.map((m) => m.id);
    }
    /** Claims everything due until nothing is left (outcomes recorded as sent). */
    async function drain(owner: string): Promise<void> {
      for (;;) {
        const got = await outbox.claimDueMails(db, owner, new Date(), LEASE_MS, 100);
        if (got.length === 0) return;
        for (const m of got) await outbox.markSent(db, m.id, owner, new Date());
      }
    }

    it('leases a due mail to one claimer; another gets it only when the lease has run out, and only the holder records the outcome', async () => {
      await drain('cleanup');
      const [id] = await queue(1);
      const first = await outbox.claimDueMails(db, 'A', new Date(), LEASE_MS, 10);
      assert.deepEqual(first.map((m) => [m.id, m.attempts, m.subject, m.recipients]), [[id, 1, 's0', ['a@example.com']]]);
      assert.deepEqual(await outbox.claimDueMails(db, 'B', new Date(), LEASE_MS, 10), [], 'leased to A');
      // A stalls past its lease: B takes the mail over, and A can no longer record anything.
      const second = await outbox.claimDueMails(db, 'B', later(LEASE_MS + 1000), LEASE_MS, 10);
      assert.deepEqual(second.map((m) => [m.id, m.attempts]), [[id, 2]]);
      assert.equal(await outbox.markSent(db, id!, 'A', new Date()), false);
      assert.equal(await outbox.markRetry(db, id!, 'A', 'late', new Date()), false);
      assert.equal(await outbox.markSent(db, id!, 'B', new Date()), true);
      const [row] = (await outbox.mailsOfJob(db, jobId)).filter((m) => m.id === id);
      assert.equal(row!.state, 'SENT');
      assert.deepEqual(await outbox.claimDueMails(db, 'C', later(10 * LEASE_MS), LEASE_MS, 10), [], 'a sent mail is never claimed again');
    });

    it('a retried mail waits for its time; a given-up one keeps its reason and is never claimed again', async () => {
      const [retried, failed] = await queue(2);
      const claimed = await outbox.claimDueMails(db, 'A', new Date(), LEASE_MS, 10);
      assert.deepEqual(claimed.map((m) => m.id), [retried, failed]);
      const at = later(30_000);
      assert.equal(await outbox.markRetry(db, retried!, 'A', 'ECONNREFUSED', at), true);
      assert.equal(await outbox.markFailed(db, failed!, 'A', '550 no such user'), true);
      assert.equal((await outbox.nextDueTime(db))?.getTime(), at.getTime());
      assert.deepEqual(await outbox.claimDueMails(db, 'B', new Date(), LEASE_MS, 10), []);
      const again = await outbox.claimDueMails(db, 'B', later(31_000), LEASE_MS, 10);
      assert.deepEqual(again.map((m) => [m.id, m.attempts]), [[retried, 2]]);
      const rows = new Map((await outbox.mailsOfJob(db, jobId)).map((m) => [m.id, m]));
      assert.equal(rows.get(retried!)!.lastError, 'ECONNREFUSED');
      assert.deepEqual([rows.get(failed!)!.state, rows.get(failed!)!.lastError], ['FAILED', '550 no such user']);
      await outbox.markSent(db, retried!, 'B', new Date());
      assert.equal(await outbox.nextDueTime(db), undefined);
    });

    it('claimers racing for 60 mails each get their own: every mail claimed exactly once', async () => {
      const queued = await queue(60);
      const claimedBy = new Map<string, string[]>();
      await Promise.all(
        ['A', 'B', 'C', 'D', 'E'].map(async (owner) => {
          for (;;) {
            const got = await outbox.claimDueMails(db, owner, new Date(), LEASE_MS, 4);
            if (got.length === 0) return;
            for (const m of got) claimedBy.set(m.id, [...(claimedBy.get(m.id) ?? []), owner]);
          }
        }),
      );
      assert.deepEqual([...claimedBy.keys()].sort(), [...queued].sort());
      for (const [id, owners] of claimedBy) assert.equal(owners.length, 1, `${id} claimed by ${owners.join(', ')}`);
    });

    it('a mail outlives the job it is about (pruning must not lose it)', async () => {
      await db.query('DELETE FROM jobs WHERE id = ?', [jobId]);
      assert.ok((await outbox.mailsOfJob(db, jobId)).length > 0);
      assert.ok((await outbox.deleteFinishedMails(db, later(1000))) > 0, 'old sent and failed mails are deleted');
      assert.ok((await outbox.mailsOfJob(db, jobId)).every((m) => m.state === 'PENDING'));
    });
  });
}
