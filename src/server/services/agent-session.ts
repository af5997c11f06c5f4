/**
 * One agent's NodeSession stream, from hello to the end: who the agent is,
 * reconciling the jobs it runs with the jobs the database gives it, then
 * its reports (heartbeats, job starts, log lines, items, ends) into the
 * shared group commit, and the session's registration with dispatch.
 */
import type { Logger } from 'pino';
import { Job_State } from '../../../gen/scrapydd/v1/job.js';
import type { AgentHello, JobFinished, StreamNodeSessionRequest, StreamNodeSessionResponse } from '../../../gen/scrapydd/v1/node_session.js';
import type { Deps } from '../../domain/deps.js';
import { loseJob, type AgentReport, type FinishReport, type ReportOutcome } from '../../domain/jobs/job-reports.js';
import { jobName, parseJobName } from '../../domain/jobs/job-names.js';
import { createTemporaryNode } from '../../domain/nodes/node-service.js';
import type { Dispatcher } from '../../dispatch/dispatcher.js';
import type { LiveSession } from '../../dispatch/live-session.js';
import { InvalidArgument, NotFound, PermissionDenied, Unavailable } from '../../errors/domain-error.js';
import type { GroupCommit } from '../../storage/group-commit.js';
import * as jobsRepo from '../../storage/jobs-repo.js';
import * as nodesRepo from '../../storage/nodes-repo.js';
import * as sessionsRepo from '../../storage/sessions-repo.js';
import type { CallContext } from '../call-context.js';
import type { BidiStream } from './service-binding.js';
import { HeartbeatReconciler } from './heartbeat-reconciler.js';
import { SessionReader } from './session-reader.js';

type Stream = BidiStream<StreamNodeSessionRequest, StreamNodeSessionResponse>;

export interface SessionSettings {
  heartbeatIntervalSeconds: number;
  nodeTimeoutSeconds: number;
  cancelGraceSeconds: number;
  enableAuthentication: boolean;
}

export interface SessionEnv {
  deps: Deps;
  dispatcher: Dispatcher;
  /** Every session's reports go through this one group commit. */
  reports: GroupCommit<AgentReport, ReportOutcome>;
  settings: SessionSettings;
}

/** Reports of one session submitted and not yet applied; past this the session reads no more until they are. */
const MAX_REPORTS_IN_FLIGHT = 64;
const TAG = /^[A-Za-z0-9_.-]{1,64}$/;

export async function runAgentSession(env: SessionEnv, stream: Stream, ctx: CallContext): Promise<void> {
  const stop = new AbortController();
  const reader = new SessionReader(stream.requests, env.settings.nodeTimeoutSeconds * 1000, stop.signal);
  try {
    const first = await reader.next('hello');
    const hello = first.done ? undefined : first.value.event;
    if (hello?.$case !== 'hello') throw new InvalidArgument('the first session message must be hello', { field: 'hello' });
    const session = await join(env, hello.hello, stream, ctx, stop);
    await receiveReports(env, session, reader, stream, stop);
  } finally {
    reader.close();
  }
}

interface JoinedSession {
  live: LiveSession;
  log: Logger;
  /** Why the session ended, when it was ended from here or from outside. */
  endReason: string;
}

/** Identifies the agent, opens its session, settles the jobs it reports running, and hands the session to dispatch. */
async function join(env: SessionEnv, h: AgentHello, stream: Stream, ctx: CallContext, stop: AbortController): Promise<JoinedSession> {
  const { deps, settings } = env;
  const tags = [...new Set(h.tags.map((t) => t.trim()).filter(Boolean))];
  for (const t of tags) if (!TAG.test(t)) throw new InvalidArgument(`tag '${t}' is not valid`, { field: 'hello.tags' });
  const slots = h.slots;
  if (!Number.isInteger(slots) || slots < 1 || slots > 1000) throw new InvalidArgument('slots must be 1..1000', { field: 'hello.slots' });

  // Who is this? A permanent node by its credentials, or a new temporary node.
  const temporary = ctx.principal.nodeId === undefined;
  let nodeId = ctx.principal.nodeId;
  if (nodeId === undefined) {
    if (settings.enableAuthentication) throw new PermissionDenied('agents sign in with node credentials (scrapydd agent -g)');
    nodeId = (await createTemporaryNode(deps, { tags, clientIp: ctx.call.peerAddress, slots, agentVersion: h.agentVersion })).id;
  }
  const node = await nodesRepo.findNode(deps.db, nodeId);
  if (!node) throw new NotFound(`node '${nodeId}' not found`);
  const sessionId = deps.ids.next();
  const log = ctx.logger.child({ node: nodeId, session: sessionId });
  await sessionsRepo.openSession(deps.db, {
    id: sessionId,
    nodeId,
    clientIp: ctx.call.peerAddress,
    slots,
    agentVersion: h.agentVersion,
    // Permanent nodes keep the tags they registered with (an admin may change them); temporary ones take the agent's.
    tags: temporary ? tags : undefined,
  });

  // Reconcile what the agent runs with what the database gives it.
  const reportedNames = new Map(h.runningJobs.map((name) => [parseJobName(name, 'hello.running_jobs').job, name] as const));
  const owned = await jobsRepo.activeJobsOfNode(deps.db, nodeId);
  const keep = owned.filter((j) => reportedNames.has(j.key));
  for (const j of owned) if (!reportedNames.has(j.key)) await loseJob(deps, j.id, 'agent no longer had it');
  const kills = [...reportedNames.keys()].filter((k) => !keep.some((j) => j.key === k));

  const session: JoinedSession = { log, endReason: '', live: undefined as never };
  session.live = {
    sessionId,
    nodeId,
    tags: node.tags,
    slots,
    jobs: new Set(keep.map((j) => j.key)),
    send: (message) => stream.send(message),
    end: (reason) => {
      session.endReason = reason;
      stop.abort();
    },
  };
  await stream.send({
    command: {
      $case: 'accepted',
      accepted: {
        session: `nodeSessions/${sessionId}`,
        node: `nodes/${nodeId}`,
        heartbeatIntervalSeconds: settings.heartbeatIntervalSeconds,
        resume: keep.map((j) => ({ job: jobName(j.project, j.spider, j.key), logLinesReceived: String(j.logLineCount), itemsReceived: String(j.itemCount) })),
      },
    },
  });
  for (const key of kills) await stream.send({ command: { $case: 'kill', kill: { job: reportedNames.get(key)! } } });
  for (const j of keep) {
    if (j.state !== 'CANCELLING') continue;
    const job = jobName(j.project, j.spider, j.key);
    await stream.send({ command: { $case: 'cancel', cancel: { job, signal: j.cancelSignal ?? 'INT', graceSeconds: settings.cancelGraceSeconds } } });
  }
  log.info({ slots, tags: node.tags, resumed: keep.length, killed: kills.length, temporary }, 'agent session opened');
  return session;
}

/**
 * The session's reports until it ends. They are submitted in order without
 * waiting for each (the group commit applies them in order); what became of
 * each is handled when its batch commits.
 */
async function receiveReports(env: SessionEnv, session: JoinedSession, reader: SessionReader, stream: Stream, stop: AbortController): Promise<void> {
  const { deps, dispatcher, reports } = env;
  const { live, log } = session;
  const { nodeId, sessionId } = live;
  const inFlight: Promise<void>[] = [];
  let failure: unknown;
  const submit = async (report: AgentReport, then: (outcome: ReportOutcome) => Promise<void> | void): Promise<void> => {
    inFlight.push(
      reports.submit(report).then(then).catch((err: unknown) => {
        // Whatever was lost, the agent re-sends after it reconnects.
        if (failure === undefined) log.error({ err }, 'applying reports failed; ending the session');
        failure ??= err;
        live.end('reports could not be applied');
      }),
    );
    if (inFlight.length >= MAX_REPORTS_IN_FLIGHT) await inFlight.shift();
  };
  const reconciler = new HeartbeatReconciler(env.settings.heartbeatIntervalSeconds * 1000);
  /** Jobs the session owns that the agent's heartbeats have not listed for a while: LOST (and retried when allowed). */
  const giveUp = async (keys: string[]) => {
    for (const key of keys) {
      live.jobs.delete(key);
      const job = await jobsRepo.findJobByKey(deps.db, key);
      if (job?.nodeId !== nodeId) continue;
      if (await loseJob(deps, job.id, 'the agent no longer ran it (missing from its heartbeats)')) log.warn({ job: key }, 'job missing from the agent\'s heartbeats: lost');
    }
    if (keys.length > 0) dispatcher.fill(live);
  };
  const killUnowned = (name: string) => async ({ ok }: ReportOutcome) => {
    if (ok) return;
    live.jobs.delete(keyOf(name));
    await live.send({ command: { $case: 'kill', kill: { job: name } } }).catch((err: unknown) => log.warn({ err, job: name }, 'could not send a kill'));
  };

  dispatcher.add(live);
  try {
    for (;;) {
      const next = await reader.next('heartbeat').catch((err: unknown) => {
        session.endReason = 'silent past node_timeout';
        throw err;
      });
      if (next.done || stop.signal.aborted || stream.signal.aborted) break;
      const ev = next.value.event;
      switch (ev?.$case) {
        case undefined:
          break;
        case 'heartbeat': {
          const reported = new Set(ev.heartbeat.runningJobs.flatMap((name) => jobKeyOrNone(name)));
          // Compared once the reports before it are applied: a job it no longer lists because it finished is gone from live.jobs by then.
          await submit({ type: 'heartbeat', nodeId, sessionId }, async ({ ok }) => {
            if (!ok) return live.end('session replaced or node deleted');
            await giveUp(reconciler.update(live.jobs, reported));
          });
          break;
        }
        case 'jobStarted':
          await submit({ type: 'started', nodeId, key: keyOf(ev.jobStarted.job), pid: ev.jobStarted.pid }, () => undefined);
          break;
        case 'jobLogLines': {
          const { job, firstLine, lines } = ev.jobLogLines;
          await submit({ type: 'chunk', nodeId, key: keyOf(job), kind: 'log', firstIndex: Number(firstLine), values: lines }, killUnowned(job));
          break;
        }
        case 'jobItems': {
          const { job, firstItem, items } = ev.jobItems;
          await submit({ type: 'chunk', nodeId, key: keyOf(job), kind: 'items', firstIndex: Number(firstItem), values: items }, killUnowned(job));
          break;
        }
        case 'jobFinished': {
          const key = keyOf(ev.jobFinished.job);
          await submit({ type: 'finished', nodeId, key, report: finishReport(ev.jobFinished) }, () => {
            live.jobs.delete(key);
            dispatcher.fill(live);
          });
          break;
        }
        case 'hello':
          throw new InvalidArgument('hello may only be the first message', { field: 'hello' });
      }
    }
    // What the agent sent before it stopped is applied before the session ends.
    await Promise.all(inFlight);
    if (failure !== undefined) throw new Unavailable('the server could not store what the agent reported; reconnect');
  } finally {
    dispatcher.remove(sessionId);
    await Promise.allSettled(inFlight);
    await sessionsRepo.closeSession(deps.db, sessionId, nodeId).catch(() => undefined);
    log.info({ reason: session.endReason || 'stream ended' }, 'agent session closed');
  }
}

function finishReport(f: JobFinished): FinishReport {
  const state = Job_State[f.state];
  if (state !== 'SUCCEEDED' && state !== 'FAILED' && state !== 'CANCELLED') {
    throw new InvalidArgument(`a job cannot finish as ${state}`, { field: 'job_finished.state' });
  }
  return {
    state, exitCode: f.exitCode, warning: f.warning, closeReason: f.closeReason, statsJson: f.statsJson,
    itemCount: Number(f.itemCount), logLineCount: Number(f.logLineCount),
  };
}

function keyOf(name: string): string {
  return parseJobName(name, 'job').job;
}

/** A heartbeat's job name as a key; none for a name that does not parse (it then counts as not running). */
function jobKeyOrNone(name: string): string[] {
  try {
    return [keyOf(name)];
  } catch {
    return [];
  }
}
