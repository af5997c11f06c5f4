/**
 * SQL for the mail outbox (failure e-mail). A row is PENDING until a sender
 * delivers it (SENT) or gives up (FAILED). Senders in several servers share
 * the table: a row is sent only by the holder of its lease.
 */
import type { Queryable } from './database.js';
import { idString, nowParam, optionalId, toIso, toNumber } from './sql-dialect.js';

export type MailState = 'PENDING' | 'SENT' | 'FAILED';

export interface NewMail {
  readonly id: string;
  readonly jobId: string;
  readonly recipients: readonly string[];
  readonly subject: string;
  readonly body: string;
}

export interface ClaimedMail {
  readonly id: string;
  readonly jobId: string | undefined;
  readonly recipients: string[];
  readonly subject: string;
  readonly body: string;
  /** Attempts so far, this one included. */
  readonly attempts: number;
}

/** Queues mails, due at once; in the caller's transaction. */
export async function insertMails(q: Queryable, mails: readonly NewMail[]): Promise<void> {
  if (mails.length === 0) return;
  const now = nowParam();
  const rows = mails.map(() => `(?, ?, ?, ?, ?, 'PENDING', 0, ?, ?)`).join(', ');
  const params = mails.flatMap((m) => [m.id, m.jobId, JSON.stringify(m.recipients), m.subject, m.body, now, now]);
  await q.query(`INSERT INTO mail_outbox (id, job_id, recipients, subject, body, state, attempts, next_attempt_at, created_at) VALUES ${rows}`, params);
}

/**
 * Leases up to `limit` due mails to `owner` until `now + leaseMs` and counts
 * the attempt. A mail is due when PENDING, its next attempt has come and no
 * lease on it is still running, so each mail has one sender at a time, even
 * across servers: on PostgreSQL, rows another claim has locked are skipped
 * and a row it has just leased no longer matches when re-checked; on SQLite
 * one server holds the only connection. A sender that dies mid-send leaves
 * the lease to run out, and the mail is tried again (counted as an attempt).
 */
export async function claimDueMails(q: Queryable, owner: string, now: Date, leaseMs: number, limit: number): Promise<ClaimedMail[]> {
  const at = nowParam(now);
  const lock = q.kind === 'postgres' ? 'FOR UPDATE SKIP LOCKED' : '';
  const rows = await q.query(
    `UPDATE mail_outbox SET lease_owner = ?, lease_expires_at = ?, attempts = attempts + 1
     WHERE id IN (
       SELECT id FROM mail_outbox
       WHERE state = 'PENDING' AND next_attempt_at <= ? AND (lease_expires_at IS NULL OR lease_expires_at <= ?)
       ORDER BY next_attempt_at, id LIMIT ? ${lock})
     RETURNING id, job_id, recipients, subject, body, attempts`,
    [owner, nowParam(new Date(now.getTime() + leaseMs)), at, at, limit],
  );
  return rows
    .map((r) => ({
      id: idString(r.id),
      jobId: optionalId(r.job_id),
      recipients: JSON.parse(String(r.recipients)) as string[],
      subject: String(r.subject),
      body: String(r.body),
      attempts: toNumber(r.attempts),
    }))
    .sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
}

/** Delivered; false when the lease was lost meanwhile (another sender may have it). */
export async function markSent(q: Queryable, id: string, owner: string, now: Date): Promise<boolean> {
  const rows = await q.query(
    `UPDATE mail_outbox SET state = 'SENT', sent_at = ?, last_error = '', lease_owner = NULL, lease_expires_at = NULL
     WHERE id = ? AND lease_owner = ? RETURNING id`,
    [nowParam(now), id, owner],
  );
  return rows.length > 0;
}

/** Not delivered: try again at `nextAttemptAt`. */
export async function markRetry(q: Queryable, id: string, owner: string, error: string, nextAttemptAt: Date): Promise<boolean> {
  const rows = await q.query(
    `UPDATE mail_outbox SET next_attempt_at = ?, last_error = ?, lease_owner = NULL, lease_expires_at = NULL
     WHERE id = ? AND lease_owner = ? RETURNING id`,
    [nowParam(nextAttemptAt), error, id, owner],
  );
  return rows.length > 0;
}

/** Given up: FAILED with the last error. */
export async function markFailed(q: Queryable, id: string, owner: string, error: string): Promise<boolean> {
  const rows = await q.query(
    `UPDATE mail_outbox SET state = 'FAILED', last_error = ?, lease_owner = NULL, lease_expires_at = NULL
     WHERE id = ? AND lease_owner = ? RETURNING id`,
    [error, id, owner],
  );
  return rows.length > 0;
}

/** When the next PENDING mail may be claimed (its next attempt, or the end of a running lease); undefined when none waits. */
export async function nextDueTime(q: Queryable): Promise<Date | undefined> {
  const rows = await q.query(
    `SELECT MIN(CASE WHEN lease_expires_at IS NOT NULL AND lease_expires_at > next_attempt_at THEN lease_expires_at ELSE next_attempt_at END) AS due
     FROM mail_outbox WHERE state = 'PENDING'`,
  );
  const due = toIso(rows[0]?.due);
  return due === undefined ? undefined : new Date(due);
}

/** Deletes SENT and FAILED mails created before `before`; how many. */
export async function deleteFinishedMails(q: Queryable, before: Date): Promise<number> {
  const rows = await q.query(`DELETE FROM mail_outbox WHERE state IN ('SENT', 'FAILED') AND created_at < ? RETURNING id`, [nowParam(before)]);
  return rows.length;
}

export interface MailRow {
  readonly id: string;
  readonly jobId: string | undefined;
  readonly recipients: string[];
  readonly subject: string;
  readonly body: string;
  readonly state: MailState;
  readonly attempts: number;
  readonly lastError: string;
  readonly nextAttemptAt: string;
  readonly sentAt: string | undefined;
}

/** Every mail queued for a job, oldest first (tests, operators). */
export async function mailsOfJob(q: Queryable, jobId: string): Promise<MailRow[]> {
  const rows = await q.query(`SELECT * FROM mail_outbox WHERE job_id = ? ORDER BY id`, [jobId]);
  return rows.map((r) => ({
    id: idString(r.id),
    jobId: optionalId(r.job_id),
    recipients: JSON.parse(String(r.recipients)) as string[],
    subject: String(r.subject),
    body: String(r.body),
    state: String(r.state) as MailState,
    attempts: toNumber(r.attempts),
    lastError: String(r.last_error),
    nextAttemptAt: toIso(r.next_attempt_at)!,
    sentAt: toIso(r.sent_at),
  }));
}
