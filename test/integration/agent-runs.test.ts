/**
 * Runs of real spiders on a real agent, seen through the scrapyd API and the
 * Job API: how a crawl ends (FAILED for an exception or a crawl that cannot
 * start, SUCCEEDED with `warning` for warnings only, a FAILED job retried),
 * 20,000 items arriving once each and in order, and cancel.json of a running
 * and of a pending crawl. Real server, real agent, real Scrapy crawls of
 * local pages; once per database kind.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { JobServiceClient } from '../../gen/scrapydd/v1/job.js';
import { getJob, jobFile, lines, processGroupGone, schedule, uploadProject, uploadQuotes, waitForJob } from '../support/agent-jobs.js';
import { startPageSite, type PageSite } from '../support/agent-pages.js';
import { removeAgentDir, startTestAgent, type LogEntry, type TestAgent } from '../support/agent-process.js';
import { createTestDatabase, testDatabaseKinds, type TestDatabase } from '../support/databases.js';
import { TEST_PYTHON } from '../support/eggs.js';
import { callOptions } from '../support/grpc-client.js';
import { request, scrapydGet, scrapydPost, type JsonObject } from '../support/http-client.js';
import { startTestServer, type TestServer } from '../support/server-process.js';
import { waitFor } from '../support/sim-agent.js';

const DEADLINE_MS = 120_000;
const NODE_NAME = 'e2e-runs';
const B = 'behaviours';
const stats = (job: JsonObject) => JSON.parse(job.statsJson as string) as Record<string, number | string>;
const assigned = (id: string) => (e: LogEntry) => e.msg === 'job assigned' && String(e.job).endsWith(`/jobs/${id}`);

/** Every message of a server-streaming call, or its error. */
function collect<T>(call: grpc.ClientReadableStream<T>): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const got: T[] = [];
    call.on('data', (m: T) => got.push(m));
    call.on('error', reject);
    call.on('end', () => resolve(got));
  });
}

/** The values of a ReadJobLog / ReadJobItems stream, checking that each message starts where the previous one ended. */
function contiguous(messages: { first: string; values: string[] }[]): string[] {
  const all: string[] = [];
  for (const m of messages) {
    assert.equal(m.first, String(all.length), 'each message continues where the previous one ended');
    all.push(...m.values);
  }
  return all;
}

for (const kind of testDatabaseKinds()) {
  describe(`runs on a real agent (${kind})`, () => {
    let db: TestDatabase;
    let server: TestServer;
    let agent: TestAgent;
    let jobs: JobServiceClient;
    const sites: PageSite[] = [];
    let retried: { first: string; retry: JsonObject } | undefined;
    const site = async (pages: number, delayMs?: number) => {
      const s = await startPageSite(pages, { delayMs });
      sites.push(s);
      return s;
    };

    before(async () => {
      db = await createTestDatabase(kind);
      server = await startTestServer({
        databaseUrl: db.url,
        settings: { enable_authentication: 'false', runner_python: TEST_PYTHON, node_name: NODE_NAME },
      });
      await uploadQuotes(server, undefined);
      await uploadProject(server, undefined, B);
      agent = await startTestAgent({ servers: [server.address], settings: { slots: '3' } });
      await agent.waitForLog((e) => e.msg === 'session accepted', 30_000, 'SessionAccepted');
      jobs = new JobServiceClient(server.address, grpc.credentials.createInsecure());
    });
    after(async () => {
      jobs?.close();
      for (const s of sites) await s.close();
      await agent?.stop();
      await server?.stop();
      await db?.drop();
      if (agent) await removeAgentDir(agent);
    });

    it('FAILED for an exception and for a crawl that cannot start, SUCCEEDED with warning for warnings only; a FAILED job is retried', async () => {
      const patch = await request(server, 'PATCH', `/v1/projects/${B}/spiders/raiser?updateMask=settings.retries`, { json: { settings: { retries: 1 } } });
      assert.equal(patch.status, 200, patch.text);
      const page = await site(1);
      const [raiser, badInit, warning] = [
        await schedule(server, undefined, 'raiser', { url: page.url }, B),
        await schedule(server, undefined, 'bad_init', {}, B),
        await schedule(server, undefined, 'warning', { url: page.url }, B),
      ];
      const ended = (spider: string, id: string) =>
        waitForJob(() => server, undefined, spider, id, (j) => j.state !== 'PENDING' && j.state !== 'RUNNING', DEADLINE_MS, 'the end', B);

      // An exception in a callback: Scrapy logs it at ERROR and exits 0; the item before it is kept.
      const raised = await ended('raiser', raiser);
      assert.equal(raised.state, 'FAILED', JSON.stringify(raised));
      assert.equal(raised.exitCode ?? 0, 0);
      assert.equal(raised.closeReason, 'finished');
      assert.equal(raised.itemCount, '1');
      assert.ok(Number(stats(raised)['log_count/ERROR']) >= 1);
      const raisedLog = await jobFile(server, undefined, 'logs', 'raiser', raiser, B);
      assert.match(raisedLog, /ERROR: Spider error processing <GET http:\/\/127\.0\.0\.1:\d+\/page\/0>/);
      assert.match(raisedLog, /RuntimeError: raiser breaks on purpose/);
      assert.deepEqual(lines(await jobFile(server, undefined, 'items', 'raiser', raiser, B)).map((l) => JSON.parse(l)), [{ url: page.url }]);
      // retries = 1: one more attempt, which fails the same way, and no third.
      const retry = await ended('raiser', `${raiser}-r2`);
      assert.equal(retry.state, 'FAILED');
      assert.equal(retry.attempt, 2);
      retried = { first: raised.name as string, retry };
      assert.match(await jobFile(server, undefined, 'logs', 'raiser', `${raiser}-r2`, B), /RuntimeError: raiser breaks on purpose/);

      // A spider whose constructor raises: the runner exits 3 and says why in the log.
      const broken = await ended('bad_init', badInit);
      assert.equal(broken.state, 'FAILED', JSON.stringify(broken));
      assert.equal(broken.exitCode, 3);
      assert.equal(broken.closeReason, 'failed');
      assert.equal(broken.itemCount ?? '0', '0');
      assert.match(lines(await jobFile(server, undefined, 'logs', 'bad_init', badInit, B)).at(-1) ?? '', /SPIDER_INIT_FAILED: ValueError: bad_init refuses to start$/);

      // Warnings only: success, flagged.
      const warned = await ended('warning', warning);
      assert.equal(warned.state, 'SUCCEEDED', JSON.stringify(warned));
      assert.equal(warned.warning, true);
      assert.equal(warned.itemCount, '1');
      assert.ok(Number(stats(warned)['log_count/WARNING']) >= 1);
      assert.equal(stats(warned)['log_count/ERROR'], undefined);
      const warnedLog = await jobFile(server, undefined, 'logs', 'warning', warning, B);
      assert.match(warnedLog, /WARNING: something looks odd on http:\/\/127\.0\.0\.1:\d+\/page\/0/);
      assert.match(warnedLog, /^printed by the warning spider$/m);

      // scrapyd sees all of them finished.
      const listed = await scrapydGet(server, 'listjobs.json', { project: B });
      const finished = (listed.json.finished as JsonObject[]).map((j) => j.id as string);
      for (const id of [raiser, `${raiser}-r2`, badInit, warning]) assert.ok(finished.includes(id), `${id} in ${finished.join(', ')}`);
      await assert.rejects(getJob(server, undefined, 'raiser', `${raiser}-r3`, B), /GetJob failed: 404/, 'no third attempt');
    });

    it('names the job a retry retries (Job.retry_of)', () => {
      assert.ok(retried, 'the retry ran');
      assert.equal(retried.retry.retryOf, retried.first);
    });

    it('20,000 items reach the server once each and in order; item count, stats and log agree', { timeout: 200_000 }, async () => {
      const COUNT = 20_000;
      const PAD = 300;
      const page = await site(1);
      const started = Date.now();
      const id = await schedule(server, undefined, 'many', { url: page.url, count: String(COUNT), pad: String(PAD) }, B);
      const job = await waitForJob(() => server, undefined, 'many', id, (j) => j.state === 'SUCCEEDED', DEADLINE_MS, 'SUCCEEDED', B);
      const took = Date.now() - started;
      assert.equal(job.warning ?? false, false);
      assert.equal(job.itemCount, String(COUNT));
      assert.equal(stats(job).item_scraped_count, COUNT);

      const served = lines(await jobFile(server, undefined, 'items', 'many', id, B));
      assert.equal(served.length, COUNT);
      served.forEach((line, n) => {
        const pad = `${String(n).padStart(8, '0')}-`.repeat(Math.ceil(PAD / 9)).slice(0, PAD);
        assert.deepEqual(JSON.parse(line), { n, text: `item ${n} é✓`, nested: { list: [n, null, true] }, pad }, `item ${n}`);
      });

      const itemMessages = await collect(jobs.readJobItems({ name: job.name as string, firstItem: '0' }, new grpc.Metadata(), callOptions()));
      const streamed = contiguous(itemMessages.map((m) => ({ first: m.firstItem, values: m.items })));
      assert.equal(streamed.length, COUNT);
      assert.ok(streamed.every((item, n) => item === served[n]), 'ReadJobItems streams what the items URL serves');
      const tail = await collect(jobs.readJobItems({ name: job.name as string, firstItem: String(COUNT - 2) }, new grpc.Metadata(), callOptions()));
      assert.deepEqual(tail.flatMap((m) => m.items), served.slice(-2), 'from first_item on');

      const log = lines(await jobFile(server, undefined, 'logs', 'many', id, B));
      assert.equal(String(log.length), job.logLineCount, 'the log as served has every line the job reported');
      assert.equal(log.filter((l) => /DEBUG: Scraped from <200 http:\/\/127\.0\.0\.1:\d+\/page\/0>$/.test(l)).length, COUNT, 'one "Scraped from" line per item');
      assert.ok(log.some((l) => l.includes("'item_scraped_count': 20000")), 'the stats dump');
      assert.ok(log.some((l) => l.includes('Spider closed (finished)')));
      const logMessages = await collect(jobs.readJobLog({ name: job.name as string, firstLine: '0', follow: false }, new grpc.Metadata(), callOptions()));
      const streamedLog = contiguous(logMessages.map((m) => ({ first: m.firstLine, values: m.lines })));
      assert.ok(streamedLog.length === log.length && streamedLog.every((l, i) => l === log[i]), 'ReadJobLog streams what the log URL serves');
      process.stderr.write(`# ${kind}: ${COUNT} items (${served.reduce((n, l) => n + l.length + 1, 0)} bytes, ${log.length} log lines) scheduled to SUCCEEDED in ${took} ms\n`);
    });

    it('cancel.json: a pending crawl leaves the queue, a running one stops, keeping its log and items; the crawl process is gone', async () => {
      const slow = await site(100, 200);
      const running = await schedule(server, undefined, 'gamma', { url: slow.url, tag: 'to-cancel' });
      const midway = await waitForJob(() => server, undefined, 'gamma', running, (j) => j.state === 'RUNNING' && Number(j.itemCount) >= 3 && Number(j.logLineCount) > 0, DEADLINE_MS, 'three items');
      const pid = midway.pid as number;
      assert.ok(pid > 0, JSON.stringify(midway));
      assert.equal(processGroupGone(pid), false, 'the crawl runs');

      // A second gamma job waits: the spider's concurrency is 1.
      const untouched = await site(3);
      const pending = await schedule(server, undefined, 'gamma', { url: untouched.url });
      const queued = await scrapydGet(server, 'listjobs.json', { project: 'quotes' });
      assert.deepEqual(
        (queued.json.pending as JsonObject[]).map((j) => [j.id, j.spider, j.args]),
        [[pending, 'gamma', { url: untouched.url }]],
      );
      const shown = (queued.json.running as JsonObject[]).find((j) => j.id === running);
      assert.deepEqual(shown && [shown.pid, shown.log_url, shown.items_url], [pid, `/logs/quotes/gamma/${running}.log`, `/items/quotes/gamma/${running}.jl`]);

      const c1 = await scrapydPost(server, 'cancel.json', { project: 'quotes', job: pending });
      assert.deepEqual(c1.json, { node_name: NODE_NAME, status: 'ok', prevstate: 'pending' });
      const dropped = await getJob(server, undefined, 'gamma', pending);
      assert.deepEqual([dropped.state, dropped.closeReason], ['CANCELLED', 'cancelled']);

      const c2 = await scrapydPost(server, 'cancel.json', { project: 'quotes', job: running });
      assert.deepEqual(c2.json, { node_name: NODE_NAME, status: 'ok', prevstate: 'running' });
      await agent.waitForLog((e) => e.msg === 'cancel requested' && String(e.job).endsWith(`/jobs/${running}`), 30_000, 'the JobCancel');
      const job = await waitForJob(() => server, undefined, 'gamma', running, (j) => j.state === 'CANCELLED', DEADLINE_MS, 'CANCELLED');
      assert.equal(job.closeReason, 'cancelled');
      assert.equal(stats(job).finish_reason, 'shutdown');
      assert.ok(processGroupGone(pid), `the crawl (process group ${pid}) is gone`);

      const status = await scrapydGet(server, 'status.json', { project: 'quotes', job: running });
      assert.deepEqual(status.json, { node_name: NODE_NAME, status: 'ok', currstate: 'finished' });
      const listed = await scrapydGet(server, 'listjobs.json', { project: 'quotes' });
      assert.deepEqual([listed.json.pending, listed.json.running], [[], []]);
      const finished = listed.json.finished as JsonObject[];
      for (const id of [running, pending]) {
        const f = finished.find((j) => j.id === id);
        assert.deepEqual(f && [f.spider, f.log_url, f.items_url], ['gamma', `/logs/quotes/gamma/${id}.log`, `/items/quotes/gamma/${id}.jl`]);
      }

      const items = lines(await jobFile(server, undefined, 'items', 'gamma', running)).map((l) => JSON.parse(l) as { url: string; tag: string });
      assert.equal(String(items.length), job.itemCount);
      assert.ok(items.length >= 3 && items.length < slow.pages, `${items.length} items`);
      const base = slow.url.replace(/\/0$/, '');
      assert.deepEqual(items.map((i) => [i.url, i.tag]), items.map((_, n) => [`${base}/${n}`, 'to-cancel']), 'the pages crawled, in order');
      const log = lines(await jobFile(server, undefined, 'logs', 'gamma', running));
      assert.equal(String(log.length), job.logLineCount);
      assert.ok(log.some((l) => l.includes('Received SIGINT, shutting down gracefully')), 'stopped by SIGINT');
      assert.ok(log.some((l) => l.includes('Spider closed (shutdown)')));

      // The queue moves on past the cancelled pending job, which never reached the agent, nor its site.
      const next = await schedule(server, undefined, 'gamma', { url: (await site(1)).url });
      await waitForJob(() => server, undefined, 'gamma', next, (j) => j.state === 'SUCCEEDED', DEADLINE_MS, 'the next gamma job SUCCEEDED');
      assert.equal(agent.logs.find(assigned(pending)), undefined);
      assert.equal(untouched.hits.size, 0);
      // cancel.json of a finished job changes nothing (scrapyd answers prevstate null).
      const again = await scrapydPost(server, 'cancel.json', { project: 'quotes', job: running });
      assert.deepEqual(again.json, { node_name: NODE_NAME, status: 'ok', prevstate: null });
      assert.equal((await getJob(server, undefined, 'gamma', running)).state, 'CANCELLED');
    });

    it('cancel.json with signal=KILL ends at once a crawl that would never stop on SIGINT', async () => {
      const page = await site(1);
      const id = await schedule(server, undefined, 'blocker', { url: page.url }, B);
      const log = () => jobFile(server, undefined, 'logs', 'blocker', id, B);
      await waitFor('the reactor to block', DEADLINE_MS, log, (text) => text.includes('blocker: blocking the reactor'), 250);
      const { pid } = await getJob(server, undefined, 'blocker', id, B);
      const cancelled = Date.now();
      const reply = await scrapydPost(server, 'cancel.json', { project: B, job: id, signal: 'KILL' });
      assert.deepEqual(reply.json, { node_name: NODE_NAME, status: 'ok', prevstate: 'running' });
      const job = await waitForJob(() => server, undefined, 'blocker', id, (j) => j.state === 'CANCELLED', 20_000, 'CANCELLED', B);
      assert.ok(Date.now() - cancelled < 15_000, 'well before cancel_grace (30 s)');
      assert.equal(job.exitCode, -9);
      assert.ok(processGroupGone(pid as number), 'the crawl is gone');
      assert.match(await log(), /blocker: blocking the reactor/);
    });
  });
}
