/**
 * The agent's job bookkeeping in process, with a scripted runner and a
 * recording session: numbering of log lines and items across reconnects
 * (re-read from the job's files), JobFinished last, kills and cancels by
 * bare key, jobs the server no longer gives, setup failures, recovery.
 */
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { pino } from 'pino';
import { Job_State } from '../../gen/scrapydd/v1/job.js';
import type { JobAssignment, StreamNodeSessionRequest } from '../../gen/scrapydd/v1/node_session.js';
import type { EggCache } from '../../src/agent/egg-cache.js';
import { JobManager } from '../../src/agent/job-manager.js';
import type { SessionSender } from '../../src/agent/job-reporter.js';
import { JobStore } from '../../src/agent/job-store.js';
import type { AgentRunner, CrawlSpec, JobEvents, JobResult, RunningJob } from '../../src/agent/runner-port.js';
import { readLines } from '../../src/agent/runner/job-process.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

class RecordingSession implements SessionSender {
  readonly sent: StreamNodeSessionRequest[] = [];
  write(m: StreamNodeSessionRequest) {
    this.sent.push(m);
    return true;
  }
  async flush(m: StreamNodeSessionRequest) {
    this.sent.push(m);
  }
  /** Log lines by index as the server would keep them (each index once; a gap is an error). */
  kept(kind: 'jobLogLines' | 'jobItems'): string[] {
    const out: string[] = [];
    for (const m of this.sent) {
      const e = m.event;
      if (e?.$case !== kind) continue;
      const [first, values] = e.$case === 'jobLogLines' ? [Number(e.jobLogLines.firstLine), e.jobLogLines.lines] : [Number(e.jobItems.firstItem), e.jobItems.items];
      assert.ok(first <= out.length, `gap: have ${out.length}, got ${first}`);
      out.push(...values.slice(out.length - first));
    }
    return out;
  }
  cases(): string[] {
    return this.sent.map((m) => m.event!.$case);
  }
}

/** A scripted job: the test emits lines and ends it; kill/cancel are recorded. */
class FakeJob implements RunningJob {
  readonly pid = 4242;
  readonly calls: string[] = [];
  private resolve!: (r: JobResult) => void;
  readonly done = new Promise<JobResult>((r) => (this.resolve = r));
  logCount = 0;
  itemCount = 0;
  constructor(readonly spec: CrawlSpec, private readonly events: JobEvents) {}
  cancel(signal: 'INT' | 'TERM' | 'KILL' = 'INT', grace?: number) {
    this.calls.push(`cancel ${signal} ${grace}`);
  }
  kill() {
    this.calls.push('kill');
    this.end('CANCELLED');
  }
  async log(...lines: string[]) {
    await appendFile(join(this.spec.workDir, 'log.txt'), lines.map((l) => `${l}\n`).join(''));
    this.logCount += lines.length;
    this.events.onLog(lines);
  }
  async items(...items: string[]) {
    await appendFile(join(this.spec.workDir, 'items.jl'), items.map((l) => `${l}\n`).join(''));
    this.itemCount += items.length;
    this.events.onItems(items);
  }
  end(state: JobResult['state'] = 'SUCCEEDED') {
    this.resolve({ state, exitCode: 0, warning: false, closeReason: 'finished', statsJson: '{}', logLineCount: this.logCount, itemCount: this.itemCount });
  }
}

async function setup(opts: { eggFails?: boolean } = {}) {
  const dataDir = await mkdtemp(join(tmpdir(), 'scrapydd-agent-unit-'));
  dirs.push(dataDir);
  const started: FakeJob[] = [];
  const runner: AgentRunner = {
    open: async () => {},
    readLines,
    stopLeftover: async () => {},
    prepare: async () => ({
      description: 'fake',
      start: async (spec, events) => {
        await writeFile(join(spec.workDir, 'log.txt'), '');
        await writeFile(join(spec.workDir, 'items.jl'), '');
        const job = new FakeJob(spec, events);
        started.push(job);
        return job;
      },
    }),
  };
  const eggs = { get: async () => (opts.eggFails ? Promise.reject(new Error('egg unavailable')) : join(dataDir, 'x.egg')) } as unknown as EggCache;
  const store = new JobStore(join(dataDir, 'jobs'));
  const options = { store, eggs, runner, logger: pino({ level: 'silent' }) };
  return { dataDir, jobs: new JobManager(options), started, store, options };
}

const NAME = 'projects/p/spiders/s/jobs/j1';
const assignment = (name = NAME): JobAssignment => ({
  job: { name, args: { a: '1' }, scrapySettings: { DOWNLOAD_DELAY: '0' } } as unknown as JobAssignment['job'],
  eggSha256: 'a'.repeat(64), eggSizeBytes: '10', settingsModule: 'p.settings', timeoutSeconds: 0, cancelGraceSeconds: 5, extraRequirements: [],
});

async function until<T>(fn: () => T | undefined, what: string, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(5);
  }
}

describe('agent job manager', () => {
  it('numbers lines and items across a reconnect, re-reading what the server lacks, and ends with JobFinished', async () => {
    const { jobs, started } = await setup();
    const s1 = new RecordingSession();
    jobs.accepted(s1, []);
    jobs.assign(assignment());
    const job = await until(() => started[0], 'the job to start');
    assert.equal(job.spec.spider, 's');
    assert.deepEqual(job.spec.args, { a: '1' });
    await job.log('l0', 'l1');
    await job.items('{"i":0}');
    await until(() => s1.cases().includes('jobStarted') || undefined, 'JobStarted');
    jobs.disconnected();
    await job.log('l2', 'l3'); // produced while disconnected
    await job.items('{"i":1}');
    const s2 = new RecordingSession();
    jobs.accepted(s2, [{ job: NAME, logLinesReceived: '1', itemsReceived: '1' }]); // the server kept only l0 and item 0
    await job.log('l4');
    job.end();
    await until(() => s2.cases().includes('jobFinished') || undefined, 'JobFinished');
    const firstLog = s2.sent.find((m) => m.event?.$case === 'jobLogLines');
    assert.equal(firstLog?.event?.$case === 'jobLogLines' && firstLog.event.jobLogLines.firstLine, '1', 'resumes at the server offset');
    assert.deepEqual(s1.kept('jobLogLines'), ['l0', 'l1'], 'live batches before the drop');
    // What a server that kept only l0 and item 0 ends with:
    const log = ['l0', ...replay(s2, 'jobLogLines', 1)];
    assert.deepEqual(log, ['l0', 'l1', 'l2', 'l3', 'l4']);
    assert.deepEqual(['{"i":0}', ...replay(s2, 'jobItems', 1)], ['{"i":0}', '{"i":1}']);
    assert.equal(s2.cases().at(-1), 'jobFinished', 'JobFinished comes last');
    const fin = s2.sent.at(-1)!.event;
    assert.ok(fin?.$case === 'jobFinished');
    assert.equal(fin.jobFinished.state, Job_State.SUCCEEDED);
    assert.equal(fin.jobFinished.logLineCount, '5');
    assert.equal(fin.jobFinished.itemCount, '2');
    assert.deepEqual(jobs.jobNames(), [NAME], 'listed until a later session confirms it');
    jobs.accepted(new RecordingSession(), []);
    assert.deepEqual(jobs.jobNames(), []);
  });

  it('kills a job the server no longer gives, and one it kills by bare key; cancels pass the signal', async () => {
    const { jobs, started, store } = await setup();
    jobs.accepted(new RecordingSession(), []);
    jobs.assign(assignment('projects/p/spiders/s/jobs/k1'));
    jobs.assign(assignment('projects/p/spiders/s/jobs/k2'));
    await until(() => started.length === 2 || undefined, 'two jobs');
    const a = started.find((j) => j.spec.job.endsWith('/k1'));
    const b = started.find((j) => j.spec.job.endsWith('/k2'));
    jobs.cancel({ job: 'k1', signal: 'SIGTERM', graceSeconds: 7 }); // may arrive while startJob is still resolving
    await until(() => a!.calls.length > 0 || undefined, 'the cancel');
    assert.deepEqual(a!.calls, ['cancel TERM 7']);
    jobs.kill({ job: 'k2' });
    await until(() => b!.calls.length > 0 || undefined, 'the kill');
    assert.deepEqual(b!.calls, ['kill']);
    assert.deepEqual(jobs.jobNames(), ['projects/p/spiders/s/jobs/k1']);
    jobs.disconnected();
    jobs.accepted(new RecordingSession(), []); // k1 not resumed
    assert.deepEqual(a!.calls, ['cancel TERM 7', 'kill']);
    assert.deepEqual(jobs.jobNames(), []);
    for (let i = 0; i < 200 && (await stat(store.dirOf('k1')).catch(() => undefined)); i++) await delay(10);
    await assert.rejects(stat(store.dirOf('k1')), { code: 'ENOENT' }, 'its directory is removed');
  });

  it('reports a setup failure as FAILED with the reason in the log', async () => {
    const { jobs } = await setup({ eggFails: true });
    const s = new RecordingSession();
    jobs.accepted(s, []);
    jobs.assign(assignment());
    await until(() => s.cases().includes('jobFinished') || undefined, 'JobFinished');
    assert.deepEqual(s.kept('jobLogLines'), ['scrapydd agent: egg unavailable']);
    const fin = s.sent.at(-1)!.event;
    assert.ok(fin?.$case === 'jobFinished');
    assert.equal(fin.jobFinished.state, Job_State.FAILED);
    assert.equal(fin.jobFinished.closeReason, 'setup failed');
  });

  it('reports a job that finished before a restart on the next session', async () => {
    const { jobs, started, dataDir, options } = await setup();
    jobs.assign(assignment()); // no session: nothing is sent
    const job = await until(() => started[0], 'the job to start');
    await job.log('a', 'b', 'c');
    job.end();
    const stateFile = join(dataDir, 'jobs', 'j1', 'state.json');
    for (let i = 0; i < 200 && !(await readFile(stateFile, 'utf8').catch(() => '')).includes('result'); i++) await delay(10);
    assert.deepEqual(jobs.jobNames(), [NAME]);

    const again = new JobManager(options); // the agent restarted
    await again.recover();
    assert.deepEqual(again.jobNames(), [NAME]);
    const s = new RecordingSession();
    again.accepted(s, [{ job: NAME, logLinesReceived: '0', itemsReceived: '0' }]);
    await until(() => s.cases().includes('jobFinished') || undefined, 'JobFinished');
    assert.deepEqual(s.kept('jobLogLines'), ['a', 'b', 'c']);
  });
});

/** The values a session sent for indices >= `from`, in index order, each once. */
function replay(s: RecordingSession, kind: 'jobLogLines' | 'jobItems', from: number): string[] {
  const byIndex = new Map<number, string>();
  for (const m of s.sent) {
    const e = m.event;
    if (e?.$case !== kind) continue;
    const [first, values] = e.$case === 'jobLogLines' ? [Number(e.jobLogLines.firstLine), e.jobLogLines.lines] : [Number(e.jobItems.firstItem), e.jobItems.items];
    values.forEach((v, i) => byIndex.has(first + i) || byIndex.set(first + i, v));
  }
  const out: string[] = [];
  for (let i = from; byIndex.has(i); i++) out.push(byIndex.get(i)!);
  assert.equal(out.length, byIndex.size - [...byIndex.keys()].filter((k) => k < from).length, 'no gaps');
  return out;
}
