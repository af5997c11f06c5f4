/**
 * The agent end to end: the real server binary, the real agent binary, real
 * Scrapy crawls of local pages. A temporary node (authentication off) runs a
 * scheduled job; a permanent node registers with `agent -g`, runs jobs
 * authenticated, keeps its node across restarts, and a crawl survives a
 * server restart with its log and items complete. Once per database kind.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createNodeKey, getJob, jobFile, jobPath, lines, schedule, uploadQuotes, waitForJob } from '../support/agent-jobs.js';
import { startPageSite, type PageSite } from '../support/agent-pages.js';
import { agentWorkDir, registerAgent, removeAgentDir, startTestAgent, type LogEntry, type TestAgent } from '../support/agent-process.js';
import { startServerAt } from '../support/agent-server.js';
import { createTestDatabase, testDatabaseKinds, type TestDatabase } from '../support/databases.js';
import { TEST_PYTHON } from '../support/eggs.js';
import { request } from '../support/http-client.js';
import { addUser, ADMIN, authOf } from '../support/http-harness.js';
import { freePort, startTestServer, type TestServer } from '../support/server-process.js';

const JOB_DEADLINE_MS = 150_000;
const accepted = (node?: string) => (e: LogEntry) => e.msg === 'session accepted' && (node === undefined || e.node === node);

/** Checks a finished crawl of `site` by `spider`: every page once, as items and in the log. */
async function assertCompleteCrawl(server: TestServer, auth: string | undefined, spider: string, id: string, site: PageSite) {
  const job = await getJob(server, auth, spider, id);
  assert.equal(job.state, 'SUCCEEDED', JSON.stringify(job));
  assert.equal(job.itemCount, String(site.pages));
  const items = lines(await jobFile(server, auth, 'items', spider, id)).map((l) => JSON.parse(l) as { url: string; title: string });
  assert.equal(items.length, site.pages);
  const expected = Array.from({ length: site.pages }, (_, i) => `${site.url.replace(/\/page\/0$/, '')}/page/${i}`);
  assert.deepEqual(items.map((i) => i.url).sort(), expected.sort(), 'every page once, nothing twice');
  const log = lines(await jobFile(server, auth, 'logs', spider, id));
  assert.equal(String(log.length), job.logLineCount, 'the log as served has every line the job reported');
  assert.equal(log.filter((l) => /Scraped from <200 http:\/\/127\.0\.0\.1:\d+\/page\/\d+>/.test(l)).length, site.pages, 'one "Scraped from" line per page');
  assert.ok(log.some((l) => l.includes('Spider closed (finished)')), 'the log ends with the spider closing');
  for (const [path, n] of site.hits) if (/^\/page\//.test(path)) assert.equal(n, 1, `${path} was crawled ${n} times`);
}

for (const kind of testDatabaseKinds()) {
  describe(`agent (${kind})`, () => {
    describe('temporary node (enable_authentication = false)', () => {
      let db: TestDatabase;
      let server: TestServer;
      let agent: TestAgent;
      let site: PageSite;
      let dead: string;
      before(async () => {
        db = await createTestDatabase(kind);
        server = await startTestServer({ databaseUrl: db.url, settings: { enable_authentication: 'false', runner_python: TEST_PYTHON } });
        site = await startPageSite(3);
        // The first configured server is down: the agent fails over to the second.
        dead = `127.0.0.1:${await freePort()}`;
        agent = await startTestAgent({ servers: [dead, server.address] });
        await agent.waitForLog(accepted(), 30_000, 'SessionAccepted');
      });
      after(async () => {
        await agent?.stop();
        await server?.stop();
        await site?.close();
        await db?.drop();
        if (agent) await removeAgentDir(agent);
      });

      it('runs a scheduled job to SUCCEEDED; items and log are on the server', { timeout: 200_000 }, async () => {
        await uploadQuotes(server, undefined);
        const id = await schedule(server, undefined, 'alpha', { url: site.url });
        const job = await waitForJob(() => server, undefined, 'alpha', id, (j) => j.state === 'SUCCEEDED', JOB_DEADLINE_MS, 'SUCCEEDED');
        const node = (await agent.waitForLog(accepted(), 1000)).node as string;
        assert.equal(job.node, node, 'run by the agent');
        await assertCompleteCrawl(server, undefined, 'alpha', id, site);
        const nodes = await request(server, 'GET', `/v1/${node}`);
        assert.equal(nodes.status, 200, nodes.text);
        assert.equal(nodes.json.temporary, true);
        assert.ok(agent.logs.some((e) => e.msg === 'cannot open a session' && e.server === dead), 'tried the first server first');
      });
    });

    describe('permanent node (authentication on)', () => {
      const A = authOf(ADMIN);
      let db: TestDatabase;
      let serverDir: string;
      let port: number;
      let server: TestServer;
      let agentDir: string;
      let agent: TestAgent | undefined;
      let node = '';
      let token = '';
      const startServer = async () => (server = await startServerAt({ port, workDir: serverDir, databaseUrl: db.url }));

      before(async () => {
        db = await createTestDatabase(kind);
        serverDir = await mkdtemp(join(tmpdir(), 'scrapydd-srv-'));
        port = await freePort();
        await startServer();
        await addUser(server, ADMIN);
        await uploadQuotes(server, A);
        agentDir = await agentWorkDir();
      });
      after(async () => {
        await agent?.stop();
        await server?.stop();
        await db?.drop();
        await rm(serverDir, { recursive: true, force: true });
        await rm(agentDir, { recursive: true, force: true });
      });

      it('refuses an unregistered agent and tells it to run scrapydd agent -g', { timeout: 60_000 }, async () => {
        const stray = await startTestAgent({ servers: [server.address], workDir: await agentWorkDir() });
        try {
          const hint = await stray.waitForLog((e) => e.level >= 50 && /scrapydd agent -g/.test(String(e.msg)), 30_000, 'a registration hint');
          assert.match(String(hint.code), /PERMISSION_DENIED|UNAUTHENTICATED/);
        } finally {
          await stray.stop();
          await removeAgentDir(stray);
        }
      });

      it('registers with agent -g (node key and secret on standard input)', { timeout: 60_000 }, async () => {
        const key = await createNodeKey(server, A);
        const result = await registerAgent({ servers: [server.address], workDir: agentDir }, `${key.name}\n${key.secret}\n`);
        assert.equal(result.code, 0, result.stderr);
        node = /registered (nodes\/\d+)/.exec(result.stdout)?.[1] ?? '';
        assert.notEqual(node, '', result.stdout);
        const nodeFile = join(agentDir, 'data', 'node.json');
        assert.equal((await stat(nodeFile)).mode & 0o777, 0o600);
        const stored = JSON.parse(await readFile(nodeFile, 'utf8')) as { node: string; token: string };
        assert.equal(stored.node, node);
        assert.match(stored.token, /^sdn_/);
        token = stored.token;
        assert.ok(!result.stdout.includes(token) && !result.stderr.includes(token), 'the token is never printed');

        const again = await registerAgent({ servers: [server.address], workDir: agentDir }, `${key.name}\n${key.secret}\n`);
        assert.notEqual(again.code, 0, 'a second registration over the node file is refused');
        assert.match(again.stderr, /already registered/);
      });

      it('runs jobs authenticated as that node', { timeout: 200_000 }, async () => {
        assert.notEqual(node, '', 'registered');
        agent = await startTestAgent({ servers: [server.address], workDir: agentDir });
        await agent.waitForLog(accepted(node), 30_000, `SessionAccepted for ${node}`);
        const site = await startPageSite(3);
        try {
          const id = await schedule(server, A, 'beta', { url: site.url });
          const job = await waitForJob(() => server, A, 'beta', id, (j) => j.state === 'SUCCEEDED', JOB_DEADLINE_MS, 'SUCCEEDED');
          assert.equal(job.node, node);
          await assertCompleteCrawl(server, A, 'beta', id, site);
        } finally {
          await site.close();
        }
        assert.ok(agent.logs.every((e) => !JSON.stringify(e).includes(token)), 'the token is never logged');
      });

      it('cancels a running crawl: CANCELLED, keeping the log and items it made', { timeout: 200_000 }, async () => {
        assert.ok(agent, 'running');
        const site = await startPageSite(10, { holdAt: 3 });
        try {
          const id = await schedule(server, A, 'gamma', { url: site.url, tag: 'cancel-me' });
          await waitForJob(() => server, A, 'gamma', id, (j) => j.state === 'RUNNING' && Number(j.itemCount) >= 3, JOB_DEADLINE_MS, 'three items');
          const reply = await request(server, 'POST', `${jobPath('gamma', id)}:cancel`, { auth: A, json: {} });
          assert.equal(reply.status, 200, reply.text);
          await agent.waitForLog((e) => e.msg === 'cancel requested' && String(e.job).endsWith(`/jobs/${id}`), 30_000, 'the JobCancel');
          site.release(); // Scrapy's graceful stop waits for the request in flight
          const job = await waitForJob(() => server, A, 'gamma', id, (j) => j.state === 'CANCELLED', JOB_DEADLINE_MS, 'CANCELLED');
          assert.equal(job.closeReason, 'cancelled');
          const items = lines(await jobFile(server, A, 'items', 'gamma', id));
          assert.equal(String(items.length), job.itemCount);
          assert.ok(items.length >= 3 && items.length < site.pages, `${items.length} items`);
          assert.ok(items.every((l) => (JSON.parse(l) as { tag: string }).tag === 'cancel-me'), 'spider arguments reach the crawl');
          const log = lines(await jobFile(server, A, 'logs', 'gamma', id));
          assert.equal(String(log.length), job.logLineCount);
        } finally {
          site.release();
          await site.close();
        }
      });

      it('a stopping agent stops its job and reports it; restarted, it keeps its node', { timeout: 150_000 }, async () => {
        assert.ok(agent, 'running');
        const site = await startPageSite(10, { holdAt: 2 });
        try {
          const id = await schedule(server, A, 'alpha', { url: site.url });
          await waitForJob(() => server, A, 'alpha', id, (j) => j.state === 'RUNNING' && Number(j.itemCount) >= 2, JOB_DEADLINE_MS, 'two items');
          const stopped = agent.stop();
          await agent.waitForLog((e) => /^stopping/.test(String(e.msg)), 10_000, 'the stop');
          site.release(); // Scrapy's graceful stop waits for the request in flight
          assert.equal(await stopped, 0, 'a clean stop');
          const job = await getJob(server, A, 'alpha', id);
          assert.equal(job.state, 'CANCELLED', 'reported before the agent exited');
          assert.equal(job.closeReason, 'agent stopped');
          assert.equal(String(lines(await jobFile(server, A, 'items', 'alpha', id)).length), job.itemCount);
        } finally {
          site.release();
          await site.close();
        }
        agent = await startTestAgent({ servers: [server.address], workDir: agentDir });
        await agent.waitForLog(accepted(node), 30_000, `SessionAccepted for ${node}`);
        const reply = await request(server, 'GET', `/v1/${node}`, { auth: A });
        assert.equal(reply.status, 200, reply.text);
        assert.equal(reply.json.isOnline, true);
        assert.notEqual(reply.json.temporary, true);
      });

      it('a crawl survives a server restart: its log and items end complete', { timeout: 240_000 }, async () => {
        assert.ok(agent, 'running');
        // Pages 0-14 come slowly (the crawl goes on while the server is away), page 15 waits for release().
        const site = await startPageSite(25, { delayMs: 150, holdAt: 15 });
        try {
          const id = await schedule(server, A, 'alpha', { url: site.url });
          await waitForJob(() => server, A, 'alpha', id, (j) => j.state === 'RUNNING' && Number(j.itemCount) >= 2, JOB_DEADLINE_MS, 'a running crawl with items');
          const mark = agent.logs.length;
          await server.stop();
          const drop = await agent.waitForLog((e) => e.msg === 'session ended; reconnecting', 30_000, 'the stream drop');
          assert.ok(agent.logs.indexOf(drop) >= mark);
          await startServer();
          const resumed = await agent.waitForLog((e) => accepted(node)(e) && agent!.logs.indexOf(e) > mark, 60_000, 'a new session');
          assert.equal(resumed.resumed, 1, 'the server gave the running job back');
          const midway = await getJob(server, A, 'alpha', id);
          assert.equal(midway.state, 'RUNNING', 'the crawl is still running (held at page 15)');
          // Everything produced while the server was away arrives (re-read from the agent's files).
          await waitForJob(() => server, A, 'alpha', id, (j) => Number(j.itemCount) >= 15, JOB_DEADLINE_MS, 'the items of pages 0-14');
          site.release();
          await waitForJob(() => server, A, 'alpha', id, (j) => j.state === 'SUCCEEDED', JOB_DEADLINE_MS, 'SUCCEEDED');
          await assertCompleteCrawl(server, A, 'alpha', id, site);
        } finally {
          site.release();
          await site.close();
        }
      });
    });
  });
}
