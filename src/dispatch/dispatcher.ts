/**
 * Push dispatch: keeps the agents' live sessions, fills their free slots the
 * moment jobs become runnable (claims in claim-batch.ts), forwards cancels to
 * the agent holding the job, and sweeps: missed wake-ups, and agents silent
 * past node_timeout (their active jobs become LOST).
 */
import type { Logger } from 'pino';

import type { Deps } from '../domain/deps.js';
import { loseJob } from '../domain/jobs/job-reports.js';
import * as jobsRepo from '../storage/jobs-repo.js';
import * as sessionsRepo from '../storage/sessions-repo.js';
import { anyClaimable, claimBatch, type ClaimedJob, type ClaimResult } from './claim-batch.js';
import { jobName } from '../domain/jobs/job-names.js';
import { jobToProto } from './job-to-proto.js';
import type { LiveSession } from './live-session.js';
import type { Wakeup, Wakeups } from './wakeups.js';

/**
 * How a fill starts: 'claim' at once (jobs were queued, an agent joined), or
 * 'probe' (capacity was freed, the sweep): a cheaper look for claimable jobs first.
 */
export type FillMode = 'claim' | 'probe';

const stronger = (a: FillMode | undefined, b: FillMode): FillMode => (a === 'claim' || b === 'claim' ? 'claim' : 'probe');

export interface DispatcherSettings {
  nodeTimeoutSeconds: number;
  cancelGraceSeconds: number;
  sweepIntervalMs: number;
}

export class Dispatcher {
  private readonly sessions = new Map<string, LiveSession>();
  /** Sessions by tag group (their sorted tags): the unit of a claim. */
  private readonly groups = new Map<string, Set<LiveSession>>();
  /** Groups to fill at the next turn of the event loop: wake-ups that come together cost one fill. */
  private readonly wanted = new Map<string, FillMode>();
  private fillScheduled = false;
  private fillSoon = false;
  /** Tag groups being filled now, with the mode of one more round if a wake-up came meanwhile. */
  private readonly filling = new Map<string, FillMode | undefined>();
  private timer: NodeJS.Timeout | undefined;
  private rotation = 0;
  private startedAt = Date.now();

  constructor(
    private readonly deps: Deps,
    private readonly wakeups: Wakeups,
    private readonly settings: DispatcherSettings,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.startedAt = Date.now();
    this.wakeups.on('wakeup', (w) => this.onWakeup(w));
    this.timer = setInterval(() => void this.sweep(), this.settings.sweepIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    for (const s of this.sessions.values()) s.end('server shutting down');
    this.sessions.clear();
    this.groups.clear();
  }

  /** Adds a session (replacing an older one of the same node) and fills it. */
  add(session: LiveSession): void {
    for (const old of this.sessions.values()) {
      if (old.nodeId === session.nodeId && old.sessionId !== session.sessionId) {
        this.remove(old.sessionId);
        old.end('replaced by a newer session of the same node');
      }
    }
    this.sessions.set(session.sessionId, session);
    const group = tagKey(session);
    this.groups.set(group, (this.groups.get(group) ?? new Set()).add(session));
    this.requestFill(group, 'claim');
  }

  remove(sessionId: string): void {
    const session = this.sessions.get(sessionId);
    if (!session) return;
    this.sessions.delete(sessionId);
    const group = tagKey(session);
    const members = this.groups.get(group);
    members?.delete(session);
    if (members?.size === 0) this.groups.delete(group);
  }

  sessionOfNode(nodeId: string): LiveSession | undefined {
    for (const s of this.sessions.values()) if (s.nodeId === nodeId) return s;
    return undefined;
  }

  /**
   * Fills local sessions with free slots. Sessions are grouped by their tag
   * set: within a group, once a claim finds nothing, no other session of the
   * group can find anything either, so a wake-up costs one claim per group,
   * not one per agent.
   */
  fillAll(mode: FillMode): void {
    for (const g of this.groups.keys()) this.requestFill(g, mode);
  }

  /** Fills the group of `session` after it finished a job. */
  fill(session: LiveSession): void {
    this.requestFill(tagKey(session), 'probe');
  }

  /**
   * Queued jobs are claimed at the end of the current task; freed capacity
   * waits for the next turn of the event loop, after the sessions have
   * counted the ends that freed it (their batch's callbacks).
   */
  private requestFill(group: string, mode: FillMode): void {
    this.wanted.set(group, stronger(this.wanted.get(group), mode));
    if (mode === 'claim' && !this.fillSoon) {
      this.fillSoon = true;
      queueMicrotask(() => {
        this.fillSoon = false;
        this.flushFills();
      });
    }
    if (!this.fillScheduled) {
      this.fillScheduled = true;
      setImmediate(() => {
        this.fillScheduled = false;
        this.flushFills();
      });
    }
  }

  private flushFills(): void {
    const wanted = [...this.wanted];
    this.wanted.clear();
    for (const [g, m] of wanted) this.fillGroup(g, m);
  }

  private fillGroup(group: string, mode: FillMode): void {
    if (this.filling.has(group)) {
      this.filling.set(group, stronger(this.filling.get(group), mode)); // once more when the current round ends
      return;
    }
    this.filling.set(group, undefined);
    void this.fillGroupLoop(group, mode).finally(() => {
      const again = this.filling.get(group);
      this.filling.delete(group);
      if (again) this.fillGroup(group, again);
    });
  }

  /** One batched claim for every free slot of the group, then the assignments go out. */
  private async fillGroupLoop(group: string, mode: FillMode): Promise<void> {
    const members = [...(this.groups.get(group) ?? [])].filter((s) => s.jobs.size < s.slots);
    if (members.length === 0) return;
    this.rotation = (this.rotation + 1) % members.length;
    const rotated = [...members.slice(this.rotation), ...members.slice(0, this.rotation)];
    let claimed: ClaimResult;
    try {
      // Freed capacity: often nothing waits, and a look without a
      // transaction (one round trip, not three) says so for less.
      if (mode === 'probe' && !(await anyClaimable(this.deps.db, rotated[0]!.tags))) return;
      claimed = await claimBatch(
        this.deps.db,
        rotated[0]!.tags,
        rotated.map((s) => ({ nodeId: s.nodeId, sessionId: s.sessionId, free: s.slots - s.jobs.size })),
      );
    } catch (err) {
      this.logger.warn({ err, group }, 'claiming jobs failed');
      return;
    }
    await Promise.all(
      rotated.map(async (session) => {
        for (const job of claimed.jobs.get(session.sessionId) ?? []) await this.assign(session, job);
      }),
    );
    // Jobs were passed over for their spider's concurrency while slots were
    // left: another round looks at the jobs behind them.
    if (claimed.passedOver && rotated.some((s) => s.jobs.size < s.slots)) this.filling.set(group, 'claim');
  }

  /** Sends a claimed job to its agent. */
  private async assign(session: LiveSession, job: ClaimedJob): Promise<void> {
    session.jobs.add(job.key);
    this.logger.debug({ job: job.key, node: session.nodeId }, 'job assigned');
    try {
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
            extraRequirements: job.extraRequirements,
          },
        },
      });
    } catch (err) {
      // The job stays RUNNING on this node: never requeued blindly, it might
      // have reached the agent. The stream is ended so the agent reconnects
      // at once and its hello (running jobs) settles it; an agent that does
      // not come back loses it at node_timeout.
      this.logger.warn({ err, job: job.key, node: session.nodeId }, 'sending an assignment failed; ending the session');
      session.end('an assignment could not be sent');
    }
  }

  private onWakeup(w: Wakeup): void {
    if (w.type === 'triggers') return; // the trigger clock's
    if (w.type === 'cancel') void this.forwardCancel(w.jobId);
    else this.fillAll(w.type === 'queued' ? 'claim' : 'probe');
  }

  private async forwardCancel(jobId: string): Promise<void> {
    const job = await jobsRepo.findJobById(this.deps.db, jobId);
    if (!job?.nodeId || job.state !== 'CANCELLING') return;
    const session = this.sessionOfNode(job.nodeId);
    if (!session) return;
    await session
      .send({ command: { $case: 'cancel', cancel: { job: jobName(job.project, job.spider, job.key), signal: job.cancelSignal ?? 'INT', graceSeconds: this.settings.cancelGraceSeconds } } })
      .catch((err: unknown) => this.logger.warn({ err, job: job.key }, 'could not send a cancel'));
  }

  /** Liveness and missed wake-ups; safe to run on every server at once. */
  async sweep(): Promise<void> {
    try {
      // A server that just started gives agents node_timeout to find it
      // again: while it was down they could not send heartbeats (with one
      // server), so their silence says nothing yet.
      if (Date.now() - this.startedAt < this.settings.nodeTimeoutSeconds * 1000) {
        this.fillAll('probe');
        return;
      }
      const cutoff = new Date(Date.now() - this.settings.nodeTimeoutSeconds * 1000).toISOString();
      const silent = await sessionsRepo.expireSilentNodes(this.deps.db, cutoff);
      for (const nodeId of silent) {
        this.logger.warn({ node: nodeId }, 'node went silent; offline');
        this.sessionOfNode(nodeId)?.end('silent past node_timeout');
      }
      for (const jobId of await sessionsRepo.jobsOfSilentNodes(this.deps.db, cutoff)) {
        await loseJob(this.deps, jobId, 'agent went silent');
      }
      this.fillAll('probe');
    } catch (err) {
      this.logger.warn({ err }, 'dispatch sweep failed');
    }
  }
}


const tagKeys = new WeakMap<LiveSession, string>();

/** A session's tag group: its sorted tags (computed once per session). */
function tagKey(s: LiveSession): string {
  let key = tagKeys.get(s);
  if (key === undefined) tagKeys.set(s, (key = [...s.tags].sort().join(',')));
  return key;
}
