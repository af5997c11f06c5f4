/**
 * Integration tests for the job runner: real Scrapy crawls (scrapydd_runner.py crawl) of pages
 * served on 127.0.0.1, through startJob: log, items, stats, outcome, cancel, timeout, kills.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { groupAlive, readLines, startJob, type JobResult, type JobSpec } from '../../src/agent/runner/job-process.js';
import { assertJournals, collector, deadline, fileHas, poll } from '../support/crawl-events.js';
import { TEST_PYTHON, buildEgg } from '../support/eggs.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const JOB_PROCESS_MODULE = new URL('../../src/agent/runner/job-process.ts', import.meta.url).href;

let root: string;
let server: Server;
let base: string;
const userAgents: string[] = [];
let jobNo = 0;

/** /chain/<n>?total=T&delay=ms: page n of T, each linking to the next, served after `delay` ms. */
function serve(): Promise<Server> {
  const srv = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    userAgents.push(String(req.headers['user-agent']));
    const match = /^\/chain\/(\d+)$/.exec(url.pathname);
    if (!match) return void res.writeHead(404).end();
    const n = Number(match[1]);
    const total = Number(url.searchParams.get('total') ?? '3');
    const delayMs = Number(url.searchParams.get('delay') ?? '0');
    const next = n + 1 < total ? `<a href="/chain/${n + 1}?total=${total}&amp;delay=${delayMs}">next</a>` : '';
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<html><head><title>Chain ${n}</title></head><body>${next}</body></html>`);
    }, delayMs);
  });
  return new Promise((ok) => srv.listen(0, '127.0.0.1', () => ok(srv)));
}

const chain = (total: number, delayMs = 0) => `${base}/chain/0?total=${total}&delay=${delayMs}`;

function spec(over: Partial<JobSpec> & Pick<JobSpec, 'eggPath' | 'spider'>): JobSpec {
  jobNo += 1;
  return {
    job: `projects/p/spiders/${over.spider}/jobs/${jobNo}`,
    args: {},
    settings: {},
    python: TEST_PYTHON,
    workDir: join(root, `job-${jobNo}`),
    timeoutSeconds: 0,
    cancelGraceSeconds: 10,
    ...over,
  };
}

async function run(s: JobSpec) {
  const c = collector(s.workDir);
  const job = await startJob(s, c.events);
  const result = await deadline(job.done, 60_000, `${s.spider} to finish`);
  return { job, result, c };
}

function assertGroupGone(pid: number) {
  assert.throws(() => process.kill(-pid, 0), (err: NodeJS.ErrnoException) => err.code === 'ESRCH');
}

const stats = (r: JobResult) => JSON.parse(r.statsJson) as Record<string, unknown>;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'scrapydd-jobs-'));
  server = await serve();
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  server.close();
  await rm(root, { recursive: true, force: true });
});

describe('startJob', () => {
  it('runs a crawl to SUCCEEDED: items, log and stats agree with the files', async () => {
    const s = spec({ eggPath: await buildEgg('quotes'), spider: 'alpha', args: { url: chain(3) } });
    const { job, result, c } = await run(s);
    assert.equal(result.state, 'SUCCEEDED');
    assert.equal(result.exitCode, 0);
    assert.equal(result.closeReason, 'finished');
    assert.equal(result.warning, false);
    assert.equal(stats(result).item_scraped_count, 3);
    assert.equal(result.itemCount, 3);
    assert.deepEqual(c.items.map((i) => JSON.parse(i).title).sort(), ['Chain 0', 'Chain 1', 'Chain 2']);
    assert.match(String(stats(result).start_time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$/);
    assert.ok(c.log.some((l) => l.includes('[scrapy.core.engine] INFO: Spider closed (finished)')));
    await assertJournals(s, result, c);
    assert.deepEqual(await readLines(join(s.workDir, 'items.jl'), 1, 5), c.items.slice(1));
    assert.deepEqual(await readLines(join(s.workDir, 'log.txt'), 2, 3), c.log.slice(2, 5));
    assertGroupGone(job.pid);
  });

  it('streams 2,000 items in order, in batches of at most 100', async () => {
    const s = spec({ eggPath: await buildEgg('behaviours'), spider: 'many', args: { url: chain(1), count: '2000' } });
    const { result, c } = await run(s);
    assert.equal(result.state, 'SUCCEEDED');
    assert.equal(stats(result).item_scraped_count, 2000);
    assert.equal(c.items.length, 2000);
    assert.deepEqual(
      c.items.map((i) => JSON.parse(i).n),
      Array.from({ length: 2000 }, (_, n) => n),
    );
    assert.deepEqual(JSON.parse(c.items[7]!), { n: 7, text: 'item 7 é✓', nested: { list: [7, null, true] } });
    assert.ok(Math.max(...c.batchSizes) <= 100);
    assert.deepEqual(c.notYetWritten, [], 'lines were handed on before they were in the file');
    await assertJournals(s, result, c);
  });

  it('hands on log lines and items while the crawl is still running', async () => {
    const s = spec({ eggPath: await buildEgg('quotes'), spider: 'alpha', args: { url: chain(8, 300) } });
    const c = collector();
    const job = await startJob(s, c.events);
    let finished = false;
    void job.done.then(() => (finished = true));
    await c.until(() => c.items.length > 0, 30_000, 'the first item');
    assert.equal(finished, false, 'the first item came only after the job was done');
    assert.ok(c.log.length > 0);
    const result = await deadline(job.done, 60_000, 'the crawl');
    assert.equal(result.itemCount, 8);
    assert.ok(c.items.length === 8);
  });

  it('fails a crawl whose log has errors, although Scrapy exits 0', async () => {
    const closed = createServer();
    await new Promise<void>((ok) => closed.listen(0, '127.0.0.1', ok));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((ok) => closed.close(ok));
    const s = spec({ eggPath: await buildEgg('quotes'), spider: 'alpha', args: { url: `http://127.0.0.1:${port}/` } });
    const { result, c } = await run(s);
    assert.equal(result.exitCode, 0);
    assert.equal(result.state, 'FAILED');
    assert.equal(result.closeReason, 'finished');
    assert.ok(Number(stats(result)['log_count/ERROR']) >= 1);
    assert.ok(c.log.some((l) => l.includes('ERROR: Error downloading')));
    await assertJournals(s, result, c);
  });

  it('succeeds with a warning when the log has warnings only; print() lands in the log', async () => {
    const s = spec({ eggPath: await buildEgg('behaviours'), spider: 'warning', args: { url: chain(1) } });
    const { result, c } = await run(s);
    assert.equal(result.state, 'SUCCEEDED');
    assert.equal(result.warning, true);
    assert.equal(stats(result)['log_count/ERROR'], undefined);
    assert.ok(c.log.some((l) => l.includes('WARNING: something looks odd on')));
    assert.ok(c.log.includes('printed by the warning spider'));
    // The runner turns the telnet console off unless the project asks for it (this one does not).
    assert.ok(!c.log.some((l) => l.includes('scrapy.extensions.telnet.TelnetConsole')));
    assert.ok(c.log.some((l) => l.includes('scrapy.extensions.logstats.LogStats')));
  });

  it('passes arguments (-a) and settings (-s) to the spider', async () => {
    const s = spec({
      eggPath: await buildEgg('quotes'),
      spider: 'gamma',
      args: { url: chain(2), tag: '-starts-with-dash=and=equals' },
      settings: { USER_AGENT: 'scrapydd-test/1.0', LOG_LEVEL: 'INFO' },
    });
    const { result, c } = await run(s);
    assert.equal(result.state, 'SUCCEEDED');
    assert.deepEqual(c.items.map((i) => JSON.parse(i).tag), ['-starts-with-dash=and=equals', '-starts-with-dash=and=equals']);
    assert.ok(userAgents.includes('scrapydd-test/1.0'));
    assert.equal(stats(result)['log_count/DEBUG'], undefined, 'LOG_LEVEL=INFO did not apply');
  });

  it('cancels a running crawl gracefully: CANCELLED, log and items kept, group gone', async () => {
    const s = spec({ eggPath: await buildEgg('quotes'), spider: 'alpha', args: { url: chain(100, 200) } });
    const c = collector();
    const job = await startJob(s, c.events);
    await c.until(() => c.items.length > 0, 30_000, 'the first item');
    job.cancel();
    const result = await deadline(job.done, 30_000, 'the cancelled crawl');
    assert.equal(result.state, 'CANCELLED');
    assert.equal(result.closeReason, 'cancelled');
    assert.equal(result.exitCode, 0);
    assert.equal(stats(result).finish_reason, 'shutdown');
    assert.ok(result.itemCount >= 1 && result.itemCount < 100);
    assert.ok(c.log.some((l) => l.includes('Received SIGINT, shutting down gracefully')));
    await assertJournals(s, result, c);
    assertGroupGone(job.pid);
  });

  it('stops a crawl at its timeout: CANCELLED with closeReason timeout', async () => {
    // 4 s: time for Scrapy to start and scrape a page first even on a busy machine.
    const s = spec({ eggPath: await buildEgg('quotes'), spider: 'alpha', args: { url: chain(100, 200) }, timeoutSeconds: 4 });
    const started = Date.now();
    const { job, result } = await run(s);
    assert.ok(Date.now() - started >= 4000);
    assert.equal(result.state, 'CANCELLED');
    assert.equal(result.closeReason, 'timeout');
    assert.ok(result.itemCount >= 1 && result.itemCount < 100, `${result.itemCount} items`);
    assertGroupGone(job.pid);
  });

  it('SIGKILLs a crawl that ignores SIGINT once the grace is over', async () => {
    const s = spec({ eggPath: await buildEgg('behaviours'), spider: 'blocker', args: { url: chain(1) } });
    const c = collector();
    const job = await startJob(s, c.events);
    await c.until(() => c.log.some((l) => l.includes('blocker: blocking the reactor')), 30_000, 'the reactor to block');
    const cancelled = Date.now();
    job.cancel('INT', 1);
    const result = await deadline(job.done, 15_000, 'the SIGKILL');
    const took = Date.now() - cancelled;
    assert.ok(took >= 1000 && took < 8000, `stopped after ${took} ms`);
    assert.equal(result.state, 'CANCELLED');
    assert.equal(result.exitCode, -9);
    assert.equal(result.statsJson, '{}');
    assert.ok(c.log.some((l) => l.includes('Received SIGINT')), 'SIGINT was not sent first');
    assertGroupGone(job.pid);
  });

  it('kill() ends the crawl at once', async () => {
    const s = spec({ eggPath: await buildEgg('quotes'), spider: 'alpha', args: { url: chain(100, 200) } });
    const c = collector();
    const job = await startJob(s, c.events);
    await c.until(() => c.items.length > 0, 30_000, 'the first item');
    job.kill();
    const result = await deadline(job.done, 5_000, 'the killed crawl');
    assert.equal(result.exitCode, -9);
    assert.equal(result.state, 'CANCELLED');
    await assertJournals(s, result, c);
    assertGroupGone(job.pid);
  });

  it('fails a job whose egg, spider or spider constructor does not load', async () => {
    const cases = [
      { egg: 'broken_import', spider: 'ok', error: /SPIDER_IMPORT_FAILED: ModuleNotFoundError: No module named 'scrapydd_fixture_missing_dependency'$/ },
      { egg: 'quotes', spider: 'nope', error: /SPIDER_NOT_FOUND: KeyError: 'Spider not found: nope'$/ },
      { egg: 'behaviours', spider: 'bad_init', error: /SPIDER_INIT_FAILED: ValueError: bad_init refuses to start$/ },
    ];
    await Promise.all(
      cases.map(async ({ egg, spider, error }) => {
        const s = spec({ eggPath: await buildEgg(egg), spider });
        const { result, c } = await run(s);
        assert.equal(result.state, 'FAILED', spider);
        assert.equal(result.exitCode, 3, spider);
        assert.equal(result.closeReason, 'failed', spider);
        assert.equal(result.statsJson, '{}', spider);
        assert.match(c.log.at(-1) ?? '', error);
        await assertJournals(s, result, c);
      }),
    );
  });

  it('rejects when the python cannot be started', async () => {
    const s = spec({ eggPath: await buildEgg('quotes'), spider: 'alpha', python: join(root, 'no-such-python') });
    await assert.rejects(startJob(s, collector().events), /cannot start the crawl of .* ENOENT/);
  });
});

describe('parent death', () => {
  /** Starts a job from a separate Node process (the "agent"), which the test then SIGKILLs. */
  async function startFromAgent(s: JobSpec): Promise<{ agent: ReturnType<typeof spawn>; pid: number }> {
    const script = join(root, 'agent.mjs');
    await writeFile(
      script,
      `const { startJob } = await import(process.argv[2]);
const job = await startJob(JSON.parse(process.argv[3]), { onLog() {}, onItems() {} });
process.stdout.write(JSON.stringify({ pid: job.pid }) + '\\n');
setInterval(() => {}, 60_000);
`,
    );
    const agent = spawn(process.execPath, ['--import', 'tsx', script, JOB_PROCESS_MODULE, JSON.stringify(s)], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [line] = (await deadline(once(agent.stdout!, 'data'), 30_000, 'the agent to start the job')) as [Buffer];
    return { agent, pid: (JSON.parse(line.toString()) as { pid: number }).pid };
  }

  async function killAgent(agent: ReturnType<typeof spawn>) {
    const exited = once(agent, 'exit');
    agent.kill('SIGKILL');
    await exited;
  }

  it('a crawl stops gracefully soon after its agent is SIGKILLed', async () => {
    const s = spec({ eggPath: await buildEgg('quotes'), spider: 'alpha', args: { url: chain(100, 200) } });
    const { agent, pid } = await startFromAgent(s);
    await poll(fileHas(join(s.workDir, 'items.jl'), 'Chain 0'), 30_000, 'the first item');
    await killAgent(agent);
    const killed = Date.now();
    await poll(async () => !(await groupAlive(pid)), 15_000, 'the orphaned crawl to stop');
    // Well before the 10 s hard exit: the crawl was closed, not shot.
    assert.ok(Date.now() - killed < 8000, `took ${Date.now() - killed} ms`);
  });

  it('a crawl that cannot stop is hard-exited after its agent is SIGKILLed', async () => {
    const s = spec({ eggPath: await buildEgg('behaviours'), spider: 'blocker', args: { url: chain(1) } });
    const { agent, pid } = await startFromAgent(s);
    await poll(fileHas(join(s.workDir, 'log.txt'), 'blocker: blocking the reactor'), 30_000, 'the reactor to block');
    await killAgent(agent);
    await poll(async () => !(await groupAlive(pid)), 15_000, 'the orphaned crawl to exit');
  });
});
