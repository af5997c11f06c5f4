/**
 * The docker runner end to end: the real server binary (runner_type = docker: uploads list
 * their spiders in a container) and the real agent binary (runner_type = docker: each job in
 * its own container), real podman, real Scrapy crawls of local pages on the host network. A
 * crawl to SUCCEEDED, one FAILED, a cancel, a timeout, requirements installed from a local
 * wheel directory and one that cannot be, an agent SIGKILLed mid-crawl (its
 * container stops by itself; the next agent start removes it), and an agent refusing to
 * start without its image. Once per database kind.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LABELS } from '../../src/docker/container-sandbox.js';
import { buildEgg } from '../support/eggs.js';
import { getJob, jobFile, jobPath, lines, schedule, uploadQuotes, waitForJob } from '../support/agent-jobs.js';
import { PageSites, type PageSiteOptions } from '../support/agent-pages.js';
import { agentWorkDir, removeAgentDir, startTestAgent, type LogEntry, type TestAgent } from '../support/agent-process.js';
import { poll } from '../support/crawl-events.js';
import { createTestDatabase, testDatabaseKinds, type TestDatabase } from '../support/databases.js';
import { addVersion, request, scrapydGet } from '../support/http-client.js';
import { startPodmanService, TEST_RUNNER_IMAGE, type PodmanService } from '../support/podman-service.js';
import { startTestServer, type TestServer } from '../support/server-process.js';
import { writeWheel } from '../support/wheels.js';

const DEADLINE_MS = 120_000;
const accepted = (e: LogEntry) => e.msg === 'session accepted';

let podman: PodmanService;
let pipSettings: Record<string, string | undefined> = {};
before(async () => {
  podman = await startPodmanService();
  // The agents (children of this process) install requirements from here alone: pip reaches no index.
  const wheels = await mkdtemp(join(tmpdir(), 'scrapydd-wheels-'));
  await writeWheel(wheels, 'scrapydd_fixture_e2e_dep', 'e2e');
  pipSettings = { PIP_NO_INDEX: process.env.PIP_NO_INDEX, PIP_FIND_LINKS: process.env.PIP_FIND_LINKS };
  process.env.PIP_NO_INDEX = '1';
  process.env.PIP_FIND_LINKS = wheels;
});
after(async () => {
  await podman?.stop();
  if (process.env.PIP_FIND_LINKS?.includes('scrapydd-wheels-')) await rm(process.env.PIP_FIND_LINKS, { recursive: true, force: true });
  for (const [name, value] of Object.entries(pipSettings)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

/** [agent] keys of a docker agent on the test podman, crawling pages on 127.0.0.1. */
const dockerAgent = (over: Record<string, string> = {}) => ({
  runner_type: 'docker',
  runner_docker_image: TEST_RUNNER_IMAGE,
  docker_host: podman.host,
  runner_docker_network: 'host',
  ...over,
});

for (const kind of testDatabaseKinds()) {
  describe(`docker runner end to end (${kind})`, () => {
    let db: TestDatabase;
    let server: TestServer;
    let agent: TestAgent;
    const sites = new PageSites();
    const site = (pages: number, opts?: PageSiteOptions) => sites.start(pages, opts);

    before(async () => {
      db = await createTestDatabase(kind);
      server = await startTestServer({
        databaseUrl: db.url,
        settings: { enable_authentication: 'false', runner_type: 'docker', runner_docker_image: TEST_RUNNER_IMAGE, docker_host: podman.host, cancel_grace: '5' },
      });
      agent = await startTestAgent({ servers: [server.address], settings: dockerAgent() });
      await agent.waitForLog(accepted, 30_000, 'SessionAccepted');
    });
    after(async () => {
      await sites.closeAll();
      await agent?.stop();
      await server?.stop();
      await db?.drop();
      if (agent) await removeAgentDir(agent);
    });

    it('lists the spiders of an upload in a container; a broken egg is refused with its reason', async () => {
      await uploadQuotes(server, undefined);
      const listed = await scrapydGet(server, 'listspiders.json', { project: 'quotes' });
      assert.deepEqual(listed.json.spiders, ['alpha', 'beta', 'gamma']);
      const broken = await addVersion(server, undefined, 'broken', 'v1', await readFile(await buildEgg('broken_import')));
      assert.equal(broken.json.status, 'error', broken.text);
      assert.match(String(broken.json.message), /ModuleNotFoundError: No module named 'scrapydd_fixture_missing_dependency'/);
    });

    it('runs a job in a container to SUCCEEDED; its log and items reach the server', async () => {
      const pages = await site(4);
      const id = await schedule(server, undefined, 'alpha', { url: pages.url });
      const job = await waitForJob(() => server, undefined, 'alpha', id, (j) => j.state === 'SUCCEEDED', DEADLINE_MS, 'SUCCEEDED');
      assert.equal(job.itemCount, '4');
      const items = lines(await jobFile(server, undefined, 'items', 'alpha', id)).map((l) => JSON.parse(l) as { url: string });
      assert.deepEqual(items.map((i) => i.url).sort(), [0, 1, 2, 3].map((n) => pages.url.replace(/0$/, String(n))));
      const log = lines(await jobFile(server, undefined, 'logs', 'alpha', id));
      assert.equal(String(log.length), job.logLineCount);
      assert.ok(log.some((l) => l.includes('Spider closed (finished)')));
      const started = await agent.waitForLog((e) => e.msg === 'job started' && String(e.job).endsWith(`/jobs/${id}`), 1000, 'job started');
      assert.ok(String(started.in).startsWith(`${TEST_RUNNER_IMAGE} (sha256:`), String(started.in));
    });

    it('FAILED for a crawl whose log has errors', async () => {
      const id = await schedule(server, undefined, 'beta', { url: 'http://127.0.0.1:1/' });
      const job = await waitForJob(() => server, undefined, 'beta', id, (j) => j.state === 'FAILED', DEADLINE_MS, 'FAILED');
      assert.equal(job.closeReason, 'finished');
      assert.match(await jobFile(server, undefined, 'logs', 'beta', id), /ERROR: Error downloading/);
    });

    it('cancels a running crawl: CANCELLED, keeping the log and items it made', async () => {
      const held = await site(10, { holdAt: 3 });
      const id = await schedule(server, undefined, 'gamma', { url: held.url, tag: 'in-a-container' });
      await waitForJob(() => server, undefined, 'gamma', id, (j) => j.state === 'RUNNING' && Number(j.itemCount) >= 3, DEADLINE_MS, 'three items');
      const reply = await request(server, 'POST', `${jobPath('gamma', id)}:cancel`, { json: {} });
      assert.equal(reply.status, 200, reply.text);
      await agent.waitForLog((e) => e.msg === 'cancel requested' && String(e.job).endsWith(`/jobs/${id}`), 30_000, 'the JobCancel');
      held.release(); // Scrapy's graceful stop waits for the request in flight
      const job = await waitForJob(() => server, undefined, 'gamma', id, (j) => j.state === 'CANCELLED', DEADLINE_MS, 'CANCELLED');
      assert.equal(job.closeReason, 'cancelled');
      const items = lines(await jobFile(server, undefined, 'items', 'gamma', id));
      assert.equal(String(items.length), job.itemCount);
      assert.ok(items.length >= 3 && items.length < 10, `${items.length} items`);
      assert.ok(items.every((l) => (JSON.parse(l) as { tag: string }).tag === 'in-a-container'));
      assert.equal(String(lines(await jobFile(server, undefined, 'logs', 'gamma', id)).length), job.logLineCount);
    });

    it('stops a job at its spider\'s timeout, keeping its log and items', async () => {
      const patch = await request(server, 'PATCH', '/v1/projects/quotes/spiders/gamma?updateMask=settings.timeout_seconds', {
        json: { settings: { timeoutSeconds: 6 } }, // time to start a container and scrape a page first, even on a busy machine
      });
      assert.equal(patch.status, 200, patch.text);
      const slow = await site(100, { delayMs: 200 });
      const id = await schedule(server, undefined, 'gamma', { url: slow.url });
      const job = await waitForJob(() => server, undefined, 'gamma', id, (j) => j.state === 'CANCELLED', DEADLINE_MS, 'stopped by its timeout');
      assert.equal(job.closeReason, 'timeout');
      assert.ok(Number(job.itemCount) >= 1 && Number(job.itemCount) < 100, `${job.itemCount} items`);
      assert.equal(String(lines(await jobFile(server, undefined, 'items', 'gamma', id)).length), job.itemCount);
    });

    it('installs a spider\'s requirements for its container from a local wheel directory; one that cannot be installed fails the job with pip\'s output', async () => {
      const setRequirements = async (requirements: string[]) => {
        const patch = await request(server, 'PATCH', '/v1/projects/quotes/spiders/beta?updateMask=settings.extra_requirements', {
          json: { settings: { extraRequirements: requirements } },
        });
        assert.equal(patch.status, 200, patch.text);
      };
      const page = await site(1);
      await setRequirements(['scrapydd-fixture-e2e-dep']);
      const ok = await schedule(server, undefined, 'beta', { url: page.url });
      await waitForJob(() => server, undefined, 'beta', ok, (j) => j.state === 'SUCCEEDED', DEADLINE_MS, 'SUCCEEDED');
      await agent.waitForLog((e) => e.msg === 'setup' && /Successfully installed scrapydd.fixture.e2e.dep/.test(String(e.line)), 1000, 'pip\'s install');

      await setRequirements(['scrapydd-fixture-not-there']);
      const failed = await schedule(server, undefined, 'beta', { url: page.url });
      const job = await waitForJob(() => server, undefined, 'beta', failed, (j) => j.state === 'FAILED', DEADLINE_MS, 'FAILED');
      assert.equal(job.closeReason, 'setup failed');
      const log = await jobFile(server, undefined, 'logs', 'beta', failed);
      assert.match(log, /ERROR: No matching distribution found for scrapydd-fixture-not-there/);
      assert.match(log, /scrapydd agent: pip install failed: ERROR: No matching distribution found for scrapydd-fixture-not-there/);
      await setRequirements([]);
    });

    it('an agent SIGKILLed mid-crawl: its container stops by itself, and the agent\'s next start removes it', async () => {
      const slow = await site(100, { delayMs: 200 });
      const id = await schedule(server, undefined, 'alpha', { url: slow.url });
      const running = await waitForJob(() => server, undefined, 'alpha', id, (j) => j.state === 'RUNNING' && Number(j.itemCount) >= 2, DEADLINE_MS, 'a running crawl');
      const ofJob = { [LABELS.job]: running.name as string };
      assert.equal((await podman.client.listContainers(ofJob)).length, 1, 'the job runs in one container');
      agent.process.kill('SIGKILL');
      await agent.exited;
      const killed = Date.now();
      await poll(async () => (await podman.client.listContainers(ofJob)).every((c) => c.State === 'exited'), 20_000, 'the orphaned container to stop', 200);
      assert.ok(Date.now() - killed < 15_000, `stopped ${Date.now() - killed} ms after the agent died`);

      agent = await startTestAgent({ servers: [server.address], workDir: agent.workDir, settings: dockerAgent() });
      await agent.waitForLog(accepted, 30_000, 'SessionAccepted of the restarted agent');
      assert.deepEqual(await podman.client.listContainers(ofJob), [], 'the restarted agent removed the container');
      const job = await getJob(server, undefined, 'alpha', id);
      assert.notEqual(job.state, 'SUCCEEDED');
    });
  });
}

describe('docker agent start-up', () => {
  it('refuses to start without its image, saying to pull it beforehand', async () => {
    const agent = await startTestAgent({ servers: ['127.0.0.1:1'], workDir: await agentWorkDir(), settings: dockerAgent({ runner_docker_image: 'localhost/scrapydd-no-such-image:1' }) });
    try {
      const code = await agent.exited;
      assert.equal(code, 2);
      assert.ok(
        agent.logs.some((e) => /scrapydd: runner_docker_image: image 'localhost\/scrapydd-no-such-image:1' is not on the Docker host: pull it beforehand; scrapydd never pulls images at run time/.test(String(e.msg))),
        JSON.stringify(agent.logs.slice(-5)),
      );
    } finally {
      await removeAgentDir(agent);
    }
  });

  it('refuses to start when the Docker daemon cannot be reached', async () => {
    const agent = await startTestAgent({ servers: ['127.0.0.1:1'], workDir: await agentWorkDir(), settings: dockerAgent({ docker_host: 'unix:///nonexistent/docker.sock' }) });
    try {
      assert.equal(await agent.exited, 2);
      assert.ok(agent.logs.some((e) => /scrapydd: docker_host: cannot reach the Docker daemon at unix:\/\/\/nonexistent\/docker\.sock/.test(String(e.msg))), JSON.stringify(agent.logs.slice(-5)));
    } finally {
      await removeAgentDir(agent);
    }
  });
});
