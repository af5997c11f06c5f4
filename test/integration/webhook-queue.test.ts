/**
 * Webhook deliveries in the database, without a server: queued in the
 * transaction that ends a job (not for CANCELLED; LOST too), DONE at once
 * without items; a URL change reaches deliveries not started; a deletion
 * cancels the open ones; pruning keeps a job until its delivery is finished.
 * Once per database kind.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { parseDatabaseUrl } from '../../src/config/database-url.js';
import type { Deps } from '../../src/domain/deps.js';
import { applyReports, loseJob, type FinishReport } from '../../src/domain/jobs/job-reports.js';
import { openDatabase, type Db } from '../../src/storage/database.js';
import * as jobsRepo from '../../src/storage/jobs-repo.js';
import * as webhooksRepo from '../../src/storage/webhooks-repo.js';
import { createTestDatabase, testDatabaseKinds, type TestDatabase } from '../support/databases.js';
import { addJob, claimNextJob, ids, seedProject } from '../support/job-rows.js';

const end = (state: FinishReport['state'], itemCount: number): FinishReport => ({ state, exitCode: 0, warning: false, closeReason: 'finished', statsJson: '{}', itemCount, logLineCount: 0 });

for (const kind of testDatabaseKinds()) {
  describe(`webhook delivery queue (${kind})`, () => {
    let tdb: TestDatabase;
    let db: Db;
    let deps: Deps;

    before(async () => {
      tdb = await createTestDatabase(kind);
      db = await openDatabase(parseDatabaseUrl(tdb.url));
      deps = {
        db, ids, blobs: undefined as never, logger: pino({ level: 'silent' }),
        events: { jobsQueued: () => undefined, capacityFreed: () => undefined, jobCancelRequested: () => undefined },
        settings: { jobsToKeep: 100 } as Deps['settings'],
      };
    });
    after(async () => {
      await db.close();
      await tdb.drop();
    });

    /** A job of `spiderId` run by node 1 that reported `items` items and ended `state`. */
    async function endedJob(projectId: string, spiderId: string, state: FinishReport['state'], items: number) {
      const id = await addJob(db, projectId, spiderId);
      const job = (await claimNextJob(db, { nodeId: '1', sessionId: '1', tags: [] }))!;
      assert.equal(job.id, id);
      const values = Array.from({ length: items }, (_, i) => JSON.stringify({ i }));
      await applyReports(deps, [
        ...(items ? [{ type: 'chunk' as const, nodeId: '1', key: job.key, kind: 'items' as const, firstIndex: 0, values }] : []),
        { type: 'finished', nodeId: '1', key: job.key, report: end(state, items) },
      ]);
      return job;
    }

    it('queues a delivery with the job end for SUCCEEDED, FAILED and LOST jobs, never for CANCELLED; none without a webhook', async () => {
      const { projectId, spiderIds } = await seedProject(db, 'queue', ['hooked', 'plain']);
      const hooked = spiderIds.get('hooked')!;
      await webhooksRepo.setWebhook(db, hooked, 'https://hooks.example.com/a');
      const ok = await endedJob(projectId, hooked, 'SUCCEEDED', 3);
      const failed = await endedJob(projectId, hooked, 'FAILED', 1);
      const cancelled = await endedJob(projectId, hooked, 'CANCELLED', 2);
      const empty = await endedJob(projectId, hooked, 'SUCCEEDED', 0);
      const plain = await endedJob(projectId, spiderIds.get('plain')!, 'SUCCEEDED', 1);
      await addJob(db, projectId, hooked);
      const running = (await claimNextJob(db, { nodeId: '1', sessionId: '1', tags: [] }))!;
      assert.equal(await loseJob(deps, running.id, 'agent went away'), true);

      const d = await webhooksRepo.deliveriesOfJobs(db, [ok.id, failed.id, cancelled.id, empty.id, plain.id, running.id]);
      assert.deepEqual(
        [ok, failed, cancelled, empty, plain, running].map((j) => d.get(j.id) && [d.get(j.id)!.state, d.get(j.id)!.totalItems, d.get(j.id)!.payloadUrl]),
        [
          ['PENDING', 3, 'https://hooks.example.com/a'],
          ['PENDING', 1, 'https://hooks.example.com/a'],
          undefined,
          ['DONE', 0, 'https://hooks.example.com/a'],
          undefined,
          ['DONE', 0, 'https://hooks.example.com/a'], // LOST before any item: nothing to send
        ],
      );
      const hook = (await webhooksRepo.findWebhook(db, hooked))!;
      assert.equal(hook.pendingDeliveries, 2);
    });

    it('sends deliveries not started to a new URL; deleting the webhook cancels the open ones', async () => {
      const { projectId, spiderIds } = await seedProject(db, 'change', ['s']);
      const spider = spiderIds.get('s')!;
      await webhooksRepo.setWebhook(db, spider, 'https://old.example.com/');
      const started = await endedJob(projectId, spider, 'SUCCEEDED', 2);
      const waiting = await endedJob(projectId, spider, 'SUCCEEDED', 2);
      const claimed = await webhooksRepo.claimOldestDelivery(db, spider, 'me', 10_000);
      assert.equal(claimed?.jobId, started.id);
      assert.equal(await webhooksRepo.recordDelivered(db, claimed, 'me', 0, false), true);
      await webhooksRepo.setWebhook(db, spider, 'https://new.example.com/');
      let d = await webhooksRepo.deliveriesOfJobs(db, [started.id, waiting.id]);
      assert.equal(d.get(started.id)!.payloadUrl, 'https://old.example.com/', 'a delivery under way keeps its URL');
      assert.equal(d.get(waiting.id)!.payloadUrl, 'https://new.example.com/');
      assert.equal(await webhooksRepo.claimOldestDelivery(db, spider, 'other', 10_000), undefined, 'leased to me');

      assert.equal(await webhooksRepo.deleteWebhook(db, spider), true);
      d = await webhooksRepo.deliveriesOfJobs(db, [started.id, waiting.id]);
      assert.deepEqual([d.get(started.id)!.state, d.get(waiting.id)!.state], ['CANCELLED', 'CANCELLED']);
      assert.equal(d.get(waiting.id)!.lastError, 'webhook deleted');
      assert.equal(await webhooksRepo.recordDelivered(db, claimed, 'me', 1, true), false, 'the lease holder changes nothing any more');
      assert.equal(await webhooksRepo.deleteWebhook(db, spider), false);
    });

    it('prunes a finished job only once its delivery is finished', async () => {
      const { projectId, spiderIds } = await seedProject(db, 'prune', ['s']);
      const spider = spiderIds.get('s')!;
      await webhooksRepo.setWebhook(db, spider, 'https://hooks.example.com/p');
      const old = await endedJob(projectId, spider, 'SUCCEEDED', 1);
      await webhooksRepo.deleteWebhook(db, spider); // nothing open for the next two
      await endedJob(projectId, spider, 'SUCCEEDED', 1);
      await endedJob(projectId, spider, 'SUCCEEDED', 1);
      await webhooksRepo.setWebhook(db, spider, 'https://hooks.example.com/p');
      // The old job's delivery was cancelled with the webhook: queue it again by hand, open.
      await db.query(`UPDATE webhook_deliveries SET state = 'PENDING' WHERE job_id = ?`, [old.id]);
      assert.equal(await jobsRepo.pruneFinishedJobs(db, spider, 1), 1, 'one of the two without an open delivery');
      assert.ok(await jobsRepo.findJobById(db, old.id), 'the job with an open delivery stays');
      const claimed = (await webhooksRepo.claimOldestDelivery(db, spider, 'me', 10_000))!;
      assert.equal(claimed.jobId, old.id);
      assert.equal(await webhooksRepo.recordDelivered(db, claimed, 'me', 0, true), true);
      assert.equal(await jobsRepo.pruneFinishedJobs(db, spider, 1), 1);
      assert.equal(await jobsRepo.findJobById(db, old.id), undefined, 'pruned once delivered');
    });
  });
}
