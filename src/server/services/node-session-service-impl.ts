/**
 * scrapydd.v1.NodeSessionService: the agents' bidirectional stream (hello,
 * heartbeats and job reports up; assignments, cancels and kills down), egg
 * downloads, and the session resources.
 */
import { NodeSessionServiceService, type NodeSession } from '../../../gen/scrapydd/v1/node_session.js';
import type { Deps } from '../../domain/deps.js';
import { applyReports, type AgentReport, type ReportOutcome } from '../../domain/jobs/job-reports.js';
import { parseName } from '../../domain/names.js';
import { decodePageToken, page, pageSize } from '../../domain/pagination.js';
import { requireAdmin } from '../../domain/users/user-service.js';
import type { Dispatcher } from '../../dispatch/dispatcher.js';
import { InvalidArgument, NotFound, PermissionDenied } from '../../errors/domain-error.js';
import { GroupCommit } from '../../storage/group-commit.js';
import * as jobsRepo from '../../storage/jobs-repo.js';
import * as sessionsRepo from '../../storage/sessions-repo.js';
import { runAgentSession, type SessionSettings } from './agent-session.js';
import { bind, type ServiceBinding } from './service-binding.js';

export type { SessionSettings };

const EGG_CHUNK = 64 * 1024;

export function nodeSessionService(deps: Deps, dispatcher: Dispatcher, settings: SessionSettings): ServiceBinding {
  // Every session's reports go through one group commit: under load, many
  // sessions' heartbeats, log lines, items and ends share a transaction.
  const reports = new GroupCommit<AgentReport, ReportOutcome>((batch) => applyReports(deps, batch));
  return bind('scrapydd.v1.NodeSessionService', NodeSessionServiceService, {
    streamNodeSession: (stream, ctx) => runAgentSession({ deps, dispatcher, reports, settings }, stream, ctx),

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
