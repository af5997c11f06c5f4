/**
 * scrapydd.v1.NodeSessionService: the agents' bidirectional stream (hello,
 * heartbeats and job reports up; assignments, cancels and kills down), egg
 * downloads, and the session resources.
 */
import { NodeSessionServiceService, type StreamNodeSessionRequest, type NodeSession } from '../../../gen/scrapydd/v1/node_session.js';
import { Job_State } from '../../../gen/scrapydd/v1/job.js';
import type { Deps } from '../../domain/deps.js';
import { applyReports, loseJob, type AgentReport, type ReportOutcome } from '../../domain/jobs/job-reports.js';
import { jobName, parseJobName } from '../../domain/jobs/job-names.js';
import { parseName } from '../../domain/names.js';
import { decodePageToken, page, pageSize } from '../../domain/pagination.js';
import type { Dispatcher } from '../../dispatch/dispatcher.js';
import type { LiveSession } from '../../dispatch/live-session.js';
import { InvalidArgument, NotFound, PermissionDenied, Unavailable } from '../../errors/domain-error.js';
import { GroupCommit } from '../../storage/group-commit.js';
import { SessionReader } from './session-reader.js';
import * as jobsRepo from '../../storage/jobs-repo.js';
import * as sessionsRepo from '../../storage/sessions-repo.js';
import { requireAdmin } from '../../domain/users/user-service.js';
import type { CallContext } from '../call-context.js';
import { bind, type BidiStream, type ServiceBinding } from './service-binding.js';
import { createTemporaryNode } from '../../domain/nodes/node-service.js';
import * as nodesRepo from '../../storage/nodes-repo.js';

type Req = StreamNodeSessionRequest;
type Res = import('../../../gen/scrapydd/v1/node_session.js').StreamNodeSessionResponse;

export interface SessionSettings {
  heartbeatIntervalSeconds: number;
  nodeTimeoutSeconds: number;
  cancelGraceSeconds: number;
  enableAuthentication: boolean;
  agentVersion?: string;
}

const EGG_CHUNK = 64 * 1024;
/** Reports of one session submitted and not yet applied; past this the session reads no more until they are. */
const MAX_REPORTS_IN_FLIGHT = 64;
const TAG = /^[A-Za-z0-9_.-]{1,64}$/;

export function nodeSessionService(deps: Deps, dispatcher: Dispatcher, settings: SessionSettings): ServiceBinding {
  // Every session's reports go through one group commit: under load, many
  // sessions' heartbeats, log lines, items and ends share a transaction.
  const reports = new GroupCommit<AgentReport, ReportOutcome>((batch) => applyReports(deps, batch));
  return bind('scrapydd.v1.NodeSessionService', NodeSessionServiceService, {
    streamNodeSession: (stream, ctx) => runSession(deps, dispatcher, reports, settings, stream, ctx),

    async fetchEgg(req, stream, ctx) {
      const nodeId = ctx.principal.nodeId;
      if (!/^[0-9a-f]{64}$/.test(req.sha256)) throw new InvalidArgument('sha256 must be 64 lower-case hex digits', { field: 'sha256' });
      // An agent gets the eggs of the jobs it holds; admins (and temporary nodes) any egg.
      if (!ctx.principal.admin) {
        const jobs = nodeId ? await jobsRepo.activeJobsOfNode(deps.db, nodeId) : [];
        if (!jobs.some((j) => j.eggSha256 === req.sha256)) throw new PermissionDenied('no job of this node uses that egg');
      }
      const total = await deps.blobs.size(req.sha256);
      if (total === undefined) throw new NotFound(`egg ${req.sha256} not found`);
      const offset = Number(req.offset);
      if (!Number.isSafeInteger(offset) || offset < 0 || offset > total) throw new InvalidArgument('offset is outside the egg', { field: 'offset' });
      const source = deps.blobs.openRead(req.sha256, offset);
      try {
        for await (const chunk of source as AsyncIterable<Buffer>) {
          for (let i = 0; i < chunk.length; i += EGG_CHUNK) {
            await stream.send({ chunk: chunk.subarray(i, i + EGG_CHUNK), totalSizeBytes: String(total) });
          }
        }
      } finally {
        source.destroy();
      }
    },

    async getNodeSession(req, ctx) {
      requireAdmin(ctx.principal);
      const [id] = parseName(req.name, ['nodeSessions']);
      const row = /^\d{1,20}$/.test(id!) ? await sessionsRepo.findSession(deps.db, id!) : undefined;
      if (!row) throw new NotFound(`node session '${req.name}' not found`);
      return sessionToProto(row);
    },

    async listNodeSessions(req, ctx) {
      requireAdmin(ctx.principal);
      const size = pageSize(req.pageSize);
      const before = decodePageToken(req.pageToken, 'nodeSessions');
      const m = /^node\s*=\s*"?nodes\/(\d{1,20})"?$/.exec(req.filter.trim());
      if (req.filter.trim() !== '' && !m) throw new InvalidArgument('filter supports only node = "nodes/{id}"', { field: 'filter' });
      const rows = await sessionsRepo.listSessions(deps.db, before, size + 1, m?.[1]);
      const { items, nextPageToken } = page(rows, size, 'nodeSessions', (s) => s.id);
      return { nodeSessions: items.map(sessionToProto), nextPageToken };
    },
  });
}

function sessionToProto(s: sessionsRepo.SessionRow): NodeSession {
  return {
    name: `nodeSessions/${s.id}`,
    id: s.id,
    node: `nodes/${s.nodeId}`,
    clientIp: s.clientIp,
    active: s.active,
    createTime: s.createTime,
    lastHeartbeatTime: s.lastHeartbeatTime,
    endTime: s.endTime,
  };
}

async function runSession(
  deps: Deps,
  dispatcher: Dispatcher,
  reports: GroupCommit<AgentReport, ReportOutcome>,
  settings: SessionSettings,
  stream: BidiStream<Req, Res>,
  ctx: CallContext,
): Promise<void> {
  const stop = new AbortController();
  const reader = new SessionReader(stream.requests, settings.nodeTimeoutSeconds * 1000, stop.signal);
  try {
    await serveSession(deps, dispatcher, reports, settings, stream, ctx, reader, stop);
  } finally {
    reader.close();
  }
}

async function serveSession(
  deps: Deps,
  dispatcher: Dispatcher,
  reports: GroupCommit<AgentReport, ReportOutcome>,
  settings: SessionSettings,
  stream: BidiStream<Req, Res>,
  ctx: CallContext,
  reader: SessionReader,
  stop: AbortController,
): Promise<void> {
  const first = await reader.next('hello');
  const hello = first.done ? undefined : first.value.event;
  if (hello?.$case !== 'hello') throw new InvalidArgument('the first session message must be hello', { field: 'hello' });
  const h = hello.hello;
  const tags = [...new Set(h.tags.map((t) => t.trim()).filter(Boolean))];
  for (const t of tags) if (!TAG.test(t)) throw new InvalidArgument(`tag '${t}' is not valid`, { field: 'hello.tags' });
  const slots = h.slots;
  if (!Number.isInteger(slots) || slots < 1 || slots > 1000) throw new InvalidArgument('slots must be 1..1000', { field: 'hello.slots' });

  // Who is this? A permanent node by its credentials, or a new temporary node.
  let nodeId = ctx.principal.nodeId;
  if (nodeId === undefined) {
    if (settings.enableAuthentication) throw new PermissionDenied('agents sign in with node credentials (scrapydd agent -g)');
    nodeId = (await createTemporaryNode(deps, { tags, clientIp: ctx.call.peerAddress, slots, agentVersion: h.agentVersion })).id;
  }
  const node = await nodesRepo.findNode(deps.db, nodeId);
  if (!node) throw new NotFound(`node '${nodeId}' not found`);
  const temporary = ctx.principal.nodeId === undefined;
  const sessionId = deps.ids.next();
  const log = ctx.logger.child({ node: nodeId, session: sessionId });
  await sessionsRepo.openSession(deps.db, {
    id: sessionId,
    nodeId,
    clientIp: ctx.call.peerAddress,
    slots,
    agentVersion: h.agentVersion,
    // Permanent nodes keep the tags they registered with; temporary ones take the agent's.
    tags: temporary ? tags : undefined,
  });
  // Permanent nodes run with the tags they registered with (an admin may change them).
  const nodeTagList = node.tags;

  // Reconcile what the agent runs with what the database gives it.
  const reportedNames = new Map(h.runningJobs.map((name) => [parseJobName(name, 'hello.running_jobs').job, name] as const));
  const reported = new Set(reportedNames.keys());
  const owned = await jobsRepo.activeJobsOfNode(deps.db, nodeId);
  const keep = owned.filter((j) => reported.has(j.key));
  for (const j of owned) if (!reported.has(j.key)) await loseJob(deps, j.id, 'agent no longer had it');
  const kills = [...reported].filter((k) => !keep.some((j) => j.key === k));

  let endReason = '';
  const live: LiveSession = {
    sessionId,
    nodeId,
    tags: nodeTagList,
    slots,
    jobs: new Set(keep.map((j) => j.key)),
    send: (message) => stream.send(message),
    end: (reason) => {
      endReason = reason;
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
    if (j.state === 'CANCELLING') {
      const job = jobName(j.project, j.spider, j.key);
      await stream.send({ command: { $case: 'cancel', cancel: { job, signal: j.cancelSignal ?? 'INT', graceSeconds: settings.cancelGraceSeconds } } });
    }
  }
  log.info({ slots, tags: nodeTagList, resumed: keep.length, killed: kills.length, temporary }, 'agent session opened');
  dispatcher.add(live);

  // Reports are submitted in order without waiting for each (they are
  // applied in order); what became of each is handled when its batch commits.
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
  const killUnowned = (name: string) => async ({ ok }: ReportOutcome) => {
    if (ok) return;
    live.jobs.delete(keyOf(name));
    await live.send({ command: { $case: 'kill', kill: { job: name } } }).catch((err: unknown) => log.warn({ err, job: name }, 'could not send a kill'));
  };

  try {
    for (;;) {
      const next = await reader.next('heartbeat').catch((err: unknown) => {
        endReason = 'silent past node_timeout';
        throw err;
      });
      if (next.done || stop.signal.aborted || stream.signal.aborted) break;
      const ev = next.value.event;
      if (!ev) continue;
      switch (ev.$case) {
        case 'heartbeat':
          await submit({ type: 'heartbeat', nodeId, sessionId }, ({ ok }) => {
            if (!ok) live.end('session replaced or node deleted');
          });
          break;
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
          const f = ev.jobFinished;
          const key = keyOf(f.job);
          const state = Job_State[f.state] as 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
          if (state !== 'SUCCEEDED' && state !== 'FAILED' && state !== 'CANCELLED') {
            throw new InvalidArgument(`a job cannot finish as ${Job_State[f.state]}`, { field: 'job_finished.state' });
          }
          const report = {
            state, exitCode: f.exitCode, warning: f.warning, closeReason: f.closeReason, statsJson: f.statsJson,
            itemCount: Number(f.itemCount), logLineCount: Number(f.logLineCount),
          };
          await submit({ type: 'finished', nodeId, key, report }, () => {
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
    log.info({ reason: endReason || 'stream ended' }, 'agent session closed');
  }
}

function keyOf(name: string): string {
  return parseJobName(name, 'job').job;
}
