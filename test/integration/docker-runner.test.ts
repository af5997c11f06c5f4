/**
 * Integration tests for the docker runner: real podman (its Docker-compatible service), the
 * test runner image, real Scrapy crawls of pages served on 127.0.0.1 (host network): log,
 * items, stats and outcome; cancel, timeout, SIGKILL after the grace; the sandbox; an agent
 * SIGKILLed mid-crawl; requirements installed from a local wheel directory; start-up checks.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { AgentRunner, CrawlSpec, JobEnvironment, JobResult } from '../../src/agent/runner-port.js';
import { agentOwner, createDockerRunner } from '../../src/agent/runner/docker/docker-runner.js';
import { ConfigError } from '../../src/config/config-error.js';
import { LABELS } from '../../src/docker/container-sandbox.js';
import { DockerClient } from '../../src/docker/docker-client.js';
import { startPageSite, type PageSite } from '../support/agent-pages.js';
import { assertJournals, collector, deadline, fileHas, poll } from '../support/crawl-events.js';
import { buildEgg, makeZip, writeTempFile } from '../support/eggs.js';
import { removeContainers, startPodmanService, TEST_RUNNER_IMAGE, type PodmanService } from '../support/podman-service.js';
import { writeWheel } from '../support/wheels.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const DOCKER_RUNNER_MODULE = new URL('../../src/agent/runner/docker/docker-runner.ts', import.meta.url).href;
const DOCKER_CLIENT_MODULE = new URL('../../src/docker/docker-client.ts', import.meta.url).href;
const SHA = 'cd'.repeat(32);

let podman: PodmanService;
let root: string;
let dataDir: string;
let runner: AgentRunner;
let jobNo = 0;

function newRunner(over: Partial<Parameters<typeof createDockerRunner>[0]> = {}): AgentRunner {
  return createDockerRunner({
    client: podman.client, image: TEST_RUNNER_IMAGE, network: 'host', dataDir, node: 'nodes/42', logger: pino({ level: 'silent' }), ...over,
  });
}

function spec(over: Partial<CrawlSpec> & Pick<CrawlSpec, 'eggPath' | 'spider'>): CrawlSpec {
  jobNo += 1;
  return {
    job: `projects/p/spiders/${over.spider}/jobs/${jobNo}`,
    args: {}, settings: {}, workDir: join(root, `job-${jobNo}`), timeoutSeconds: 0, cancelGraceSeconds: 10,
    ...over,
  };
}

async function prepare(over: { eggPath: string; extraRequirements?: string[]; r?: AgentRunner }, lines: string[] = []): Promise<JobEnvironment> {
  return (over.r ?? runner).prepare({ eggPath: over.eggPath, eggSha256: SHA, extraRequirements: over.extraRequirements ?? [], log: (l) => lines.push(l) });
}

async function run(s: CrawlSpec, env?: JobEnvironment) {
  const c = collector();
  const job = await (env ?? (await prepare({ eggPath: s.eggPath }))).start(s, c.events);
  const result = await deadline(job.done, 90_000, `${s.spider} to finish`);
  return { job, result, c };
}

const stats = (r: JobResult) => JSON.parse(r.statsJson) as Record<string, unknown>;
const ownContainers = () => podman.client.listContainers({ [LABELS.owner]: agentOwner(dataDir) });

/** An egg whose one spider `probe` reports what the sandbox looks like from inside, as one item. */
async function probeEgg(requires?: string): Promise<string> {
  const spider = `import os, scrapy

class Probe(scrapy.Spider):
    name = "probe"
    start_urls = ["data:text/plain,hello"]

    def parse(self, response):
        status = dict(line.split(":\\t", 1) for line in open("/proc/self/status").read().splitlines() if ":\\t" in line)
        try:
            open("/usr/scrapydd-probe", "w")
            rootfs = "writable"
        except OSError as exc:
            rootfs = type(exc).__name__
        open("written-by-probe.txt", "w").write("hi")
        dep = None
        try:
            import scrapydd_fixture_docker_dep
            dep = scrapydd_fixture_docker_dep.VALUE
        except ImportError:
            pass
        print("printed by the probe")
        yield {"env": dict(os.environ), "cwd": os.getcwd(), "uid": os.getuid(), "capeff": status.get("CapEff"),
               "nonewprivs": status.get("NoNewPrivs"), "rootfs": rootfs, "dep": dep, "body": response.text}
`;
  const entries = [
    { name: 'EGG-INFO/entry_points.txt', data: '[scrapy]\nsettings = probe.settings\n' },
    { name: 'probe/__init__.py', data: '' },
    { name: 'probe/settings.py', data: 'SPIDER_MODULES = ["probe.spiders"]\nREQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"\n' },
    { name: 'probe/spiders/__init__.py', data: '' },
    { name: 'probe/spiders/probe.py', data: spider },
    ...(requires === undefined ? [] : [{ name: 'EGG-INFO/requires.txt', data: requires }]),
  ];
  return writeTempFile(await makeZip(entries), 'probe-1.0-py3.11.egg');
}

before(async () => {
  podman = await startPodmanService();
  root = await mkdtemp(join(tmpdir(), 'scrapydd-docker-jobs-'));
  dataDir = join(root, 'data');
  runner = newRunner();
  await runner.open();
});

after(async () => {
  if (podman) {
    await removeContainers(podman.client, { [LABELS.owner]: agentOwner(dataDir) }).catch(() => {});
    await podman.stop();
  }
  if (root) await rm(root, { recursive: true, force: true });
});

describe('docker runner jobs', () => {
  let site: PageSite;
  before(async () => (site = await startPageSite(5)));
  after(() => site?.close());

  it('runs a crawl in a container to SUCCEEDED: items, log and stats agree with the files; the container is removed', async () => {
    const s = spec({ eggPath: await buildEgg('quotes'), spider: 'gamma', args: { url: site.url, tag: '-dash=equals' }, settings: { USER_AGENT: 'docker-test/1' } });
    const { result, c, job } = await run(s);
    assert.equal(result.state, 'SUCCEEDED', c.log.slice(-20).join('\n'));
    assert.equal(result.exitCode, 0);
    assert.equal(result.closeReason, 'finished');
    assert.equal(stats(result).item_scraped_count, 5);
    assert.deepEqual(c.items.map((i) => JSON.parse(i).title).sort(), ['Page 0', 'Page 1', 'Page 2', 'Page 3', 'Page 4']);
    assert.ok(c.items.every((i) => JSON.parse(i).tag === '-dash=equals'), 'spider arguments reach the crawl');
    assert.ok(c.log.some((l) => l.includes('Spider closed (finished)')));
    assert.ok(job.pid > 0, 'the container process is reported');
    await assertJournals(s, result, c);
    assert.deepEqual(await ownContainers(), [], 'the container is removed');
  });

  it('streams log lines and items while the crawl runs', async () => {
    const slow = await startPageSite(8, { delayMs: 300 });
    try {
      const s = spec({ eggPath: await buildEgg('quotes'), spider: 'alpha', args: { url: slow.url } });
      const c = collector();
      const job = await (await prepare({ eggPath: s.eggPath })).start(s, c.events);
      let finished = false;
      void job.done.then(() => (finished = true));
      await c.until(() => c.items.length > 0, 60_000, 'the first item');
      assert.equal(finished, false, 'the first item came only after the job was done');
      const result = await deadline(job.done, 60_000, 'the crawl');
      assert.equal(result.itemCount, 8);
    } finally {
      await slow.close();
    }
  });

  it('keeps the crawl in its sandbox: clean environment, no capabilities, read-only image, own directory', async () => {
    process.env.SCRAPYDD_TEST_AGENT_SECRET = 'must-not-leak';
    try {
      const s = spec({ eggPath: await probeEgg(), spider: 'probe' });
      const { result, c } = await run(s);
      assert.equal(result.state, 'SUCCEEDED', c.log.slice(-20).join('\n'));
      const probe = JSON.parse(c.items[0]!) as Record<string, any>;
      assert.equal(probe.env.SCRAPYDD_TEST_AGENT_SECRET, undefined, 'the agent environment leaked');
      assert.equal(probe.env.HOME, '/scrapydd/job');
      assert.equal(probe.cwd, '/scrapydd/job');
      assert.equal(probe.uid, process.getuid!());
      assert.equal(probe.capeff, '0000000000000000');
      assert.equal(probe.nonewprivs, '1');
      assert.equal(probe.rootfs, 'OSError');
      assert.equal(probe.body, 'hello');
      assert.ok(c.log.includes('printed by the probe'), 'print() goes to the log, not among the items');
      assert.equal(c.items.length, 1);
      assert.equal(await readFile(join(s.workDir, 'crawl', 'written-by-probe.txt'), 'utf8'), 'hi');
      assert.deepEqual((await readdir(s.workDir)).sort(), ['crawl', 'items.jl', 'log.txt']);
    } finally {
      delete process.env.SCRAPYDD_TEST_AGENT_SECRET;
    }
  });

  it('fails a job whose spider does not load, with the reason as the last log line', async () => {
    const s = spec({ eggPath: await buildEgg('behaviours'), spider: 'bad_init' });
    const { result, c } = await run(s);
    assert.equal(result.state, 'FAILED');
    assert.equal(result.exitCode, 3);
    assert.equal(result.closeReason, 'failed');
    assert.match(c.log.at(-1) ?? '', /SPIDER_INIT_FAILED: ValueError: bad_init refuses to start$/);
  });

  it('fails a crawl whose log has errors', async () => {
    const s = spec({ eggPath: await buildEgg('quotes'), spider: 'alpha', args: { url: 'http://127.0.0.1:1/' } });
    const { result, c } = await run(s);
    assert.equal(result.exitCode, 0);
    assert.equal(result.state, 'FAILED');
    assert.ok(Number(stats(result)['log_count/ERROR']) >= 1);
    assert.ok(c.log.some((l) => l.includes('ERROR: Error downloading')));
  });

  it('cancels a running crawl gracefully: CANCELLED, log and items kept', async () => {
    const held = await startPageSite(10, { holdAt: 3 });
    try {
      const s = spec({ eggPath: await buildEgg('quotes'), spider: 'alpha', args: { url: held.url } });
      const c = collector();
      const job = await (await prepare({ eggPath: s.eggPath })).start(s, c.events);
      await c.until(() => c.items.length >= 3, 60_000, 'three items');
      job.cancel();
      await c.until(() => c.log.some((l) => l.includes('Received SIGINT, shutting down gracefully')), 30_000, 'the SIGINT in the log');
      held.release(); // Scrapy's graceful stop waits for the request in flight
      const result = await deadline(job.done, 30_000, 'the cancelled crawl');
      assert.equal(result.state, 'CANCELLED');
      assert.equal(result.closeReason, 'cancelled');
      assert.equal(result.exitCode, 0);
      assert.equal(stats(result).finish_reason, 'shutdown');
      assert.ok(result.itemCount >= 3 && result.itemCount < 10, `${result.itemCount} items`);
      await assertJournals(s, result, c);
      assert.deepEqual(await ownContainers(), []);
    } finally {
      held.release();
      await held.close();
    }
  });

  it('stops a crawl at its timeout: CANCELLED with closeReason timeout', async () => {
    const slow = await startPageSite(100, { delayMs: 200 });
    try {
      // 6 s: time for the container and Scrapy to start and scrape a page first even on a busy machine.
      const s = spec({ eggPath: await buildEgg('quotes'), spider: 'alpha', args: { url: slow.url }, timeoutSeconds: 6 });
      const started = Date.now();
      const { result } = await run(s);
      assert.ok(Date.now() - started >= 6000);
      assert.equal(result.state, 'CANCELLED');
      assert.equal(result.closeReason, 'timeout');
      assert.ok(result.itemCount >= 1 && result.itemCount < 100, `${result.itemCount} items`);
    } finally {
      await slow.close();
    }
  });

  it('SIGKILLs a crawl that ignores SIGINT once the grace is over', async () => {
    const s = spec({ eggPath: await buildEgg('behaviours'), spider: 'blocker', args: { url: site.url } });
    const c = collector();
    const job = await (await prepare({ eggPath: s.eggPath })).start(s, c.events);
    await c.until(() => c.log.some((l) => l.includes('blocker: blocking the reactor')), 60_000, 'the reactor to block');
    const cancelled = Date.now();
    job.cancel('INT', 1);
    const result = await deadline(job.done, 20_000, 'the SIGKILL');
    const took = Date.now() - cancelled;
    assert.ok(took >= 1000 && took < 10_000, `stopped after ${took} ms`);
    assert.equal(result.state, 'CANCELLED');
    assert.equal(result.exitCode, -9);
    assert.equal(result.statsJson, '{}');
  });
});

describe('docker runner: agent death and leftovers', () => {
  /** Starts a job from a separate Node process (the "agent"), which the test then SIGKILLs. */
  async function startFromAgent(s: CrawlSpec): Promise<ChildProcess> {
    const script = join(root, 'agent.mjs');
    await writeFile(
      script,
      `const { createDockerRunner } = await import(process.argv[2]);
const { DockerClient } = await import(process.argv[3]);
const [host, image, dataDir, spec] = process.argv.slice(4);
const logger = { info() {}, warn() {}, debug() {}, error() {} };
const runner = createDockerRunner({ client: new DockerClient(host), image, network: 'host', dataDir, node: undefined, logger });
const s = JSON.parse(spec);
const env = await runner.prepare({ eggPath: s.eggPath, eggSha256: '${SHA}', extraRequirements: [], log() {} });
await env.start(s, { onLog() {}, onItems() {} });
process.stdout.write('started\\n');
setInterval(() => {}, 60_000);
`,
    );
    const agent = spawn(process.execPath, ['--import', 'tsx', script, DOCKER_RUNNER_MODULE, DOCKER_CLIENT_MODULE, podman.host, TEST_RUNNER_IMAGE, dataDir, JSON.stringify(s)], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const crashed = once(agent, 'exit').then(([code]) => Promise.reject(new Error(`the agent exited (${code}) before starting the job`)));
    await deadline(Promise.race([once(agent.stdout!, 'data'), crashed]), 60_000, 'the agent to start the job');
    crashed.catch(() => {});
    return agent;
  }

  const jobContainers = (s: CrawlSpec) => podman.client.listContainers({ [LABELS.job]: s.job });
  const stopped = (s: CrawlSpec, ms: number) =>
    poll(async () => (await jobContainers(s)).every((c) => c.State === 'exited'), ms, 'the orphaned container to stop', 100);

  async function killAgent(agent: ChildProcess): Promise<void> {
    const exited = once(agent, 'exit');
    agent.kill('SIGKILL');
    await exited;
  }

  it('a crawl stops by itself soon after its agent is SIGKILLed; the next agent start removes the container', async () => {
    const slow = await startPageSite(100, { delayMs: 200 });
    try {
      const s = spec({ eggPath: await buildEgg('quotes'), spider: 'alpha', args: { url: slow.url } });
      const agent = await startFromAgent(s);
      await poll(fileHas(join(s.workDir, 'items.jl'), 'Page 1'), 60_000, 'the first items');
      await killAgent(agent);
      const killed = Date.now();
      await stopped(s, 20_000);
      // Well before the runner's 10 s hard exit: the crawl was closed, not shot.
      assert.ok(Date.now() - killed < 9000, `took ${Date.now() - killed} ms`);
      assert.equal((await jobContainers(s)).length, 1, 'the dead agent could not remove it');

      await newRunner().open();
      assert.deepEqual(await jobContainers(s), [], 'agent start-up removes what an earlier run left');
    } finally {
      await slow.close();
    }
  });

  it('a crawl that cannot stop is hard-exited after its agent is SIGKILLed', async () => {
    const page = await startPageSite(1);
    try {
      const s = spec({ eggPath: await buildEgg('behaviours'), spider: 'blocker', args: { url: page.url } });
      const agent = await startFromAgent(s);
      await poll(fileHas(join(s.workDir, 'log.txt'), 'blocker: blocking the reactor'), 60_000, 'the reactor to block');
      await killAgent(agent);
      await stopped(s, 25_000);
      await removeContainers(podman.client, { [LABELS.job]: s.job });
    } finally {
      await page.close();
    }
  });
});

describe('docker runner requirements', () => {
  let wheels: string;
  let pipEnv: NodeJS.ProcessEnv;
  before(async () => {
    wheels = join(root, 'wheels');
    await mkdir(wheels);
    await writeWheel(wheels, 'scrapydd_fixture_docker_dep', 'from-a-wheel');
    await writeWheel(wheels, 'scrapydd_fixture_docker_extra', 'extra');
    pipEnv = { PIP_NO_INDEX: process.env.PIP_NO_INDEX, PIP_FIND_LINKS: process.env.PIP_FIND_LINKS };
    // pip reaches no index: only the local directory, mounted read-only into the setup container.
    process.env.PIP_NO_INDEX = '1';
    process.env.PIP_FIND_LINKS = wheels;
  });
  after(() => {
    for (const [k, v] of Object.entries(pipEnv)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('installs the egg\'s requirements and the extra ones once, from a local wheel directory, for the crawl to import', async () => {
    const egg = await probeEgg('scrapydd-fixture-docker-dep>=1.0\n');
    const lines: string[] = [];
    const env = await prepare({ eggPath: egg, extraRequirements: ['scrapydd_fixture_docker_extra'] }, lines);
    assert.ok(lines.some((l) => /Successfully installed .*scrapydd.fixture.docker.dep/i.test(l)), lines.join('\n'));
    const { result, c } = await run(spec({ eggPath: egg, spider: 'probe' }), env);
    assert.equal(result.state, 'SUCCEEDED', c.log.slice(-20).join('\n'));
    const probe = JSON.parse(c.items[0]!) as { dep: string; env: Record<string, string> };
    assert.equal(probe.dep, 'from-a-wheel');
    assert.equal(probe.env.PIP_FIND_LINKS, undefined, 'pip settings are for the setup container only');

    const again: string[] = [];
    await prepare({ eggPath: egg, extraRequirements: [' scrapydd_fixture_docker_extra'] }, again);
    assert.deepEqual(again, [], 'installed again');
    const cache = join(dataDir, 'container-packages');
    assert.equal((await readdir(cache)).length, 1, 'one install, no lock left');
    assert.deepEqual(await ownContainers(), [], 'the setup container is removed');
  });

  it('fails with pip\'s error when a requirement cannot be installed, leaving nothing behind', async () => {
    const egg = await probeEgg('scrapydd-fixture-not-there\n');
    const lines: string[] = [];
    const fresh = newRunner({ dataDir: join(root, 'data-failing-install') });
    await assert.rejects(
      prepare({ eggPath: egg, r: fresh }, lines),
      /pip install failed: ERROR: No matching distribution found for scrapydd-fixture-not-there/,
    );
    assert.ok(lines.some((l) => l.includes('Could not find a version that satisfies the requirement')), lines.join('\n'));
    assert.deepEqual(await readdir(join(root, 'data-failing-install', 'container-packages')), []);
  });
});

describe('docker runner start-up', () => {
  it('refuses to start without the image, saying it must be pulled beforehand', async () => {
    await assert.rejects(newRunner({ image: 'localhost/scrapydd-no-such-image:1' }).open(), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.key, 'runner_docker_image');
      assert.match(err.message, /image 'localhost\/scrapydd-no-such-image:1' is not on the Docker host: pull it beforehand; scrapydd never pulls images at run time/);
      return true;
    });
  });

  it('refuses to start when the daemon cannot be reached', async () => {
    const host = `unix://${join(root, 'no-daemon.sock')}`;
    await assert.rejects(newRunner({ client: new DockerClient(host) }).open(), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.key, 'docker_host');
      assert.match(err.message, /cannot reach the Docker daemon at unix:\/\/.*no-daemon\.sock \(ENOENT\)/);
      return true;
    });
  });

  it('fails a job (not the agent) when the image disappeared after start-up', async () => {
    const r = newRunner({ image: 'localhost/scrapydd-no-such-image:1' });
    await assert.rejects(prepare({ eggPath: await buildEgg('quotes'), r }), /pull it beforehand; scrapydd never pulls images at run time/);
  });
});
