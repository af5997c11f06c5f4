/** The claim statement on real SQLite and PostgreSQL: the tags table cell by cell, concurrency, order. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { claimBatch } from '../../src/dispatch/claim-batch.js';
import { insertChunks } from '../../src/storage/job-report-sql.js';
import { addJob, claimNextJob, seedProject, setSpiderSettings } from '../support/job-rows.js';
import { parseDatabaseUrl } from '../../src/config/database-url.js';
import { openDatabase, type Db } from '../../src/storage/database.js';
import * as jobsRepo from '../../src/storage/jobs-repo.js';
import { createTestDatabase, testDatabaseKinds, type TestDatabase } from '../support/databases.js';

async function setConcurrency(db: Db, spiderId: string, concurrency: number) {
  await setSpiderSettings(db, spiderId, { concurrency });
}

// The seed's table: rows are the spider's tag, columns the agent's tags.
const AGENT_TAGS: [string, string[]][] = [['None', []], ['a', ['a']], ['b', ['b']], ['a, b', ['a', 'b']]];
const TABLE: [string, string, boolean[]][] = [
  ['None', '', [true, false, false, false]],
  ['a', 'a', [false, true, false, true]],
  ['b', 'b', [false, false, true, true]],
];

for (const kind of testDatabaseKinds()) {
  describe(`claiming jobs (${kind})`, () => {
    let tdb: TestDatabase;
    let db: Db;

    before(async () => {
      tdb = await createTestDatabase(kind);
      db = await openDatabase(parseDatabaseUrl(tdb.url));
    });
    after(async () => {
      await db.close();
      await tdb.drop();
    });

    for (const [row, spiderTag, cells] of TABLE) {
      AGENT_TAGS.forEach(([column, agentTags], i) => {
        const expected = cells[i]!;
        it(`spider tag ${row} × agent tags ${column} → ${expected ? 'runs' : 'does not run'}`, async () => {
          const { projectId, spiderIds } = await seedProject(db, `tags_${spiderTag || 'none'}_${i}`, ['s']);
          const jobId = await addJob(db, projectId, spiderIds.get('s')!, { tag: spiderTag });
          const claimed = await claimNextJob(db, { nodeId: '1', sessionId: '1', tags: agentTags });
          assert.equal(claimed?.id === jobId, expected);
          // leave nothing claimable behind for the next cell
          await jobsRepo.transitionJob(db, jobId, ['PENDING', 'RUNNING'], 'CANCELLED');
        });
      });
    }

    it('never runs more jobs of a spider than its concurrency', async () => {
      const { projectId, spiderIds } = await seedProject(db, 'conc', ['one', 'two']);
      await setConcurrency(db, spiderIds.get('two')!, 2);
      for (let i = 0; i < 3; i++) await addJob(db, projectId, spiderIds.get('one')!);
      for (let i = 0; i < 3; i++) await addJob(db, projectId, spiderIds.get('two')!);
      const claimed: string[] = [];
      for (let i = 0; i < 6; i++) {
        const j = await claimNextJob(db, { nodeId: '2', sessionId: '2', tags: [] });
        if (j) claimed.push(j.spider);
      }
      assert.deepEqual(claimed.sort(), ['one', 'two', 'two']);
      const running = (await jobsRepo.listJobs(db, { projectId, states: ['RUNNING'] }, undefined, 100)).length;
      assert.equal(running, 3);
      for (const j of await jobsRepo.listJobs(db, { projectId }, undefined, 100)) await jobsRepo.transitionJob(db, j.id, ['PENDING', 'RUNNING'], 'CANCELLED');
    });

    it("looks past a spider's backlog at its concurrency to other spiders' jobs", async () => {
      const { projectId, spiderIds } = await seedProject(db, 'backlog', ['busy', 'other']);
      const first = await addJob(db, projectId, spiderIds.get('busy')!, { priority: 5 });
      for (let i = 0; i < 20; i++) await addJob(db, projectId, spiderIds.get('busy')!, { priority: 5 });
      const other = await addJob(db, projectId, spiderIds.get('other')!);
      assert.equal((await claimNextJob(db, { nodeId: '4', sessionId: '4', tags: [] }))?.id, first);
      // 20 older, higher-priority jobs of 'busy' wait behind its concurrency of 1
      assert.equal((await claimNextJob(db, { nodeId: '4', sessionId: '4', tags: [] }))?.id, other);
      assert.equal(await claimNextJob(db, { nodeId: '4', sessionId: '4', tags: [] }), undefined);
      for (const j of await jobsRepo.listJobs(db, { projectId }, undefined, 100)) await jobsRepo.transitionJob(db, j.id, ['PENDING', 'RUNNING'], 'CANCELLED');
    });

    it('claims nothing of a spider whose concurrency was lowered below its running jobs, and claims the others', async () => {
      const { projectId, spiderIds } = await seedProject(db, 'lowered', ['s', 't']);
      await setConcurrency(db, spiderIds.get('s')!, 3);
      for (let i = 0; i < 4; i++) await addJob(db, projectId, spiderIds.get('s')!, { priority: 5 });
      for (let i = 0; i < 3; i++) assert.ok(await claimNextJob(db, { nodeId: '5', sessionId: '5', tags: [] }));
      await setConcurrency(db, spiderIds.get('s')!, 1);
      const other = await addJob(db, projectId, spiderIds.get('t')!);
      assert.equal((await claimNextJob(db, { nodeId: '5', sessionId: '5', tags: [] }))?.id, other);
      assert.equal(await claimNextJob(db, { nodeId: '5', sessionId: '5', tags: [] }), undefined);
      for (const j of await jobsRepo.listJobs(db, { projectId }, undefined, 100)) await jobsRepo.transitionJob(db, j.id, ['PENDING', 'RUNNING'], 'CANCELLED');
    });

    it('claims by priority, then round-robin between projects, then age', async () => {
      const a = await seedProject(db, 'rr_a', ['s']);
      const b = await seedProject(db, 'rr_b', ['s']);
      for (const p of [a, b]) await setConcurrency(db, p.spiderIds.get('s')!, 100);
      const a1 = await addJob(db, a.projectId, a.spiderIds.get('s')!);
      const a2 = await addJob(db, a.projectId, a.spiderIds.get('s')!);
      const a3 = await addJob(db, a.projectId, a.spiderIds.get('s')!);
      const b1 = await addJob(db, b.projectId, b.spiderIds.get('s')!);
      const urgent = await addJob(db, b.projectId, b.spiderIds.get('s')!, { priority: 10 });
      const order: string[] = [];
      for (let i = 0; i < 5; i++) order.push((await claimNextJob(db, { nodeId: '3', sessionId: '3', tags: [] }))!.id);
      // urgent first (priority); then a1 (both projects never served... b was just served), b1, a2, a3
      assert.equal(order[0], urgent);
      assert.deepEqual(order.slice(1), [a1, b1, a2, a3]);
    });

    it('keeps only the newest finished jobs of a spider, with their chunks', async () => {
      const { projectId, spiderIds } = await seedProject(db, 'prune', ['s']);
      const spiderId = spiderIds.get('s')!;
      const jobs: string[] = [];
      for (let i = 0; i < 5; i++) jobs.push(await addJob(db, projectId, spiderId));
      const pending = await addJob(db, projectId, spiderId);
      for (const id of jobs) {
        await jobsRepo.transitionJob(db, id, ['PENDING'], 'CANCELLED');
        await insertChunks(db, [{ jobId: id, kind: 'log', firstIndex: 0, values: ['line'] }]);
      }
      assert.equal(await jobsRepo.pruneFinishedJobs(db, spiderId, 2, 2), 2, 'a batch of two, the newest beyond the two kept');
      assert.equal(await jobsRepo.pruneFinishedJobs(db, spiderId, 2, 2), 1, 'then the rest');
      assert.equal(await jobsRepo.pruneFinishedJobs(db, spiderId, 2, 2), 0);
      const left = (await jobsRepo.listJobs(db, { spiderId }, undefined, 100)).map((j) => j.id).sort();
      assert.deepEqual(left, [jobs[3]!, jobs[4]!, pending].sort());
      assert.equal(Number((await db.query(`SELECT COUNT(*) AS n FROM job_chunks WHERE job_id = ?`, [jobs[0]!]))[0]!.n), 0);
      await jobsRepo.transitionJob(db, pending, ['PENDING'], 'CANCELLED');
    });

    it('keeps a spider\'s concurrency when claimers race for it', async () => {
      const { projectId, spiderIds } = await seedProject(db, 'race_conc', ['s']);
      await setConcurrency(db, spiderIds.get('s')!, 2);
      for (let i = 0; i < 10; i++) await addJob(db, projectId, spiderIds.get('s')!);
      const claimed = await Promise.all(
        Array.from({ length: 8 }, (_, n) => claimNextJob(db, { nodeId: String(50 + n), sessionId: String(50 + n), tags: [] })),
      );
      // A claimer finding the spider locked by another leaves it to that one.
      assert.ok(claimed.filter(Boolean).length <= 2, 'never more than the concurrency');
      for (let i = 0; i < 4; i++) await claimNextJob(db, { nodeId: '59', sessionId: '59', tags: [] });
      const running = await jobsRepo.listJobs(db, { projectId, states: ['RUNNING'] }, undefined, 100);
      assert.equal(running.length, 2, 'and up to it once the race is over');
      for (const j of await jobsRepo.listJobs(db, { projectId }, undefined, 100)) await jobsRepo.transitionJob(db, j.id, ['PENDING', 'RUNNING'], 'CANCELLED');
    });

    it('claims a batch for many agents in one go: concurrency kept, projects alternate by batch, each job once', async () => {
      const a = await seedProject(db, 'batch_a', ['s', 't']);
      const b = await seedProject(db, 'batch_b', ['s']);
      await setConcurrency(db, a.spiderIds.get('s')!, 100);
      await setConcurrency(db, b.spiderIds.get('s')!, 100);
      await setConcurrency(db, a.spiderIds.get('t')!, 1);
      const aJobs: string[] = [];
      for (let i = 0; i < 6; i++) aJobs.push(await addJob(db, a.projectId, a.spiderIds.get('s')!));
      const tJobs = [await addJob(db, a.projectId, a.spiderIds.get('t')!), await addJob(db, a.projectId, a.spiderIds.get('t')!)];
      const bJobs = [await addJob(db, b.projectId, b.spiderIds.get('s')!), await addJob(db, b.projectId, b.spiderIds.get('s')!)];
      const claimants = [{ nodeId: '70', sessionId: '70', free: 2 }, { nodeId: '71', sessionId: '71', free: 2 }];
      const got = (await claimBatch(db, [], claimants)).jobs;
      const all = [...got.values()].flat();
      assert.equal(all.length, 4);
      // the oldest project first; spider t (concurrency 1) at most once
      assert.ok(all.every((j) => j.projectId === a.projectId));
      assert.ok(all.filter((j) => tJobs.includes(j.id)).length <= 1);
      assert.deepEqual(got.get('70')!.map((j) => j.nodeId), ['70', '70']);
      // the next batch serves the other project first
      const second = [...(await claimBatch(db, [], [{ nodeId: '72', sessionId: '72', free: 2 }])).jobs.values()].flat();
      assert.deepEqual(second.map((j) => j.id).sort(), [...bJobs].sort());
      all.push(...second);
      // racing batches: everything left is claimed once, t still at most one running
      const racers = await Promise.all(Array.from({ length: 4 }, (_, n) => claimBatch(db, [], [{ nodeId: String(80 + n), sessionId: String(80 + n), free: 5 }])));
      const more = racers.flatMap((m) => [...m.jobs.values()].flat());
      const ids = [...all, ...more].map((j) => j.id);
      assert.equal(new Set(ids).size, ids.length, 'no job claimed twice');
      assert.deepEqual(new Set(ids), new Set([...aJobs, ...bJobs, tJobs.find((t) => ids.includes(t))!]));
      const runningT = await jobsRepo.listJobs(db, { spiderId: a.spiderIds.get('t')!, states: ['RUNNING'] }, undefined, 10);
      assert.equal(runningT.length, 1);
      for (const p of [a, b]) for (const j of await jobsRepo.listJobs(db, { projectId: p.projectId }, undefined, 100)) await jobsRepo.transitionJob(db, j.id, ['PENDING', 'RUNNING'], 'CANCELLED');
    });

    it('claims each job once when claimers race', async () => {
      const { projectId, spiderIds } = await seedProject(db, 'race', ['s']);
      await setConcurrency(db, spiderIds.get('s')!, 1000);
      const created = new Set<string>();
      for (let i = 0; i < 60; i++) created.add(await addJob(db, projectId, spiderIds.get('s')!));
      const results = await Promise.all(
        Array.from({ length: 8 }, async (_, n) => {
          const mine: string[] = [];
          for (;;) {
            const j = await claimNextJob(db, { nodeId: String(10 + n), sessionId: String(10 + n), tags: [] });
            if (!j) return mine;
            mine.push(j.id);
          }
        }),
      );
      const all = results.flat();
      assert.equal(all.length, 60);
      assert.deepEqual(new Set(all), created);
    });
  });
}
