/**
 * What the web UI's job pages read over plain HTTP, on both databases: item
 * downloads as JSON lines, a JSON array and CSV (RFC 4180, header from the
 * union of keys, nested values as JSON) with file names; parts of a log
 * (first_line, max_lines) with the line count so far; and GetJobStats over
 * REST (counts now and over 24 hours, hours, each spider's newest job) for
 * the projects the caller may see.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { parseDatabaseUrl } from '../../src/config/database-url.js';
import { openDatabase, type Db } from '../../src/storage/database.js';
import * as jobsRepo from '../../src/storage/jobs-repo.js';
import { testDatabaseKinds } from '../support/databases.js';
import { request, type JsonObject } from '../support/http-client.js';
import { ADMIN, ALICE, authOf, BOB, useServer } from '../support/http-harness.js';
import { ids, seedProject } from '../support/job-rows.js';

const HOUR = 3_600_000;

/** The fields named by an error's BadRequest detail. */
function fields(body: JsonObject): string[] {
  const detail = (body.error.details as JsonObject[]).find((d) => d.fieldViolations);
  return (detail?.fieldViolations as JsonObject[] | undefined)?.map((v) => String(v.field)) ?? [];
}
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

interface Seeded {
  /** Job keys by role. */
  items: string;
  empty: string;
  running: string;
  pending: string;
  failed: string;
}

async function addJob(db: Db, projectId: string, spiderId: string, createTime: string, set: string, params: unknown[]): Promise<string> {
  const id = ids.next();
  await jobsRepo.insertJobs(db, [{ id, key: `job-${id}`, projectId, spiderId, versionName: 'r1', eggSha256: 'a'.repeat(64), eggSize: 1,
    settingsModule: 'x.settings', priority: 0, tag: '', args: {}, settings: {}, timeoutSeconds: 60, attempt: 1, createTime }]);
  if (set) await db.query(`UPDATE jobs SET ${set} WHERE id = ?`, [...params, id]);
  return `job-${id}`;
}

async function addChunk(db: Db, key: string, kind: 'log' | 'items', first: number, values: string[]): Promise<void> {
  const job = (await db.query('SELECT id FROM jobs WHERE job_key = ?', [key]))[0]!;
  await db.query('INSERT INTO job_chunks (job_id, kind, first_index, count, data) VALUES (?, ?, ?, ?, ?)', [job.id, kind, first, values.length, JSON.stringify(values)]);
}

async function seed(url: string): Promise<Seeded> {
  const db = await openDatabase(parseDatabaseUrl(url));
  try {
    const shop = await seedProject(db, 'shop', ['alpha', 'beta']);
    const other = await seedProject(db, 'other', ['gamma']);
    const owner = async (user: string, projectId: string) =>
      db.query('UPDATE projects SET owner_id = (SELECT id FROM users WHERE username = ?) WHERE id = ?', [user, projectId]);
    await owner(ALICE.name, shop.projectId);
    await owner(BOB.name, other.projectId);
    const alpha = shop.spiderIds.get('alpha')!;
    const beta = shop.spiderIds.get('beta')!;
    const gamma = other.spiderIds.get('gamma')!;
    const done = "state = 'SUCCEEDED', started_at = ?, ended_at = ?, item_count = ?, log_line_count = ?";
    const items = await addJob(db, shop.projectId, alpha, ago(3 * HOUR), done, [ago(2 * HOUR), ago(HOUR), 10, 5]);
    const empty = await addJob(db, shop.projectId, alpha, ago(2 * HOUR), done, [ago(2 * HOUR), ago(2 * HOUR), 0, 0]);
    const running = await addJob(db, shop.projectId, alpha, ago(HOUR), "state = 'RUNNING', started_at = ?, item_count = ?", [ago(HOUR / 2), 3]);
    const pending = await addJob(db, shop.projectId, beta, ago(60_000), '', []);
    const failed = await addJob(db, other.projectId, gamma, ago(4 * HOUR), "state = 'FAILED', started_at = ?, ended_at = ?", [ago(3 * HOUR), ago(3 * HOUR)]);
    // Ended 30 hours ago: outside the window.
    await addJob(db, other.projectId, gamma, ago(32 * HOUR), done, [ago(31 * HOUR), ago(30 * HOUR), 7, 0]);
    await addChunk(db, items, 'items', 0, ['{"a":1,"b":"x,y"}', '{"b":"say \\"hi\\"\\nbye","c":{"n":[1,2]}}']);
    await addChunk(db, items, 'items', 2, ['{"a":null,"d":true}']);
    await addChunk(db, items, 'log', 0, ['line 0', 'line 1', 'line 2']);
    await addChunk(db, items, 'log', 3, ['line 3', 'line 4']);
    return { items, empty, running, pending, failed };
  } finally {
    await db.close();
  }
}

for (const kind of testDatabaseKinds()) {
  describe(`job downloads, log parts and stats (${kind})`, () => {
    const h = useServer(kind, { users: [ADMIN, ALICE, BOB] });
    let s: Seeded;
    before(async () => {
      s = await seed(h().db.url);
    });
    const get = (path: string, user = ALICE) => request(h().server, 'GET', path, { auth: authOf(user) });

    it('downloads items as JSON lines, a JSON array and CSV with file names', async () => {
      const base = `/items/shop/alpha/${s.items}.jl`;
      const plain = await get(base);
      assert.equal(plain.status, 200);
      assert.equal(plain.headers.get('content-disposition'), null, 'the scrapyd URL stays a plain feed');
      assert.equal(plain.text, '{"a":1,"b":"x,y"}\n{"b":"say \\"hi\\"\\nbye","c":{"n":[1,2]}}\n{"a":null,"d":true}\n');

      const jsonl = await get(`${base}?format=jsonl`);
      assert.equal(jsonl.text, plain.text);
      assert.equal(jsonl.headers.get('content-disposition'), `attachment; filename="shop-alpha-${s.items}.jl"; filename*=UTF-8''shop-alpha-${s.items}.jl`);

      const json = await get(`${base}?format=json`);
      assert.equal(json.status, 200);
      assert.match(json.headers.get('content-type')!, /^application\/json/);
      assert.match(json.headers.get('content-disposition')!, new RegExp(`filename="shop-alpha-${s.items}\\.json"`));
      assert.deepEqual(JSON.parse(json.text), [{ a: 1, b: 'x,y' }, { b: 'say "hi"\nbye', c: { n: [1, 2] } }, { a: null, d: true }]);

      const csv = await get(`${base}?format=csv`);
      assert.equal(csv.status, 200);
      assert.match(csv.headers.get('content-type')!, /^text\/csv/);
      assert.match(csv.headers.get('content-disposition')!, new RegExp(`filename="shop-alpha-${s.items}\\.csv"`));
      assert.equal(csv.text, 'a,b,c,d\r\n1,"x,y",,\r\n,"say ""hi""\nbye","{""n"":[1,2]}",\r\n,,,true\r\n');

      const preview = await get(`${base}?max_items=1`);
      assert.equal(preview.text, '{"a":1,"b":"x,y"}\n');
      const previewCsv = await get(`${base}?format=csv&max_items=2`);
      assert.equal(previewCsv.text, 'a,b,c\r\n1,"x,y",\r\n,"say ""hi""\nbye","{""n"":[1,2]}"\r\n');
    });

    it('downloads a job without items as an empty array and an empty CSV', async () => {
      const json = await get(`/items/shop/alpha/${s.empty}.jl?format=json`);
      assert.deepEqual(JSON.parse(json.text), []);
      const csv = await get(`/items/shop/alpha/${s.empty}.jl?format=csv`);
      assert.equal(csv.status, 200);
      assert.equal(csv.text, '');
    });

    it('refuses an unknown format and other users\' jobs', async () => {
      const bad = await get(`/items/shop/alpha/${s.items}.jl?format=xml`);
      assert.equal(bad.status, 400);
      assert.equal(bad.json.error.status, 'INVALID_ARGUMENT');
      assert.match(bad.json.error.message, /format must be one of jsonl, json, csv/);
      const denied = await get(`/items/shop/alpha/${s.items}.jl?format=csv`, BOB);
      assert.equal(denied.status, 403);
      const log = await get(`/logs/shop/alpha/${s.items}.log?first_line=0`, BOB);
      assert.equal(log.status, 403);
    });

    it('challenges anonymous readers with Basic, except the web UI, which signs in itself', async () => {
      for (const path of [`/logs/shop/alpha/${s.items}.log`, `/items/shop/alpha/${s.items}.jl?format=csv`]) {
        const anonymous = await request(h().server, 'GET', path);
        assert.equal(anonymous.status, 401, path);
        assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Basic realm="scrapydd"/, path);
        const fromUi = await request(h().server, 'GET', path, { headers: { 'x-scrapydd-ui': '1', cookie: 'scrapydd_session=expired' } });
        assert.equal(fromUi.status, 401, path);
        assert.equal(fromUi.headers.get('www-authenticate'), null, `${path}: a challenge would pop up the browser's sign-in box`);
      }
    });

    it('reads part of a log with the line count so far', async () => {
      const all = await get(`/logs/shop/alpha/${s.items}.log`);
      assert.equal(all.text, 'line 0\nline 1\nline 2\nline 3\nline 4\n');
      assert.equal(all.headers.get('x-log-line-count'), '5');
      const part = await get(`/logs/shop/alpha/${s.items}.log?first_line=2&max_lines=2`);
      assert.equal(part.status, 200);
      assert.equal(part.text, 'line 2\nline 3\n');
      assert.equal(part.headers.get('x-first-line'), '2');
      assert.equal(part.headers.get('x-log-line-count'), '5');
      const tail = await get(`/logs/shop/alpha/${s.items}.log?first_line=4`);
      assert.equal(tail.text, 'line 4\n');
      const past = await get(`/logs/shop/alpha/${s.items}.log?first_line=5`);
      assert.equal(past.text, '');
      for (const q of ['first_line=-1', 'first_line=x', 'max_lines=1.5']) {
        const bad = await get(`/logs/shop/alpha/${s.items}.log?${q}`);
        assert.equal(bad.status, 400, q);
        assert.deepEqual(fields(bad.json), [q.split('=')[0]], q);
      }
    });

    it('answers job stats for every visible project to an admin, with online nodes', async () => {
      const r = await get('/v1/projects/-/spiders/-/jobs:stats', ADMIN);
      assert.equal(r.status, 200, r.text);
      const st = r.json;
      assert.equal(st.pendingJobs, '1');
      assert.equal(st.runningJobs, '1');
      assert.equal(st.succeededJobs, '2');
      assert.equal(st.failedJobs, '1');
      assert.equal(st.cancelledJobs, undefined);
      assert.equal(st.onlineNodes, 0);
      assert.equal(st.hours.length, 24);
      const started = st.hours.reduce((n: number, x: { startedJobs?: string }) => n + Number(x.startedJobs ?? 0), 0);
      const items = st.hours.reduce((n: number, x: { items?: string }) => n + Number(x.items ?? 0), 0);
      assert.equal(started, 4);
      assert.equal(items, 13);
      const last = Date.parse(st.hours[23].startTime);
      assert.ok(last <= Date.now() && Date.now() - last < HOUR, st.hours[23].startTime);
      assert.equal(Date.parse(st.hours[1].startTime) - Date.parse(st.hours[0].startTime), HOUR);
      assert.deepEqual(
        st.spiders.map((x: { spider: string; lastJob?: { name: string } }) => [x.spider, x.lastJob?.name.split('/').pop()]),
        [['projects/other/spiders/gamma', st.spiders[0].lastJob.name.split('/').pop()], ['projects/shop/spiders/alpha', s.running], ['projects/shop/spiders/beta', s.pending]],
      );
    });

    it('limits job stats to the caller\'s projects and checks the parent', async () => {
      const mine = await get('/v1/projects/-/spiders/-/jobs:stats');
      assert.equal(mine.status, 200, mine.text);
      assert.equal(mine.json.failedJobs, undefined, 'bob\'s failed job is not counted');
      assert.equal(mine.json.succeededJobs, '2');
      assert.equal(mine.json.onlineNodes, undefined, 'nodes are for admins');
      assert.deepEqual(mine.json.spiders.map((x: { spider: string }) => x.spider), ['projects/shop/spiders/alpha', 'projects/shop/spiders/beta']);
      const beta = await get('/v1/projects/shop/spiders/beta/jobs:stats');
      assert.equal(beta.json.pendingJobs, '1');
      assert.equal(beta.json.runningJobs, undefined);
      assert.deepEqual(beta.json.spiders.map((x: { spider: string }) => x.spider), ['projects/shop/spiders/beta']);
      const denied = await get('/v1/projects/other/spiders/-/jobs:stats');
      assert.equal(denied.status, 403);
      // The next fire time of a spider's enabled triggers, the earliest of them.
      const cron = (expr: string, enabled: boolean) =>
        request(h().server, 'POST', '/v1/projects/shop/spiders/beta/triggers', { auth: authOf(ALICE), json: { cron: expr, enabled } });
      const daily = await cron('0 3 * * *', true);
      assert.equal(daily.status, 200, daily.text);
      assert.equal((await cron('* * * * *', false)).status, 200, 'a disabled trigger does not count');
      const withTrigger = await get('/v1/projects/-/spiders/-/jobs:stats');
      const next = withTrigger.json.spiders.map((x: { spider: string; nextFireTime?: string }) => [x.spider, x.nextFireTime]);
      assert.deepEqual(next, [['projects/shop/spiders/alpha', undefined], ['projects/shop/spiders/beta', daily.json.nextFireTime]]);
      const bad = await get('/v1/projects/-/spiders/alpha/jobs:stats');
      assert.equal(bad.status, 400);
      assert.deepEqual(fields(bad.json), ['parent']);
      const bob = await get('/v1/projects/-/spiders/-/jobs:stats', BOB);
      assert.equal(bob.json.failedJobs, '1');
      assert.equal(bob.json.pendingJobs, undefined);
    });
  });
}
