/**
 * Claim latency with a long queue: 100,000 pending jobs over 5 projects and
 * 15 spiders (one spider, at concurrency 1, holds a third of them), then
 * claims of one job at a time and of batches of 100. Prints JSON.
 */
import { parseDatabaseUrl } from '../src/config/database-url.js';
import { claimBatch } from '../src/dispatch/claim-batch.js';
import { openDatabase, type Db } from '../src/storage/database.js';
import * as jobsRepo from '../src/storage/jobs-repo.js';
import { createTestDatabase, type TestDatabaseKind } from '../test/support/databases.js';
import { ids, seedProject, setSpiderSettings } from '../test/support/job-rows.js';

const PENDING = Number(process.env.BENCH_PENDING ?? 100_000);
const CLAIMS = 200;

function pct(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) => Number(s[Math.min(s.length - 1, Math.floor(p * s.length))]!.toFixed(2));
  return { n: s.length, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: at(1) };
}

async function fill(db: Db): Promise<void> {
  const spiders: string[][] = [];
  for (let p = 0; p < 5; p++) {
    const { projectId, spiderIds } = await seedProject(db, `backlog${p}`, ['a', 'b', 'c']);
    for (const id of spiderIds.values()) {
      spiders.push([projectId, id]);
      if (p > 0 || spiders.length > 1) await setSpiderSettings(db, id, { concurrency: 1000 });
    }
  }
  let batch: jobsRepo.NewJob[] = [];
  for (let i = 0; i < PENDING; i++) {
    // A third of the queue belongs to the first spider (concurrency 1).
    const [projectId, spiderId] = i % 3 === 0 ? spiders[0]! : spiders[1 + (i % (spiders.length - 1))]!;
    const id = ids.next();
    batch.push({ id, key: id, projectId: projectId!, spiderId: spiderId!, versionName: 'r1', eggSha256: 'a'.repeat(64), eggSize: 1,
      settingsModule: 'x.settings', priority: i % 10 === 0 ? 1 : 0, tag: '', args: {}, settings: {}, timeoutSeconds: 60, attempt: 1 });
    if (batch.length === 500) (await jobsRepo.insertJobs(db, batch), (batch = []));
  }
  await jobsRepo.insertJobs(db, batch);
  if (db.kind === 'postgres') await db.query('ANALYZE');
}

async function run(kind: TestDatabaseKind) {
  const tdb = await createTestDatabase(kind);
  const db = await openDatabase(parseDatabaseUrl(tdb.url));
  try {
    await fill(db);
    const single: number[] = [];
    for (let i = 0; i < CLAIMS; i++) {
      const t = performance.now();
      const got = await claimBatch(db, [], [{ nodeId: '1', sessionId: '1', free: 1 }]);
      single.push(performance.now() - t);
      if (got.jobs.get('1')!.length !== 1) throw new Error('a claim found nothing');
    }
    const batches: number[] = [];
    for (let i = 0; i < CLAIMS / 10; i++) {
      const t = performance.now();
      await claimBatch(db, [], Array.from({ length: 25 }, (_, n) => ({ nodeId: String(n + 2), sessionId: String(n + 2), free: 4 })));
      batches.push(performance.now() - t);
    }
    return { pendingJobs: PENDING, claimOneJob: pct(single), claim100Jobs: pct(batches) };
  } finally {
    await db.close();
    await tdb.drop();
  }
}

const kinds = (process.env.BENCH_DATABASES ?? 'postgres,sqlite').split(',') as TestDatabaseKind[];
const result: Record<string, unknown> = {};
for (const kind of kinds) result[kind] = await run(kind);
process.stdout.write(`${JSON.stringify({ claimWithBacklog: result }, null, 2)}\n`);
