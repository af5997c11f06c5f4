/**
 * Failure e-mail, the domain side: which ended jobs get one (FAILED or LOST
 * with no retry queued and no cancel requested: a job retried and failing for
 * good mails once, for its last attempt), queued in the outbox inside the transaction that ended
 * them, and the sender woken once that transaction committed.
 */
import type { Queryable } from '../../storage/database.js';
import * as jobsRepo from '../../storage/jobs-repo.js';
import * as outbox from '../../storage/mail-outbox-repo.js';
import * as nodesRepo from '../../storage/nodes-repo.js';
import type { Deps } from '../deps.js';
import type { EndedJob } from '../jobs/job-end-effects.js';
import { failureMessage, LOG_TAIL_LINES } from './failure-message.js';

/** What the domain needs of the failure-mail sender; absent when job_fail_send_mail is false. */
export interface FailureMailPort {
  /** job_fail_mail_receiver. */
  readonly receivers: readonly string[];
  /** Mails were queued (and committed): send them now rather than at the next poll. */
  wake(): void;
}

export function needsFailureMail(ended: EndedJob): boolean {
  // A job a user was stopping mails nothing: they know, and asked for it to end.
  return (ended.state === 'FAILED' || ended.state === 'LOST') && !ended.retried && !ended.cancelRequested;
}

/** Inside the transaction that ended the jobs: one outbox row per job that needs a mail. */
export async function queueFailureMails(deps: Deps, tx: Queryable, ended: readonly EndedJob[]): Promise<void> {
  const port = deps.failureMail;
  if (port === undefined) return;
  const mails: outbox.NewMail[] = [];
  for (const e of ended.filter(needsFailureMail)) {
    const job = await jobsRepo.findJobById(tx, e.id);
    if (job === undefined) continue;
    const from = Math.max(0, job.logLineCount - LOG_TAIL_LINES);
    const logTail = (await jobsRepo.readChunks(tx, job.id, 'log', from, LOG_TAIL_LINES))
      .flatMap((c) => c.values.map((line, i) => ({ index: c.firstIndex + i, line })))
      .filter((l) => l.index >= from)
      .map((l) => l.line);
    const node = job.nodeId === undefined ? undefined : await nodesRepo.findNode(tx, job.nodeId);
    const message = failureMessage({ job, logTail, nodeName: node?.displayName });
    mails.push({ id: deps.ids.next(), jobId: job.id, recipients: port.receivers, ...message });
  }
  await outbox.insertMails(tx, mails);
}

/** After that transaction committed. */
export function wakeFailureMail(deps: Deps, ended: readonly EndedJob[]): void {
  if (deps.failureMail !== undefined && ended.some(needsFailureMail)) deps.failureMail.wake();
}
