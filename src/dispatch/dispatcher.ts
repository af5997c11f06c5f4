/**
 * Push dispatch: keeps the agents' live sessions, fills their free slots the
 * moment jobs become runnable (claims in claim-job.ts), forwards cancels to
 * the agent holding the job, and sweeps: missed wake-ups, and agents silent
 * past node_timeout (their active jobs become LOST).
 */
import type { Logger } from 'pino';

import type { Deps } from '../domain/deps.js';
import { loseJob } from '../domain/jobs/job-reports.js';
import * as jobsRepo from '../storage/jobs-repo.js';
import * as sessionsRepo from '../storage/sessions-repo.js';
import { claimNextJob } from './claim-job.js';
import { jobToProto } from './job-to-proto.js';
import type { LiveSession } from './live-session.js';
import type { Wakeup, Wakeups } from './wakeups.js';

export interface DispatcherSettings {
  nodeTimeoutSeconds: number;
  cancelGraceSeconds: number;
  sweepIntervalMs: number;
}

export class Dispatcher {
  private readonly sessions = new Map<string, LiveSession>();
  /** Sessions being filled now; a wake-up during a fill asks for one more round. */
  private readonly filling = new Map<string, boolean>();
  private timer: NodeJS.Timeout | undefined;
  private rotation = 0;

  constructor(
    private readonly deps: Deps,
    private readonly wakeups: Wakeups,
    private readonly settings: DispatcherSettings,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.wakeups.on('wakeup', (w) => this.onWakeup(w));
    this.timer = setInterval(() => void this.sweep(), this.settings.sweepIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    for (const s of this.sessions.values()) s.end('server shutting down');
    this.sessions.clear();
  }

  /** Adds a session (replacing an older one of the same node) and fills it. */
  add(session: LiveSession): void {
    for (const old of this.sessions.values()) {
      if (old.nodeId === session.nodeId && old.sessionId !== session.sessionId) {
        this.sessions.delete(old.sessionId);
        old.end('replaced by a newer session of the same node');
      }
    }
    this.sessions.set(session.sessionId, session);
    this.fill(session);
  }

  remove(sessionId: string): void {
    this.sessions.delete(sessionId);
  }

  sessionOfNode(nodeId: string): LiveSession | undefined {
    for (const s of this.sessions.values()) if (s.nodeId === nodeId) return s;
    return undefined;
  }

  /** Fills every local session with free slots, starting from a rotating point (fair between agents). */
  fillAll(): void {
    const list = [...this.sessions.values()];
    if (list.length === 0) return;
    this.rotation = (this.rotation + 1) % list.length;
    for (let i = 0; i < list.length; i++) this.fill(list[(this.rotation + i) % list.length]!);
  }

  /** Claims and sends jobs to `session` while it has free slots. */
  fill(session: LiveSession): void {
    if (this.filling.has(session.sessionId)) {
      this.filling.set(session.sessionId, true);
      return;
    }
    this.filling.set(session.sessionId, false);
    void this.fillLoop(session).finally(() => {
      const again = this.filling.get(session.sessionId);
      this.filling.delete(session.sessionId);
      if (again && this.sessions.has(session.sessionId)) this.fill(session);
    });
  }

  private async fillLoop(session: LiveSession): Promise<void> {
    try {
      while (this.sessions.has(session.sessionId) && session.jobs.size < session.slots) {
        const job = await claimNextJob(this.deps.db, { nodeId: session.nodeId, sessionId: session.sessionId, tags: session.tags });
        if (!job) return;
        session.jobs.add(job.key);
        this.logger.info({ job: job.key, node: session.nodeId }, 'job assigned');
        await session.send({
          command: {
            $case: 'assignment',
            assignment: {
              job: jobToProto(job),
              eggSha256: job.eggSha256,
              eggSizeBytes: String(job.eggSize),
              settingsModule: job.settingsModule,
              timeoutSeconds: job.timeoutSeconds,
              cancelGraceSeconds: this.settings.cancelGraceSeconds,
              extraRequirements: [],
            },
          },
        });
      }
    } catch (err) {
      // A send that fails leaves the job RUNNING on this node; the agent's
      // next hello (or node_timeout) settles it. Never requeued blindly.
      this.logger.warn({ err, node: session.nodeId }, 'filling a session failed');
    }
  }

  private onWakeup(w: Wakeup): void {
    if (w.type === 'runnable') this.fillAll();
    else void this.forwardCancel(w.jobId);
  }

  private async forwardCancel(jobId: string): Promise<void> {
    const job = await jobsRepo.findJobById(this.deps.db, jobId);
    if (!job?.nodeId || job.state !== 'CANCELLING') return;
    const session = this.sessionOfNode(job.nodeId);
    if (!session) return;
    await session
      .send({ command: { $case: 'cancel', cancel: { job: job.key, signal: job.cancelSignal ?? 'INT', graceSeconds: this.settings.cancelGraceSeconds } } })
      .catch((err: unknown) => this.logger.warn({ err, job: job.key }, 'could not send a cancel'));
  }

  /** Liveness and missed wake-ups; safe to run on every server at once. */
  async sweep(): Promise<void> {
    try {
      const cutoff = new Date(Date.now() - this.settings.nodeTimeoutSeconds * 1000).toISOString();
      const silent = await sessionsRepo.expireSilentNodes(this.deps.db, cutoff);
      for (const nodeId of silent) {
        this.logger.warn({ node: nodeId }, 'node went silent; offline');
        this.sessionOfNode(nodeId)?.end('silent past node_timeout');
      }
      for (const jobId of await sessionsRepo.jobsOfSilentNodes(this.deps.db, cutoff)) {
        await loseJob(this.deps, jobId, 'agent went silent');
      }
      this.fillAll();
    } catch (err) {
      this.logger.warn({ err }, 'dispatch sweep failed');
    }
  }
}

