/** Agent reports applied in batches (applyReports) on real SQLite and PostgreSQL. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { parseDatabaseUrl } from '../../src/config/database-url.js';
import type { Deps } from '../../src/domain/deps.js';
import { applyReports, type AgentReport, type FinishReport } from '../../src/domain/jobs/job-reports.js';
import { jobToProto } from '../../src/dispatch/job-to-proto.js';
import { openDatabase, type Db } from '../../src/storage/database.js';
import * as jobsRepo from '../../src/storage/jobs-repo.js';
import { createTestDatabase, testDatabaseKinds, type TestDatabase } from '../support/databases.js';
import { addJob, claimNextJob, ids, seedProject, setSpiderSettings } from '../support/job-rows.js';

const OK: FinishReport = { state: 'SUCCEEDED', exitCode: 0, warning: true, closeReason: 'finished', statsJson: '{"item_scraped_count": 1}', itemCount: 1, logLineCount: 3 };

for (const kind of testDatabaseKinds()) {
  describe(`agent reports in batches (${kind})`, () => {
    let tdb: TestDatabase;
    let db: Db;
    let deps: Deps;
    let runnable = 0;

    before(async () => {
      tdb = await createTestDatabase(kind);
      db = await openDatabase(parseDatabaseUrl(tdb.url));
      deps = {
        db, ids, blobs: undefined as never, logger: pino({ level: 'silent' }),
        events: { jobsQueued: () => undefined, capacityFreed: () => void runnable++, jobCancelRequested: () => undefined },
        settings: { jobsToKeep: 100 } as Deps['settings'],
      };
    });
    after(async () => {
      await db.close();
      await tdb.drop();
    });

    async function runningJob(spiderId: string, projectId: string, nodeId: string) {
      const id = await addJob(db, projectId, spiderId);
      const claimed = await claimNextJob(db, { nodeId, sessionId: nodeId, tags: [] });
      assert.equal(claimed?.id, id);
      return claimed!;
    }

    it("applies several sessions' starts, log lines, items and ends in one batch, in order", async () => {
      const { projectId, spiderIds } = await seedProject(db, 'batch', ['a', 'b']);
      const a = await runningJob(spiderIds.get('a')!, projectId, '1');
      const b = await runningJob(spiderIds.get('b')!, projectId, '2');
      const reports: AgentReport[] = [
        { type: 'started', nodeId: '1', key: a.key, pid: 11 },
        { type: 'chunk', nodeId: '1', key: a.key, kind: 'log', firstIndex: 0, values: ['a0', 'a1'] },
        { type: 'chunk', nodeId: '2', key: b.key, kind: 'items', firstIndex: 0, values: ['{"i":0}'] },
        { type: 'chunk', nodeId: '1', key: a.key, kind: 'log', firstIndex: 1, values: ['a1', 'a2'] }, // overlaps: a1 kept once
        { type: 'chunk', nodeId: '1', key: a.key, kind: 'log', firstIndex: 7, values: ['after a gap'] }, // dropped
        { type: 'chunk', nodeId: '1', key: b.key, kind: 'items', firstIndex: 1, values: ['{"i":"not yours"}'] },
        { type: 'finished', nodeId: '1', key: a.key, report: OK },
        { type: 'chunk', nodeId: '1', key: a.key, kind: 'log', firstIndex: 3, values: ['too late'] },
        { type: 'chunk', nodeId: '2', key: b.key, kind: 'items', firstIndex: 1, values: ['{"i":1}'] },
      ];
      const before = runnable;
      const outcomes = await applyReports(deps, reports);
      assert.deepEqual(outcomes.map((o) => o.ok), [true, true, true, true, true, false, true, false, true]);
      assert.equal(outcomes[6]!.ended, a.key);
      assert.equal(runnable, before + 1, 'an end wakes dispatch once');

      const ja = (await jobsRepo.findJobById(db, a.id))!;
      assert.deepEqual([ja.state, ja.pid, ja.logLineCount, ja.exitCode, ja.warning, ja.closeReason, ja.statsJson], ['SUCCEEDED', 11, 3, 0, true, 'finished', OK.statsJson]);
      assert.ok(ja.endTime);
      const log = (await jobsRepo.readChunks(db, a.id, 'log', 0, 100)).flatMap((c) => c.values);
      assert.deepEqual(log, ['a0', 'a1', 'a2']);
      const jb = (await jobsRepo.findJobById(db, b.id))!;
      assert.deepEqual([jb.state, jb.itemCount], ['RUNNING', 2]);
      assert.deepEqual((await jobsRepo.readChunks(db, b.id, 'items', 0, 100)).flatMap((c) => c.values), ['{"i":0}', '{"i":1}']);

      // the same reports again (an agent re-sending after a reconnect) change nothing
      const again = await applyReports(deps, reports.slice(0, 4));
      assert.deepEqual(again.map((o) => o.ok), [true, false, true, false], 'a start is never refused; the ended job is no longer held');
      assert.equal((await jobsRepo.findJobById(db, b.id))!.itemCount, 2);
    });

    it('queues a retry of a FAILED job as a new attempt when the spider allows, naming the job it retries', async () => {
      const { projectId, spiderIds } = await seedProject(db, 'retry', ['s']);
      await setSpiderSettings(db, spiderIds.get('s')!, { retries: 1 });
      const job = await runningJob(spiderIds.get('s')!, projectId, '3');
      await applyReports(deps, [{ type: 'finished', nodeId: '3', key: job.key, report: { ...OK, state: 'FAILED', exitCode: 1 } }]);
      const retry = (await jobsRepo.findJobByKey(db, `${job.key}-r2`))!;
      assert.deepEqual([retry.state, retry.attempt], ['PENDING', 2]);
      assert.equal(jobToProto(retry).retryOf, `projects/retry/spiders/s/jobs/${job.key}`);
      const second = await claimNextJob(db, { nodeId: '3', sessionId: '3', tags: [] });
      assert.equal(second?.key, retry.key);
      await applyReports(deps, [{ type: 'finished', nodeId: '3', key: retry.key, report: { ...OK, state: 'FAILED', exitCode: 1 } }]);
      assert.equal(await jobsRepo.findJobByKey(db, `${job.key}-r3`), undefined, 'retries: 1 allows one retry');
    });

    it('ends many jobs of many spiders in one batch', async () => {
      const { projectId, spiderIds } = await seedProject(db, 'many', ['s']);
      await setSpiderSettings(db, spiderIds.get('s')!, { concurrency: 50 });
      const jobs = [];
      for (let i = 0; i < 30; i++) jobs.push(await runningJob(spiderIds.get('s')!, projectId, String(100 + i)));
      const outcomes = await applyReports(deps, jobs.flatMap((j, i): AgentReport[] => [
        { type: 'started', nodeId: String(100 + i), key: j.key, pid: 1000 + i },
        { type: 'chunk', nodeId: String(100 + i), key: j.key, kind: 'items', firstIndex: 0, values: [`{"job":${i}}`] },
        { type: 'finished', nodeId: String(100 + i), key: j.key, report: OK },
      ]));
      assert.ok(outcomes.every((o) => o.ok));
      const rows = await jobsRepo.listJobs(db, { projectId }, undefined, 100);
      assert.equal(rows.length, 30);
      for (const r of rows) assert.deepEqual([r.state, r.itemCount, r.pid! >= 1000], ['SUCCEEDED', 1, true]);
    });

    it('prunes a long history down to jobs_to_keep in batches, after an end', async () => {
      const { projectId, spiderIds } = await seedProject(db, 'history', ['h']);
      const spiderId = spiderIds.get('h')!;
      const old: jobsRepo.NewJob[] = Array.from({ length: 650 }, (_, i) => {
        const id = ids.next();
        return { id, key: id, projectId, spiderId, versionName: 'r1', eggSha256: 'a'.repeat(64), eggSize: 1, settingsModule: 'x.settings',
          priority: 0, tag: '', args: {}, settings: {}, timeoutSeconds: 60, attempt: 1, createTime: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString() };
      });
      for (let i = 0; i < old.length; i += 200) await jobsRepo.insertJobs(db, old.slice(i, i + 200));
      await db.query(`UPDATE jobs SET state = 'SUCCEEDED' WHERE spider_id = ?`, [spiderId]);
      const job = await runningJob(spiderId, projectId, '900');
      await applyReports(deps, [{ type: 'finished', nodeId: '900', key: job.key, report: OK }]);
      const count = async () => Number((await db.query(`SELECT COUNT(*) AS n FROM jobs WHERE spider_id = ?`, [spiderId]))[0]!.n);
      const deadline = Date.now() + 15_000;
      while ((await count()) > 100) {
        assert.ok(Date.now() < deadline, `still ${await count()} jobs after 15 s`);
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(await count(), 100);
      assert.ok(await jobsRepo.findJobById(db, job.id), 'the newest job is kept');
      assert.equal(await jobsRepo.findJobById(db, old[0]!.id), undefined, 'the oldest went');
    });
  });
}
