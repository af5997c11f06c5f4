/**
 * Two real agents with different tags and slots: jobs go by the tags table;
 * an agent killed with SIGKILL mid-crawl loses its job, which is retried on
 * an agent with the tag when the spider allows. Real server, real agents,
 * real Scrapy crawls of local pages; once per database kind.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { getJob, schedule, uploadQuotes, waitForJob } from '../support/agent-jobs.js';
import { startPageSite, type PageSite } from '../support/agent-pages.js';
import { removeAgentDir, startTestAgent, type LogEntry, type TestAgent } from '../support/agent-process.js';
import { createTestDatabase, testDatabaseKinds, type TestDatabase } from '../support/databases.js';
import { TEST_PYTHON } from '../support/eggs.js';
import { request } from '../support/http-client.js';
import { startTestServer, type TestServer } from '../support/server-process.js';

const DEADLINE_MS = 120_000;
const accepted = (e: LogEntry) => e.msg === 'session accepted';

for (const kind of testDatabaseKinds()) {
  describe(`a fleet of agents (${kind})`, () => {
    let db: TestDatabase;
    let server: TestServer;
    let tagged: TestAgent;
    let plain: TestAgent;
    let taggedNode: string;
    let plainNode: string;
    const agents: TestAgent[] = [];
    const sites: PageSite[] = [];

    before(async () => {
      db = await createTestDatabase(kind);
      server = await startTestServer({
        databaseUrl: db.url,
        settings: { enable_authentication: 'false', runner_python: TEST_PYTHON, heartbeat_interval: '1', node_timeout: '4' },
      });
      await uploadQuotes(server, undefined);
      const patch = await request(server, 'PATCH', '/v1/projects/quotes/spiders/alpha?updateMask=settings.tag,settings.retries', {
        json: { settings: { tag: 'x', retries: 1 } },
      });
      assert.equal(patch.status, 200, patch.text);
      tagged = await startTestAgent({ servers: [server.address], settings: { tags: 'x', slots: '1' } });
      plain = await startTestAgent({ servers: [server.address], settings: { slots: '2' } });
      agents.push(tagged, plain);
      taggedNode = String((await tagged.waitForLog(accepted, 30_000, 'tagged session')).node);
      plainNode = String((await plain.waitForLog(accepted, 30_000, 'plain session')).node);
    });
    after(async () => {
      for (const s of sites) {
        s.release();
        await s.close();
      }
      for (const a of agents) {
        await a.stop().catch(() => undefined);
        await removeAgentDir(a).catch(() => undefined);
      }
      await server?.stop();
      await db?.drop();
    });

    it('runs a tagged spider on the agent with its tag and untagged spiders on the agent without tags', async () => {
      const site = await startPageSite(2);
      sites.push(site);
      const alpha = await schedule(server, undefined, 'alpha', { url: site.url });
      const betas = [await schedule(server, undefined, 'beta', { url: site.url }), await schedule(server, undefined, 'beta', { url: site.url })];
      const done = await waitForJob(() => server, undefined, 'alpha', alpha, (j) => j.state === 'SUCCEEDED', DEADLINE_MS, 'alpha SUCCEEDED');
      assert.equal(done.node, taggedNode);
      for (const id of betas) {
        const job = await waitForJob(() => server, undefined, 'beta', id, (j) => j.state === 'SUCCEEDED', DEADLINE_MS, 'beta SUCCEEDED');
        assert.equal(job.node, plainNode, 'the agent with a tag never runs an untagged spider');
      }
    });

    it('stops a job at its spider\'s timeout, keeping its log and items', async () => {
      const patch = await request(server, 'PATCH', '/v1/projects/quotes/spiders/gamma?updateMask=settings.timeout_seconds', {
        json: { settings: { timeoutSeconds: 3 } },
      });
      assert.equal(patch.status, 200, patch.text);
      const site = await startPageSite(4, { holdAt: 1 });
      sites.push(site);
      const id = await schedule(server, undefined, 'gamma', { url: site.url });
      const job = await waitForJob(() => server, undefined, 'gamma', id, (j) => j.state === 'CANCELLED', DEADLINE_MS, 'stopped by its timeout');
      site.release();
      assert.equal(job.closeReason, 'timeout');
      assert.equal(job.node, plainNode);
      assert.equal(job.itemCount, '1', 'the item scraped before the timeout is kept');
    });

    it('loses the job of an agent killed mid-crawl and retries it on another agent with the tag', async () => {
      const site = await startPageSite(4, { holdAt: 1 });
      sites.push(site);
      const id = await schedule(server, undefined, 'alpha', { url: site.url });
      await waitForJob(() => server, undefined, 'alpha', id, (j) => j.state === 'RUNNING' && Number(j.itemCount) >= 1, DEADLINE_MS, 'a running crawl');
      tagged.process.kill('SIGKILL');
      await tagged.exited;
      const lost = await waitForJob(() => server, undefined, 'alpha', id, (j) => j.state === 'LOST', DEADLINE_MS, 'LOST');
      assert.equal(lost.node, taggedNode);
      site.release();
      const spare = await startTestAgent({ servers: [server.address], settings: { tags: 'x' } });
      agents.push(spare);
      const spareNode = String((await spare.waitForLog(accepted, 30_000, 'spare session')).node);
      const retry = await waitForJob(() => server, undefined, 'alpha', `${id}-r2`, (j) => j.state === 'SUCCEEDED', DEADLINE_MS, 'the retry SUCCEEDED');
      assert.equal(retry.node, spareNode);
      assert.equal(retry.attempt, 2);
      assert.equal((await getJob(server, undefined, 'alpha', id)).state, 'LOST', 'the lost attempt stays lost');
    });
  });
}
