/**
 * The agent's jobs: an assignment becomes egg → environment (venv or image) → crawl → reports;
 * cancels and kills from the server; reconciliation with SessionAccepted
 * after every (re)connect; jobs finished while disconnected kept on disk
 * (state.json, log.txt, items.jl) until a server has them.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { JobAssignment, JobCancel, JobKill, JobResume } from '../../gen/scrapydd/v1/node_session.js';
import type { EggCache } from './egg-cache.js';
import { appendLogLines } from './job-log-append.js';
import { JobReporter, type SessionSender } from './job-reporter.js';
import { LOG_FILE, type FinishedResult, type JobStateFile, type JobStore } from './job-store.js';
import { jobKeyOf, parseAgentJobName, stopSignal, type StopSignal } from './job-names.js';
import type { AgentRunner, JobResult, RunningJob } from './runner-port.js';

/** A JobFinished flushed this long ago on a session that is still open counts as received. */
const CONFIRM_AFTER_MS = 10 * 60_000;
const SETUP_LINES_KEPT = 200;

interface ManagedJob {
  readonly name: string;
  readonly key: string;
  readonly spider: string;
  readonly dir: string;
  readonly reporter: JobReporter;
  readonly state: JobStateFile;
  phase: 'preparing' | 'running' | 'finished';
  running?: RunningJob;
  cancel?: { signal: StopSignal; graceSeconds: number };
  /** Forgotten: never report it again. */
  killed: boolean;
  /** The agent itself stopped it (shutdown). */
  stoppedByAgent?: boolean;
  reportedAt?: { session: number; at: number };
}

export interface JobManagerOptions {
  store: JobStore;
  eggs: EggCache;
  runner: AgentRunner;
  logger: Logger;
}

export class JobManager {
  private readonly jobs = new Map<string, ManagedJob>();
  private session: SessionSender | undefined;
  private sessionSeq = 0;

  constructor(private readonly opts: JobManagerOptions) {}

  private get log(): Logger {
    return this.opts.logger;
  }

  /** Loads jobs left on disk: finished ones are reported on the next session, unfinished ones are gone (LOST). */
  async recover(): Promise<void> {
    for (const key of await this.opts.store.keys()) {
      const state = await this.opts.store.load(key);
      if (state?.result) {
        const job = this.track(state.job, state);
        job.phase = 'finished';
        job.reporter.finish(state.result);
        this.log.info({ job: state.job, state: state.result.state }, 'finished job awaits reporting');
        continue;
      }
      if (state?.pid) await this.opts.runner.stopLeftover(state.pid, this.opts.store.dirOf(key));
      if (state) this.log.warn({ job: state.job }, 'job was running when the agent stopped; the server marks it LOST');
      await this.opts.store.remove(key);
    }
  }

  /** Jobs to list in hello and heartbeats: running, preparing, and finished ones the server may not have yet. */
  jobNames(): string[] {
    return [...this.jobs.values()].map((j) => j.name);
  }

  get size(): number {
    return this.jobs.size;
  }

  /** A session was accepted: continue the jobs it gives us, forget the others. */
  accepted(session: SessionSender, resume: readonly JobResume[]): void {
    this.session = session;
    this.sessionSeq++;
    const given = new Map(resume.map((r) => [jobKeyOf(r.job), r]));
    for (const job of [...this.jobs.values()]) {
      const r = given.get(job.key);
      if (!r) {
        this.forget(job, job.reportedAt ? 'the server has its end' : 'the server no longer gives it to this node');
        continue;
      }
      job.reporter.attach(session, Number(r.logLinesReceived), Number(r.itemsReceived));
    }
  }

  disconnected(): void {
    this.session = undefined;
    for (const job of this.jobs.values()) job.reporter.detach();
  }

  assign(a: JobAssignment): void {
    const name = a.job?.name ?? '';
    let parsed;
    try {
      parsed = parseAgentJobName(name);
    } catch (err) {
      this.log.error({ job: name, err: (err as Error).message }, 'assignment with a bad job name ignored');
      return;
    }
    if (this.jobs.has(parsed.key)) {
      this.log.warn({ job: name }, 'duplicate assignment ignored');
      return;
    }
    const job = this.track(name, { job: name, sentLogLines: 0, sentItems: 0 });
    this.log.info({ job: name, egg: a.eggSha256 }, 'job assigned');
    if (this.session) job.reporter.attach(this.session, 0, 0);
    void this.run(job, a);
  }

  cancel(c: JobCancel): void {
    const job = this.jobs.get(jobKeyOf(c.job));
    if (!job || job.phase === 'finished') return;
    job.cancel = { signal: stopSignal(c.signal), graceSeconds: c.graceSeconds };
    this.log.info({ job: job.name, signal: job.cancel.signal, grace: c.graceSeconds }, 'cancel requested');
    job.running?.cancel(job.cancel.signal, job.cancel.graceSeconds);
  }

  kill(k: JobKill): void {
    const job = this.jobs.get(jobKeyOf(k.job));
    if (job) this.forget(job, 'killed by the server');
  }

  /** Drops reported jobs the server has surely applied (see CONFIRM_AFTER_MS); called on heartbeats. */
  sweep(now = Date.now()): void {
    for (const job of [...this.jobs.values()]) {
      const r = job.reportedAt;
      if (r && r.session === this.sessionSeq && now - r.at > CONFIRM_AFTER_MS) this.forget(job, 'reported');
    }
  }

  /** Shutdown: SIGINT to running jobs, wait for them and their reports up to `graceMs`, then SIGKILL the rest. */
  async stop(graceMs: number): Promise<void> {
    for (const job of this.jobs.values()) {
      if (job.phase === 'preparing') job.killed = true;
      if (job.phase !== 'running') continue;
      job.stoppedByAgent = true;
      job.running?.cancel('INT', Math.max(1, Math.floor(graceMs / 1000) - 2));
    }
    const deadline = Date.now() + graceMs;
    const pending = () => [...this.jobs.values()].filter((j) => !j.killed && (j.phase === 'running' || (j.phase === 'finished' && !j.reportedAt && this.session)));
    while (pending().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    for (const job of this.jobs.values()) if (job.phase === 'running') job.running?.kill();
  }

  private track(name: string, state: JobStateFile): ManagedJob {
    const { key, spider } = parseAgentJobName(name);
    const dir = this.opts.store.dirOf(key);
    const job: ManagedJob = {
      name, key, spider, dir, state, phase: 'preparing', killed: false,
      reporter: new JobReporter(name, dir, (f, from, max) => this.opts.runner.readLines(f, from, max), this.log, () => this.reported(job)),
    };
    this.jobs.set(key, job);
    return job;
  }

  private forget(job: ManagedJob, why: string): void {
    job.killed = true;
    job.reporter.detach();
    this.jobs.delete(job.key);
    this.log.info({ job: job.name, why }, 'job forgotten');
    const running = job.phase === 'running' ? job.running : undefined;
    if (running) {
      running.kill();
      void running.done.catch(() => undefined).finally(() => void this.removeDir(job));
    } else if (job.phase === 'finished') {
      void this.removeDir(job);
    } // preparing: run() removes the directory when it notices
  }

  private async removeDir(job: ManagedJob): Promise<void> {
    if (this.jobs.get(job.key) === job) return;
    await this.opts.store.remove(job.key).catch((err: unknown) => this.log.warn({ job: job.name, err }, 'cannot remove a job directory'));
  }

  private reported(job: ManagedJob): void {
    job.reportedAt = { session: this.sessionSeq, at: Date.now() };
    job.state.reported = true;
    this.log.info({ job: job.name, state: job.state.result?.state }, 'job end reported');
    void this.save(job);
  }

  private async save(job: ManagedJob): Promise<void> {
    if (job.killed) return;
    Object.assign(job.state, job.reporter.counts);
    await this.opts.store.save(job.key, job.state).catch((err: unknown) => this.log.warn({ job: job.name, err }, 'cannot write state.json'));
  }

  private async run(job: ManagedJob, a: JobAssignment): Promise<void> {
    const setupLines: string[] = [];
    const log = this.log.child({ job: job.name });
    try {
      await this.opts.store.remove(job.key);
      await this.opts.store.create(job.key);
      await this.save(job);
      const eggPath = await this.opts.eggs.get(a.eggSha256, Number(a.eggSizeBytes));
      if (job.killed) return void (await this.removeDir(job));
      const environment = await this.opts.runner.prepare({
        eggPath,
        eggSha256: a.eggSha256,
        extraRequirements: a.extraRequirements,
        log: (line) => {
          setupLines.push(line);
          if (setupLines.length > SETUP_LINES_KEPT) setupLines.shift();
          log.debug({ line }, 'setup');
        },
      });
      if (job.killed) return void (await this.removeDir(job));
      if (job.cancel) return await this.failSetup(job, [], 'CANCELLED', 'cancelled', 'cancelled before it started');
      const running = await environment.start(
        {
          job: job.name, eggPath, spider: job.spider, args: a.job?.args ?? {}, settings: a.job?.scrapySettings ?? {},
          workDir: job.dir, timeoutSeconds: a.timeoutSeconds, cancelGraceSeconds: a.cancelGraceSeconds,
        },
        { onLog: (lines) => job.reporter.log(lines), onItems: (items) => job.reporter.items(items) },
      );
      job.running = running;
      job.phase = 'running';
      job.state.pid = running.pid;
      void this.save(job);
      log.info({ pid: running.pid, in: environment.description }, 'job started');
      if (job.killed) running.kill();
      else {
        job.reporter.started(running.pid);
        const cancel = job.cancel as ManagedJob['cancel']; // may have arrived while it started
        if (cancel) running.cancel(cancel.signal, cancel.graceSeconds);
      }
      const result = await running.done;
      if (job.killed) return void (await this.removeDir(job));
      await this.finish(job, this.resultOf(job, result));
    } catch (err) {
      if (job.killed) return void (await this.removeDir(job));
      const message = err instanceof Error ? err.message : String(err);
      log.error({ err: message }, 'job failed to run');
      await this.failSetup(job, setupLines, 'FAILED', 'setup failed', message).catch((e: unknown) =>
        log.error({ err: (e as Error).message }, 'cannot record the failure of a job'),
      );
    }
  }

  private resultOf(job: ManagedJob, r: JobResult): FinishedResult {
    const closeReason = job.stoppedByAgent && r.state === 'CANCELLED' ? 'agent stopped' : r.closeReason;
    return { state: r.state, exitCode: r.exitCode, warning: r.warning, closeReason, statsJson: r.statsJson, logLineCount: r.logLineCount, itemCount: r.itemCount };
  }

  /** Ends a job that never ran (or whose runner failed): the reason goes into its log, then JobFinished. */
  private async failSetup(job: ManagedJob, setupLines: string[], state: 'FAILED' | 'CANCELLED', closeReason: string, message: string): Promise<void> {
    const lines = [...setupLines, `scrapydd agent: ${message}`];
    const total = await appendLogLines(join(job.dir, LOG_FILE), lines);
    const items = job.reporter.producedCounts.items;
    await this.finish(job, { state, exitCode: -1, warning: false, closeReason, statsJson: '{}', logLineCount: total, itemCount: items });
  }

  private async finish(job: ManagedJob, result: FinishedResult): Promise<void> {
    job.phase = 'finished';
    job.state.result = result;
    await this.save(job); // durable before it is reported
    this.log.info({ job: job.name, state: result.state, exitCode: result.exitCode, logLines: result.logLineCount, items: result.itemCount }, 'job ended');
    job.reporter.finish(result);
  }
}
