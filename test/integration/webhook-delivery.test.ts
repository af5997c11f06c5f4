/**
 * Webhook deliveries end to end on the real server binary and a local
 * receiver: every item of a finished job, urlencoded, in order, at most one
 * request per second; retries after a non-2xx; a FAILED delivery that lets
 * the next one go; a server SIGKILLed mid-delivery resuming with every item
 * exactly once; two servers on one PostgreSQL database sharing one
 * webhook's pace; and a real agent crawling with a real spider. Once per
 * database kind.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { getJob, schedule, uploadQuotes, waitForJob } from '../support/agent-jobs.js';
import { startPageSite } from '../support/agent-pages.js';
import { removeAgentDir, startTestAgent } from '../support/agent-process.js';
import { startServerAt } from '../support/agent-server.js';
import { curl } from '../support/curl.js';
import { createTestDatabase, testDatabaseKinds, type TestDatabase } from '../support/databases.js';
import { freePort, type TestServer } from '../support/server-process.js';
import { SimAgent, waitFor } from '../support/sim-agent.js';
import { startWebhookReceiver, type ReceivedRequest, type WebhookReceiver } from '../support/webhook-receiver.js';

const SETTINGS = { enable_authentication: 'false', webhook_allow_private: 'true', webhook_max_attempts: '2', webhook_timeout: '5' };
/** Requests to one webhook arrive at least a second apart. */
const MIN_GAP_MS = 1000;

function assertPaced(requests: readonly ReceivedRequest[]): void {
  for (let i = 1; i < requests.length; i++) {
    const gap = requests[i]!.at - requests[i - 1]!.at;
    assert.ok(gap >= MIN_GAP_MS, `requests ${i - 1} and ${i} were ${gap} ms apart`);
  }
}

for (const kind of testDatabaseKinds()) {
  describe(`webhook delivery (${kind})`, () => {
    let db: TestDatabase;
    let workDir: string;
    let port: number;
    let server: TestServer;
    let receiver: WebhookReceiver;
    let agent: SimAgent | undefined;
    const startServer = async () => (server = await startServerAt({ port, workDir, databaseUrl: db.url, settings: SETTINGS }));

    before(async () => {
      db = await createTestDatabase(kind);
      workDir = await mkdtemp(join(tmpdir(), 'scrapydd-srv-'));
      port = await freePort();
      await startServer();
      await uploadQuotes(server, undefined);
      receiver = await startWebhookReceiver();
    });
    after(async () => {
      agent?.close();
      await server?.stop();
      await receiver?.close();
      await db?.drop();
      if (workDir) await rm(workDir, { recursive: true, force: true });
    });

    const setHook = async (spider: string, url = receiver.url) => {
      const reply = await curl(['-XPOST', `${server.baseUrl}/projects/quotes/spiders/${spider}/webhook`, '-d', `payload_url=${url}`]);
      assert.equal(reply.status, 200, reply.body);
    };
    /** Runs a job of `spider` on a simulated agent that reports `items` and finishes; returns the job id. */
    const runJob = async (spider: string, items: string[]) => {
      agent?.close();
      agent = new SimAgent({ address: server.address, itemLines: items, runMs: 0 });
      await agent.connect();
      const id = await schedule(server, undefined, spider, {});
      await waitForJob(() => server, undefined, spider, id, (j) => j.state === 'SUCCEEDED', 20_000, 'SUCCEEDED');
      agent.close();
      agent = undefined;
      return id;
    };
    const ofJob = (id: string) => (r: ReceivedRequest) => r.delivery.startsWith(`${id}/`);

    it('POSTs every item once, urlencoded, in order, at most one request per second', { timeout: 60_000 }, async () => {
      await setHook('alpha');
      const items = [
        { title: 'Café crème', price: 12.5, tags: ['a', 'b'], meta: { lang: 'fr', n: [1, null] }, ok: true, gone: null },
        { title: '東京 & "quotes"', count: 12345678901234567890, ok: false },
        { title: 'third', emoji: '😀', empty: '' },
        { title: 'fourth', nested: { deep: { deeper: [{ x: 1 }] } } },
      ];
      // Python writes NaN bare: the item still goes, the value as its text.
      const lines = [...items.map((i) => JSON.stringify(i).replace('12345678901234567000', '12345678901234567890')), '{"title": "nan", "score": NaN}'];
      const id = await runJob('alpha', lines);
      const got = await receiver.waitForRequests(5, 20_000, ofJob(id));
      assert.deepEqual(got.map((r) => r.delivery), [0, 1, 2, 3, 4].map((i) => `${id}/${i}`), 'in order, each once');
      for (const r of got) {
        assert.equal(r.method, 'POST');
        assert.equal(r.path, '/hook');
        assert.equal(r.contentType, 'application/x-www-form-urlencoded');
      }
      assert.deepEqual(got[0]!.fields, [
        ['title', 'Café crème'],
        ['price', '12.5'],
        ['tags', '["a","b"]'],
        ['meta', '{"lang":"fr","n":[1,null]}'],
        ['ok', 'true'],
        ['gone', ''],
      ]);
      assert.match(got[0]!.body, /^title=Caf%C3%A9\+cr%C3%A8me&price=12\.5&tags=%5B%22a%22%2C%22b%22%5D/);
      assert.deepEqual(got[1]!.fields, [['title', '東京 & "quotes"'], ['count', '12345678901234567890'], ['ok', 'false']]);
      assert.deepEqual(got[2]!.fields, [['title', 'third'], ['emoji', '😀'], ['empty', '']]);
      assert.deepEqual(got[3]!.fields, [['title', 'fourth'], ['nested', '{"deep":{"deeper":[{"x":1}]}}']]);
      assert.deepEqual(got[4]!.fields, [['title', 'nan'], ['score', 'NaN']]);
      assertPaced(got);

      const job = await waitFor('a DONE delivery', 5000, () => getJob(server, undefined, 'alpha', id), (j) => j.webhookDelivery?.state === 'DONE');
      assert.equal(job.webhookDelivery.deliveredItems, '5');
      assert.equal(job.webhookDelivery.totalItems, '5');
      assert.equal(job.webhookDelivery.attempts, 5);
      const hook = (await curl([`${server.baseUrl}/projects/quotes/spiders/alpha/webhook`])).json;
      assert.ok(hook.lastDeliveryTime, JSON.stringify(hook));
      assert.equal(hook.pendingDeliveries ?? '0', '0');
    });

    it('retries a refused item; a delivery that keeps failing is FAILED with the reason and the next one still goes', { timeout: 60_000 }, async () => {
      await setHook('beta');
      let first = true;
      let failing = '';
      receiver.respond = (r) => {
        if (first && r.delivery.endsWith('/0')) return (first = false), 500;
        return failing !== '' && r.delivery.startsWith(`${failing}/`) ? 503 : 200;
      };
      try {
        const flaky = await runJob('beta', ['{"n": 1}', '{"n": 2}']);
        const flakyRequests = await receiver.waitForRequests(3, 20_000, ofJob(flaky));
        assert.deepEqual(flakyRequests.map((r) => r.delivery), [`${flaky}/0`, `${flaky}/0`, `${flaky}/1`], 'item 0 again after the 500');
        assertPaced(flakyRequests);
        const done = await waitFor('DONE', 5000, () => getJob(server, undefined, 'beta', flaky), (j) => j.webhookDelivery?.state === 'DONE');
        assert.equal(done.webhookDelivery.attempts, 3);

        // The next job's items are refused every time: webhook_max_attempts = 2, then FAILED.
        agent = new SimAgent({ address: server.address, itemLines: ['{"n": 3}'], runMs: 0 });
        await agent.connect();
        const doomed = await schedule(server, undefined, 'beta', {});
        failing = doomed;
        await waitForJob(() => server, undefined, 'beta', doomed, (j) => j.state === 'SUCCEEDED', 20_000, 'SUCCEEDED');
        const later = await runJob('beta', ['{"n": 4}']);
        const failed = await waitFor('FAILED', 20_000, () => getJob(server, undefined, 'beta', doomed), (j) => j.webhookDelivery?.state === 'FAILED');
        assert.match(failed.webhookDelivery.lastError, /item 0: HTTP 503.*gave up after 2 attempts/);
        assert.equal(receiver.requests.filter(ofJob(doomed)).length, 2);
        const [next] = await receiver.waitForRequests(1, 20_000, ofJob(later));
        assert.deepEqual(next!.fields, [['n', '4']]);
        const hook = (await curl([`${server.baseUrl}/projects/quotes/spiders/beta/webhook`])).json;
        assert.equal(hook.failedDeliveries, '1');
        assertPaced(receiver.requests.filter((r) => [flaky, doomed, later].some((id) => r.delivery.startsWith(`${id}/`))));
      } finally {
        receiver.respond = () => 200;
      }
    });

    it('resumes after the server is SIGKILLed mid-delivery: every item exactly once', { timeout: 90_000 }, async () => {
      await setHook('gamma');
      const lines = Array.from({ length: 8 }, (_, i) => JSON.stringify({ i }));
      const id = await runJob('gamma', lines);
      await receiver.waitForRequests(3, 20_000, ofJob(id));
      // Kill between two requests, once the third item's cursor is in the database.
      await waitFor('3 delivered', 5000, () => getJob(server, undefined, 'gamma', id), (j) => j.webhookDelivery?.deliveredItems === '3', 20);
      server.process.kill('SIGKILL');
      await new Promise((r) => server.process.once('exit', r));
      const beforeRestart = receiver.requests.filter(ofJob(id)).length;
      assert.ok(beforeRestart >= 3 && beforeRestart < 8, `${beforeRestart} requests before the restart`);
      await startServer();
      const all = await receiver.waitForRequests(8, 40_000, ofJob(id));
      const job = await waitFor('DONE', 5000, () => getJob(server, undefined, 'gamma', id), (j) => j.webhookDelivery?.state === 'DONE');
      assert.equal(job.webhookDelivery.deliveredItems, '8');
      const indexes = receiver.requests.filter(ofJob(id)).map((r) => Number(r.delivery.split('/')[1]));
      assert.deepEqual(indexes, [0, 1, 2, 3, 4, 5, 6, 7], 'every item exactly once, in order');
      assert.deepEqual(all.map((r) => r.fields), lines.map((_, i) => [['i', String(i)]]));
      assertPaced(all);
    });

    if (kind === 'postgres') {
      it('paces one webhook across two servers on one database: each item once, at most one request per second', { timeout: 90_000 }, async () => {
        await setHook('beta');
        const otherDir = await mkdtemp(join(tmpdir(), 'scrapydd-srv-'));
        const other = await startServerAt({ port: await freePort(), workDir: otherDir, databaseUrl: db.url, settings: SETTINGS });
        const agents: SimAgent[] = [];
        try {
          // A job ends on each server at about the same time: both servers' workers go for the webhook at once.
          const lines = Array.from({ length: 4 }, (_, i) => JSON.stringify({ i }));
          const run = async (srv: TestServer) => {
            const simulated = new SimAgent({ address: srv.address, itemLines: lines, runMs: 0 });
            agents.push(simulated);
            await simulated.connect();
            const id = await schedule(srv, undefined, 'beta', {});
            await waitForJob(() => srv, undefined, 'beta', id, (j) => j.state === 'SUCCEEDED', 20_000, 'SUCCEEDED');
            return id;
          };
          const ids = await Promise.all([run(server), run(other)]);
          const both = (r: ReceivedRequest) => ids.some((id) => ofJob(id)(r));
          const got = await receiver.waitForRequests(8, 40_000, both);
          for (const id of ids) {
            assert.deepEqual(got.filter(ofJob(id)).map((r) => r.delivery), [0, 1, 2, 3].map((i) => `${id}/${i}`), `job ${id}: each item once, in order`);
          }
          assertPaced(got);
          for (const srv of [server, other]) {
            for (const id of ids) {
              await waitFor('DONE', 5000, () => getJob(srv, undefined, 'beta', id), (j) => j.webhookDelivery?.state === 'DONE');
            }
          }
          assert.equal(receiver.requests.filter(both).length, 8, 'nothing sent twice after the deliveries were DONE');
        } finally {
          for (const a of agents) a.close();
          await other.stop();
          await rm(otherDir, { recursive: true, force: true });
        }
      });
    }

    it('delivers the items of a real crawl by a real agent', { timeout: 200_000 }, async () => {
      await setHook('alpha');
      const site = await startPageSite(3);
      const realAgent = await startTestAgent({ servers: [server.address] });
      try {
        const id = await schedule(server, undefined, 'alpha', { url: site.url });
        await waitForJob(() => server, undefined, 'alpha', id, (j) => j.state === 'SUCCEEDED', 150_000, 'SUCCEEDED');
        const got = await receiver.waitForRequests(3, 20_000, ofJob(id));
        assert.deepEqual(got.map((r) => r.delivery), [`${id}/0`, `${id}/1`, `${id}/2`]);
        const pages = got.map((r) => Object.fromEntries(r.fields));
        for (const p of pages) {
          assert.deepEqual(Object.keys(p), ['spider', 'url', 'title'], JSON.stringify(p));
          assert.equal(p.spider, 'alpha');
        }
        const base = site.url.replace(/\/page\/0$/, '');
        assert.deepEqual(pages.map((p) => p.url).sort(), [0, 1, 2].map((i) => `${base}/page/${i}`));
        assertPaced(got);
      } finally {
        await realAgent.stop();
        await removeAgentDir(realAgent);
        await site.close();
      }
    });
  });
}
