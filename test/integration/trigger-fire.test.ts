/** Firing triggers on real SQLite and PostgreSQL with an injected clock: exactly once, restarts, misfires, skipped fires, concurrency. */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { LOCAL_ADMIN } from '../../src/auth/principal.js';
import { parseDatabaseUrl } from '../../src/config/database-url.js';
import type { Deps } from '../../src/domain/deps.js';
import { createTrigger, getTrigger } from '../../src/domain/triggers/trigger-service.js';
import { fireDueTriggers, type FireResult } from '../../src/domain/triggers/trigger-fire.js';
import { openDatabase, type Db } from '../../src/storage/database.js';
import * as jobsRepo from '../../src/storage/jobs-repo.js';
import * as projectsRepo from '../../src/storage/projects-repo.js';
import { listFires, recordFire } from '../../src/storage/triggers-repo.js';
import { createTestDatabase, testDatabaseKinds, type TestDatabase } from '../support/databases.js';
import { claimNextJob, ids, seedProject, setSpiderSettings } from '../support/job-rows.js';

const at = (iso: string) => new Date(iso);

for (const kind of testDatabaseKinds()) {
  describe(`trigger fires (${kind})`, () => {
    let tdb: TestDatabase;
    let db: Db;
    let deps: Deps;
    let queuedEvents = 0;

    function depsOn(database: Db): Deps {
      return {
        db: database, ids, blobs: undefined as never, logger: pino({ level: 'silent' }),
        events: { jobsQueued: () => void queuedEvents++, capacityFreed: () => undefined, jobCancelRequested: () => undefined },
        settings: { timeZone: 'UTC' } as Deps['settings'],
      };
    }

    before(async () => {
      tdb = await createTestDatabase(kind);
      db = await openDatabase(parseDatabaseUrl(tdb.url));
      deps = depsOn(db);
    });
    afterEach(async () => {
      await db.query('DELETE FROM triggers');
      await db.query(`UPDATE jobs SET state = 'CANCELLED' WHERE state IN ('PENDING', 'RUNNING')`);
    });
    after(async () => {
      await db.close();
      await tdb.drop();
    });

    const fire = (now: string, graceSeconds = 60, d = deps) => fireDueTriggers(d, { misfireGraceMs: graceSeconds * 1000, now: () => at(now) });

    async function trigger(project: string, spider: string, cron: string, now: string, over: { args?: Record<string, string>; settings?: Record<string, string>; timeZone?: string } = {}) {
      return createTrigger(deps, LOCAL_ADMIN, `projects/${project}/spiders/${spider}`, {
        cron, timeZone: over.timeZone ?? '', enabled: undefined, args: over.args ?? {}, settings: over.settings ?? {},
      }, at(now));
    }

    const triggerJobs = async (projectId: string, triggerId: string) =>
      (await jobsRepo.listJobs(db, { projectId }, undefined, 100)).filter((j) => j.triggerId === triggerId);

    it("queues one job at its fire time, with its args and settings over the spider's, and moves to the next fire time", async () => {
      const { projectId, spiderIds } = await seedProject(db, 'fire_basic', ['s']);
      await setSpiderSettings(db, spiderIds.get('s')!, { args: { a: '1', b: '1' }, scrapySettings: { X: 'spider' }, tag: 't1', priority: 3, timeoutSeconds: 77 });
      const t = await trigger('fire_basic', 's', '*/5 * * * *', '2030-01-01T10:02:00Z', { args: { b: '2' }, settings: { Y: 'trigger' } });
      assert.equal(t.nextFireTime, '2030-01-01T10:05:00.000Z');
      assert.deepEqual(await fire('2030-01-01T10:04:59.900Z'), []);
      const before = queuedEvents;
      const [r, ...rest] = await fire('2030-01-01T10:05:00.200Z');
      assert.equal(rest.length, 0);
      assert.equal(r?.outcome, 'QUEUED');
      assert.equal(r.fireTime, '2030-01-01T10:05:00.000Z');
      assert.equal(queuedEvents, before + 1, 'dispatch is woken');
      const [job, ...others] = await triggerJobs(projectId, t.id);
      assert.equal(others.length, 0);
      assert.equal(job!.id, r.jobId);
      assert.equal(job!.state, 'PENDING');
      assert.deepEqual(job!.args, { a: '1', b: '2' });
      assert.deepEqual(job!.settings, { X: 'spider', Y: 'trigger' });
      assert.deepEqual([job!.tag, job!.priority, job!.timeoutSeconds, job!.versionName], ['t1', 3, 77, 'r1']);
      assert.equal(job!.createTime, '2030-01-01T10:05:00.200Z');
      const after = await getTrigger(deps, LOCAL_ADMIN, `projects/fire_basic/spiders/s/triggers/${t.id}`);
      assert.equal(after.nextFireTime, '2030-01-01T10:10:00.000Z');
      assert.deepEqual([after.lastFireTime, after.lastOutcome, after.lastJobKey], ['2030-01-01T10:05:00.000Z', 'QUEUED', job!.key]);
      // the same instant again, and a little later: nothing more
      assert.deepEqual(await fire('2030-01-01T10:05:00.200Z'), []);
      assert.deepEqual(await fire('2030-01-01T10:06:00Z'), []);
      assert.equal((await triggerJobs(projectId, t.id)).length, 1);
    });

    it('fires each fire time exactly once when several servers race for it', async () => {
      const { projectId } = await seedProject(db, 'fire_race', ['s']);
      const t = await trigger('fire_race', 's', '* * * * *', '2030-01-02T00:00:30Z');
      // PostgreSQL: four servers, four connection pools on one database, each running the claim at the same moment.
      // SQLite serves one server (better-sqlite3 blocks its process while another connection writes): four clocks on it.
      const servers = kind === 'postgres' ? await Promise.all([1, 2, 3, 4].map(() => openDatabase(parseDatabaseUrl(tdb.url)))) : [db, db, db, db];
      try {
        for (let minute = 1; minute <= 5; minute++) {
          const now = `2030-01-02T00:0${minute}:00.050Z`;
          const results = (await Promise.all(servers.map((s) => fire(now, 60, depsOn(s))))).flat();
          assert.deepEqual(results.map((r: FireResult) => r.outcome), ['QUEUED'], `minute ${minute}: one server wins`);
        }
      } finally {
        if (kind === 'postgres') await Promise.all(servers.map((s) => s.close()));
      }
      const jobs = await triggerJobs(projectId, t.id);
      assert.equal(jobs.length, 5);
      assert.deepEqual((await listFires(db, t.id)).map((f) => f.fireTime.slice(11, 16)), ['00:01', '00:02', '00:03', '00:04', '00:05']);
    });

    it('does not repeat a fire after a restart', async () => {
      const { projectId } = await seedProject(db, 'fire_restart', ['s']);
      const t = await trigger('fire_restart', 's', '0 * * * *', '2030-01-03T09:30:00Z');
      assert.equal((await fire('2030-01-03T10:00:00.010Z')).length, 1);
      // a new server process: a new connection to the same database, at the same moment and a bit later
      const restarted = await openDatabase(parseDatabaseUrl(tdb.url));
      try {
        assert.deepEqual(await fire('2030-01-03T10:00:00.010Z', 60, depsOn(restarted)), []);
        assert.deepEqual(await fire('2030-01-03T10:00:30Z', 60, depsOn(restarted)), []);
        assert.equal((await fire('2030-01-03T11:00:01Z', 60, depsOn(restarted)))[0]?.outcome, 'QUEUED');
      } finally {
        await restarted.close();
      }
      assert.equal((await triggerJobs(projectId, t.id)).length, 2);
    });

    it('runs one job for several fire times missed while every server was down, when the newest is within the grace', async () => {
      const { projectId } = await seedProject(db, 'fire_misfire', ['s']);
      const t = await trigger('fire_misfire', 's', '* * * * *', '2030-01-04T10:00:30Z');
      // down from 10:00:30 to 10:05:30: 10:01 ... 10:05 were missed, 10:05 is 30 s late, grace 120 s
      const results = await fire('2030-01-04T10:05:30Z', 120);
      assert.deepEqual(results.map((r) => [r.outcome, r.fireTime.slice(11, 16)]), [['QUEUED', '10:05']]);
      assert.equal((await triggerJobs(projectId, t.id)).length, 1);
      const fires = await listFires(db, t.id);
      assert.deepEqual(fires.map((f) => [f.fireTime.slice(11, 16), f.outcome]), [['10:01', 'MISSED'], ['10:05', 'QUEUED']]);
      const after = await getTrigger(deps, LOCAL_ADMIN, `projects/fire_misfire/spiders/s/triggers/${t.id}`);
      assert.equal(after.nextFireTime, '2030-01-04T10:06:00.000Z');
    });

    it('skips and records fire times missed by more than the grace', async () => {
      const { projectId } = await seedProject(db, 'fire_late', ['s']);
      const t = await trigger('fire_late', 's', '0 * * * *', '2030-01-05T04:00:00Z', { timeZone: 'Asia/Kolkata' });
      // 10:00 Kolkata = 04:30 UTC; the server comes back at 04:31:30, 90 s late, grace 60 s
      assert.equal(t.nextFireTime, '2030-01-05T04:30:00.000Z');
      const results = await fire('2030-01-05T04:31:30Z', 60);
      assert.deepEqual(results.map((r) => r.outcome), ['MISSED']);
      assert.match(results[0]!.reason, /handled 90 s after its time, beyond misfire_grace \(60 s\)/);
      assert.equal((await triggerJobs(projectId, t.id)).length, 0);
      const after = await getTrigger(deps, LOCAL_ADMIN, `projects/fire_late/spiders/s/triggers/${t.id}`);
      assert.deepEqual([after.lastOutcome, after.lastFireTime, after.nextFireTime], ['MISSED', '2030-01-05T04:30:00.000Z', '2030-01-05T05:30:00.000Z']);
      // with misfire_grace = 0, a fire handled within the clock's own tolerance still runs
      assert.equal((await fire('2030-01-05T05:30:01Z', 0))[0]?.outcome, 'QUEUED');
    });

    it('skips and records fires of a disabled spider, a spider missing from the latest version and a project without versions', async () => {
      const { projectId, spiderIds } = await seedProject(db, 'fire_skip', ['s', 'gone']);
      const onS = await trigger('fire_skip', 's', '0 * * * *', '2030-01-06T09:30:00Z');
      const onGone = await trigger('fire_skip', 'gone', '0 * * * *', '2030-01-06T09:30:00Z');
      await setSpiderSettings(db, spiderIds.get('s')!, { disabled: true });
      await projectsRepo.replaceVersion(db, { id: ids.next(), projectId, name: 'r2', eggSha256: 'b'.repeat(64), eggSize: 1, settingsModule: 'x.settings', spiders: ['s'], creatorId: undefined });
      await projectsRepo.syncSpiders(db, projectId, () => ids.next());
      const results = await fire('2030-01-06T10:00:00.100Z');
      const byTrigger = new Map(results.map((r) => [r.triggerId, r]));
      assert.equal(byTrigger.get(onS.id)?.outcome, 'SPIDER_DISABLED');
      assert.match(byTrigger.get(onS.id)!.reason, /spider 's' is disabled/);
      assert.equal(byTrigger.get(onGone.id)?.outcome, 'SPIDER_MISSING');
      assert.match(byTrigger.get(onGone.id)!.reason, /spider 'gone' is not in the latest version 'r2'/);
      for (const v of ['r1', 'r2']) await projectsRepo.deleteVersion(db, (await projectsRepo.findVersion(db, projectId, v))!.id);
      await setSpiderSettings(db, spiderIds.get('s')!, {});
      const none = await fire('2030-01-06T11:00:00.100Z');
      assert.deepEqual(none.map((r) => r.outcome).sort(), ['NO_VERSION', 'NO_VERSION']);
      assert.equal((await jobsRepo.listJobs(db, { projectId }, undefined, 100)).length, 0);
      const after = await getTrigger(deps, LOCAL_ADMIN, `projects/fire_skip/spiders/s/triggers/${onS.id}`);
      assert.deepEqual([after.lastOutcome, after.lastReason, after.nextFireTime], ['NO_VERSION', "project 'fire_skip' has no version", '2030-01-06T12:00:00.000Z']);
    });

    it("queues the next fire's job while the previous one runs; the spider's concurrency makes it wait", async () => {
      const { projectId } = await seedProject(db, 'fire_conc', ['s']);
      const t = await trigger('fire_conc', 's', '* * * * *', '2030-01-07T00:00:30Z');
      const agent = { nodeId: '77', sessionId: '77', tags: [] };
      assert.equal((await fire('2030-01-07T00:01:00.010Z'))[0]?.outcome, 'QUEUED');
      const first = await claimNextJob(db, agent);
      assert.equal(first?.triggerId, t.id);
      assert.equal((await fire('2030-01-07T00:02:00.010Z'))[0]?.outcome, 'QUEUED');
      assert.equal(await claimNextJob(db, agent), undefined, 'concurrency 1: the second job waits');
      const jobs = await triggerJobs(projectId, t.id);
      assert.deepEqual(jobs.map((j) => j.state).sort(), ['PENDING', 'RUNNING']);
      await jobsRepo.transitionJob(db, first!.id, ['RUNNING'], 'SUCCEEDED');
      const second = await claimNextJob(db, agent);
      assert.ok(second && second.id !== first!.id && second.triggerId === t.id);
      await jobsRepo.transitionJob(db, second.id, ['RUNNING'], 'SUCCEEDED');
    });

    it('keeps 30 days of fire records, and a trigger\'s newest 100 always', async () => {
      await seedProject(db, 'fire_keep', ['often', 'rarely']);
      const often = await trigger('fire_keep', 'often', '0 * * * *', '2030-01-01T00:00:00Z');
      const rarely = await trigger('fire_keep', 'rarely', '@yearly', '2030-01-01T00:00:00Z');
      const record = (triggerId: string, fireTime: Date) => recordFire(db, { triggerId, fireTime: fireTime.toISOString(), outcome: 'MISSED', reason: 'test', jobId: undefined });
      // 150 hourly fires from 60 days before the last one, then the last: the old ones beyond the newest 100 go.
      const last = Date.parse('2030-06-01T00:00:00Z');
      for (let i = 0; i < 150; i++) assert.equal(await record(often.id, new Date(last - 60 * 86_400_000 + i * 3_600_000)), true);
      assert.equal(await record(often.id, new Date(last)), true);
      const kept = await listFires(db, often.id);
      assert.equal(kept.length, 100);
      assert.equal(kept.at(-1)!.fireTime, new Date(last).toISOString());
      assert.equal(kept[0]!.fireTime, new Date(last - 60 * 86_400_000 + 51 * 3_600_000).toISOString(), 'the newest 100');
      // 120 more hours: all 121 fires of the last 30 days stay (more than 100); the older ones go.
      for (let i = 1; i <= 120; i++) await record(often.id, new Date(last + i * 3_600_000));
      const recent = await listFires(db, often.id);
      assert.equal(recent.length, 121);
      assert.equal(recent[0]!.fireTime, new Date(last).toISOString());
      // A yearly trigger keeps its history: fewer than 100 records are never pruned.
      for (let y = 0; y < 5; y++) await record(rarely.id, new Date(Date.UTC(2030 + y, 0, 1)));
      assert.equal((await listFires(db, rarely.id)).length, 5);
    });
  });
}
