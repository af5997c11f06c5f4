/**
 * The job list at scale: 100,000 jobs (10 projects, 50 spiders, a month of
 * history, mostly finished, some pending and running on 20 nodes), then the
 * first page (50 jobs) of ListJobs over REST from a real server, for the
 * filters the web UI offers: all, by state, project, spider, node, and as a
 * non-admin user who sees one project. Also exactly what the web UI's
 * first renders ask: the Jobs page (ListJobs, first page, any filter above
 * or "active") and the dashboard (one GetJobStats, as admin and non-admin;
 * `rows` is then the number of spiders answered). Prints JSON: latency measured at the client on 127.0.0.1, so it
 * includes the server's whole handling of the request.
 */
import { parseDatabaseUrl } from '../src/config/database-url.js';
import { openDatabase, type Db } from '../src/storage/database.js';
import * as jobsRepo from '../src/storage/jobs-repo.js';
import { createTestDatabase, type TestDatabaseKind } from '../test/support/databases.js';
import { ids, seedProject } from '../test/support/job-rows.js';
import { basic, startTestServer } from '../test/support/server-process.js';

const JOBS = Number(process.env.BENCH_LIST_JOBS ?? 100_000);
const CALLS = Number(process.env.BENCH_LIST_CALLS ?? 100);
const PAGE = 50;
const DAY_MS = 86_400_000;

function pct(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) => Number(s[Math.min(s.length - 1, Math.floor(p * s.length))]!.toFixed(2));
  return { n: s.length, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: at(1) };
}

interface Seeded {
  projects: { id: string; name: string; spiders: Map<string, string> }[];
  nodeIds: string[];
}

async function fill(db: Db): Promise<Seeded> {
  const projects: Seeded['projects'] = [];
  for (let p = 0; p < 10; p++) {
    const name = `shop${p}`;
    const { projectId, spiderIds } = await seedProject(db, name, ['a', 'b', 'c', 'd', 'e']);
    projects.push({ id: projectId, name, spiders: spiderIds });
  }
  const spiders = projects.flatMap((p) => [...p.spiders.values()].map((s) => [p.id, s] as const));
  const nodeIds = Array.from({ length: 20 }, () => ids.next());
  const start = Date.now() - 30 * DAY_MS;
  let batch: jobsRepo.NewJob[] = [];
  for (let i = 0; i < JOBS; i++) {
    const [projectId, spiderId] = spiders[i % spiders.length]!;
    const id = ids.next();
    const createTime = new Date(start + Math.floor((i / JOBS) * 30 * DAY_MS)).toISOString();
    batch.push({ id, key: id, projectId, spiderId, versionName: 'r1', eggSha256: 'a'.repeat(64), eggSize: 1, settingsModule: 'x.settings',
      priority: 0, tag: '', args: { page: String(i) }, settings: {}, timeoutSeconds: 3600, attempt: 1, createTime });
    if (batch.length === 500) (await jobsRepo.insertJobs(db, batch), (batch = []));
  }
  await jobsRepo.insertJobs(db, batch);
  // The newest 2% wait, the 40 before them run, the rest finished (1 in 10 failed).
  const pending = Math.floor(JOBS * 0.02);
  const rows = await db.query(`SELECT id FROM jobs ORDER BY created_at DESC, id DESC`);
  const running = rows.slice(pending, pending + 40).map((r) => String(r.id));
  const finished = rows.slice(pending + 40).map((r) => String(r.id));
  for (let i = 0; i < running.length; i++) {
    await db.query(`UPDATE jobs SET state = 'RUNNING', node_id = ?, started_at = created_at WHERE id = ?`, [nodeIds[i % nodeIds.length], running[i]]);
  }
  for (let i = 0; i < finished.length; i += 1000) {
    const chunk = finished.slice(i, i + 1000);
    await db.query(
      `UPDATE jobs SET state = CASE WHEN id % 10 = 0 THEN 'FAILED' ELSE 'SUCCEEDED' END, item_count = id % 500,
         node_id = ?, started_at = created_at, ended_at = created_at WHERE id IN (${chunk.map(() => '?').join(', ')})`,
      [nodeIds[i % nodeIds.length], ...chunk],
    );
  }
  if (db.kind === 'postgres') await db.query('ANALYZE');
  return { projects, nodeIds };
}

async function run(kind: TestDatabaseKind) {
  const tdb = await createTestDatabase(kind);
  let seeded: Seeded;
  const db = await openDatabase(parseDatabaseUrl(tdb.url));
  try {
    seeded = await fill(db);
  } finally {
    await db.close();
  }
  // The fixture stays as seeded: its running jobs' nodes never report, so nothing may be judged lost or pruned meanwhile.
  const server = await startTestServer({ databaseUrl: tdb.url, settings: { node_timeout: '86400', jobs_to_keep: '1000000' } });
  try {
    for (const [name, admin] of [['root', true], ['viewer', false]] as const) {
      const r = await server.cli(['adduser', name, ...(admin ? ['--admin'] : [])], 'bench-pass-1\n');
      if (r.code !== 0) throw new Error(`adduser failed: ${r.stderr}`);
    }
    // The viewer owns one project.
    const mine = seeded.projects[3]!;
    const check = await openDatabase(parseDatabaseUrl(tdb.url));
    try {
      const viewer = (await check.query(`SELECT id FROM users WHERE username = 'viewer'`))[0]!;
      await check.query(`UPDATE projects SET owner_id = ? WHERE id = ?`, [String(viewer.id), mine.id]);
    } finally {
      await check.close();
    }
    const admin = basic('root', 'bench-pass-1');
    const viewer = basic('viewer', 'bench-pass-1');
    const base = `http://127.0.0.1:${server.port}`;
    const page = async (path: string, auth: string, filter = '') => {
      const url = `${base}${path}?pageSize=${PAGE}${filter ? `&filter=${encodeURIComponent(filter)}` : ''}`;
      const res = await fetch(url, { headers: { authorization: auth } });
      const body = (await res.json()) as { jobs?: unknown[] };
      if (res.status !== 200) throw new Error(`${url}: ${res.status} ${JSON.stringify(body)}`);
      return body.jobs?.length ?? 0;
    };
    const stats = async (auth: string) => {
      const res = await fetch(`${base}/v1/projects/-/spiders/-/jobs:stats`, { headers: { authorization: auth } });
      const body = (await res.json()) as { spiders?: unknown[] };
      if (res.status !== 200) throw new Error(`jobs:stats: ${res.status} ${JSON.stringify(body)}`);
      return body.spiders?.length ?? 0;
    };
    const cases: Record<string, () => Promise<number>> = {
      all: () => page('/v1/projects/-/spiders/-/jobs', admin),
      pending: () => page('/v1/projects/-/spiders/-/jobs', admin, 'state = PENDING'),
      running: () => page('/v1/projects/-/spiders/-/jobs', admin, 'state = RUNNING'),
      failed: () => page('/v1/projects/-/spiders/-/jobs', admin, 'state = FAILED'),
      project: () => page(`/v1/projects/${seeded.projects[1]!.name}/spiders/-/jobs`, admin),
      spider: () => page(`/v1/projects/${seeded.projects[2]!.name}/spiders/c/jobs`, admin),
      node: () => page('/v1/projects/-/spiders/-/jobs', admin, `node = "nodes/${seeded.nodeIds[5]!}"`),
      nonAdminAll: () => page('/v1/projects/-/spiders/-/jobs', viewer),
      nonAdminRunning: () => page('/v1/projects/-/spiders/-/jobs', viewer, 'state = RUNNING'),
      // The web UI's Jobs page with its "Active" state filter.
      active: () => page('/v1/projects/-/spiders/-/jobs', admin, 'state = (PENDING OR RUNNING OR CANCELLING)'),
      // The dashboard's one request: GetJobStats (counts, 24 hours, each spider's newest job).
      dashboardStats: () => stats(admin),
      nonAdminDashboardStats: () => stats(viewer),
    };
    const out: Record<string, unknown> = { jobs: JOBS, pageSize: PAGE };
    for (const [name, call] of Object.entries(cases)) {
      for (let i = 0; i < 5; i++) await call(); // warm-up
      const samples: number[] = [];
      let rows = 0;
      for (let i = 0; i < CALLS; i++) {
        const t = performance.now();
        rows = await call();
        samples.push(performance.now() - t);
      }
      out[name] = { rows, ...pct(samples) };
    }
    return out;
  } finally {
    await server.stop();
    await tdb.drop();
  }
}

const kinds = (process.env.BENCH_DATABASES ?? 'postgres,sqlite').split(',') as TestDatabaseKind[];
const result: Record<string, unknown> = {};
for (const kind of kinds) result[kind] = await run(kind);
process.stdout.write(`${JSON.stringify({ jobListFirstPage: result }, null, 2)}\n`);
