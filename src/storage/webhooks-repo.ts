/**
 * SQL for spider webhooks and their deliveries. The statements that keep
 * delivery correct (the claim of a webhook's oldest open delivery, the
 * cursor advance, the pacing slot) each state their invariant; every write
 * of the delivery worker checks its lease in the WHERE clause, so a server
 * that lost its lease (or a cancelled delivery) changes nothing.
 */
import type { Queryable, Row } from './database.js';
import { idString, nowParam, toIso, toNumber } from './sql-dialect.js';

export type DeliveryState = 'PENDING' | 'DELIVERING' | 'DONE' | 'FAILED' | 'CANCELLED';
export const OPEN_DELIVERY_STATES: readonly DeliveryState[] = ['PENDING', 'DELIVERING'];

export interface WebhookRow {
  spiderId: string;
  payloadUrl: string;
  lastDeliveryTime: string | undefined;
  lastError: string;
  createTime: string;
  updateTime: string;
  pendingDeliveries: number;
  failedDeliveries: number;
}

export interface DeliveryRow {
  id: string;
  jobId: string;
  jobKey: string;
  spiderId: string;
  payloadUrl: string;
  state: DeliveryState;
  nextIndex: number;
  totalItems: number;
  attempts: number;
  itemAttempts: number;
  nextAttemptTime: string;
  lastError: string;
  createTime: string;
  finishTime: string | undefined;
}

function deliveryRow(r: Row): DeliveryRow {
  return {
    id: idString(r.id),
    jobId: idString(r.job_id),
    jobKey: String(r.job_key ?? ''),
    spiderId: idString(r.spider_id),
    payloadUrl: String(r.payload_url),
    state: String(r.state) as DeliveryState,
    nextIndex: toNumber(r.next_index),
    totalItems: toNumber(r.total_items),
    attempts: toNumber(r.attempts),
    itemAttempts: toNumber(r.item_attempts),
    nextAttemptTime: toIso(r.next_attempt_at)!,
    lastError: String(r.last_error),
    createTime: toIso(r.created_at)!,
    finishTime: toIso(r.finished_at),
  };
}

const DELIVERY_SELECT = `SELECT d.*, j.job_key FROM webhook_deliveries d JOIN jobs j ON j.id = d.job_id`;

/** The spider's webhook with its delivery counts, or undefined. */
export async function findWebhook(q: Queryable, spiderId: string): Promise<WebhookRow | undefined> {
  const rows = await q.query(
    `SELECT w.*,
       (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.spider_id = w.spider_id AND d.state IN ('PENDING', 'DELIVERING')) AS pending,
       (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.spider_id = w.spider_id AND d.state = 'FAILED') AS failed
     FROM webhooks w WHERE w.spider_id = ?`,
    [spiderId],
  );
  const r = rows[0];
  if (!r) return undefined;
  return {
    spiderId: idString(r.spider_id),
    payloadUrl: String(r.payload_url),
    lastDeliveryTime: toIso(r.last_delivery_at),
    lastError: String(r.last_error),
    createTime: toIso(r.created_at)!,
    updateTime: toIso(r.updated_at)!,
    pendingDeliveries: toNumber(r.pending),
    failedDeliveries: toNumber(r.failed),
  };
}

/**
 * Sets the spider's webhook URL. Deliveries that have not sent a request yet
 * go to the new URL; one under way keeps the URL it started with, so a job's
 * items never go half here, half there.
 */
export async function setWebhook(q: Queryable, spiderId: string, payloadUrl: string): Promise<void> {
  const now = nowParam();
  await q.query(
    `INSERT INTO webhooks (spider_id, payload_url, created_at, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (spider_id) DO UPDATE SET payload_url = excluded.payload_url, updated_at = excluded.updated_at`,
    [spiderId, payloadUrl, now, now],
  );
  await q.query(
    `UPDATE webhook_deliveries SET payload_url = ?, updated_at = ?
     WHERE spider_id = ? AND state IN ('PENDING', 'DELIVERING') AND attempts = 0`,
    [payloadUrl, now, spiderId],
  );
}

/** Removes the webhook and cancels its open deliveries; false when there was none. */
export async function deleteWebhook(q: Queryable, spiderId: string): Promise<boolean> {
  const deleted = await q.query(`DELETE FROM webhooks WHERE spider_id = ? RETURNING spider_id`, [spiderId]);
  if (deleted.length === 0) return false;
  await cancelOpenDeliveries(q, 'spider_id = ?', [spiderId]);
  return true;
}

async function cancelOpenDeliveries(q: Queryable, where: string, params: unknown[]): Promise<number> {
  const now = nowParam();
  const rows = await q.query(
    `UPDATE webhook_deliveries SET state = 'CANCELLED', last_error = 'webhook deleted', lease_owner = NULL, lease_expires_at = NULL,
       updated_at = ?, finished_at = ?
     WHERE state IN ('PENDING', 'DELIVERING') AND ${where} RETURNING id`,
    [now, now, ...params],
  );
  return rows.length;
}

/**
 * Open deliveries whose webhook is gone: a job that ended in the same
 * instant as its webhook's deletion (on another server) queued one after the
 * deletion cancelled the others.
 */
export async function cancelOrphanDeliveries(q: Queryable): Promise<number> {
  return cancelOpenDeliveries(q, 'NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.spider_id = webhook_deliveries.spider_id)', []);
}

/** The payload URL of each of these spiders that has a webhook. */
export async function webhookUrls(q: Queryable, spiderIds: readonly string[]): Promise<Map<string, string>> {
  if (spiderIds.length === 0) return new Map();
  const rows = await q.query(
    `SELECT spider_id, payload_url FROM webhooks WHERE spider_id IN (${spiderIds.map(() => '?').join(', ')})`,
    [...spiderIds],
  );
  return new Map(rows.map((r) => [idString(r.spider_id), String(r.payload_url)]));
}

/** Item counts of jobs (read in the transaction that ended them, after their last items were written). */
export async function itemCounts(q: Queryable, jobIds: readonly string[]): Promise<Map<string, number>> {
  if (jobIds.length === 0) return new Map();
  const rows = await q.query(`SELECT id, item_count FROM jobs WHERE id IN (${jobIds.map(() => '?').join(', ')})`, [...jobIds]);
  return new Map(rows.map((r) => [idString(r.id), toNumber(r.item_count)]));
}

export interface NewDelivery {
  id: string;
  jobId: string;
  spiderId: string;
  payloadUrl: string;
  totalItems: number;
}

/** Queues deliveries; a job without items is DONE at once (nothing to send). One per job, ever. */
export async function insertDeliveries(q: Queryable, deliveries: readonly NewDelivery[]): Promise<void> {
  if (deliveries.length === 0) return;
  const now = nowParam();
  const values = deliveries.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ');
  const params = deliveries.flatMap((d) => [
    d.id, d.jobId, d.spiderId, d.payloadUrl, d.totalItems === 0 ? 'DONE' : 'PENDING', d.totalItems, now, now, now, d.totalItems === 0 ? now : null,
  ]);
  await q.query(
    `INSERT INTO webhook_deliveries (id, job_id, spider_id, payload_url, state, total_items, next_attempt_at, created_at, updated_at, finished_at)
     VALUES ${values} ON CONFLICT (job_id) DO NOTHING`,
    params,
  );
}

/** The deliveries of these jobs, by job id (one query for a page of jobs). */
export async function deliveriesOfJobs(q: Queryable, jobIds: readonly string[]): Promise<Map<string, DeliveryRow>> {
  if (jobIds.length === 0) return new Map();
  const rows = await q.query(`${DELIVERY_SELECT} WHERE d.job_id IN (${jobIds.map(() => '?').join(', ')})`, [...jobIds]);
  return new Map(rows.map(deliveryRow).map((d) => [d.jobId, d]));
}

/** Webhooks (spider ids) whose oldest open delivery is due and not leased by another server. */
export async function dueWebhooks(q: Queryable, owner: string, limit: number): Promise<string[]> {
  const now = nowParam();
  const rows = await q.query(
    `SELECT d.spider_id FROM webhook_deliveries d
     WHERE d.state IN ('PENDING', 'DELIVERING') AND d.next_attempt_at <= ?
       AND (d.lease_owner IS NULL OR d.lease_owner = ? OR d.lease_expires_at < ?)
       AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e
                       WHERE e.spider_id = d.spider_id AND e.state IN ('PENDING', 'DELIVERING') AND e.id < d.id)
     ORDER BY d.id LIMIT ?`,
    [now, owner, now, limit],
  );
  return rows.map((r) => idString(r.spider_id));
}

/**
 * Leases the webhook's oldest open delivery to `owner` when it is due and
 * free (never leased, leased by `owner`, or its lease expired). Only the
 * oldest open delivery of a webhook can be leased and a row has one lease
 * holder, so one server at a time sends a webhook's items, in the order its
 * jobs ended. On PostgreSQL two servers racing here both re-check the lease
 * on the locked row (READ COMMITTED re-evaluation): one wins.
 */
export async function claimOldestDelivery(q: Queryable, spiderId: string, owner: string, leaseMs: number): Promise<DeliveryRow | undefined> {
  const now = new Date();
  const rows = await q.query(
    `UPDATE webhook_deliveries SET state = 'DELIVERING', lease_owner = ?, lease_expires_at = ?, updated_at = ?
     WHERE id = (SELECT id FROM webhook_deliveries WHERE spider_id = ? AND state IN ('PENDING', 'DELIVERING') ORDER BY id LIMIT 1)
       AND state IN ('PENDING', 'DELIVERING') AND next_attempt_at <= ?
       AND (lease_owner IS NULL OR lease_owner = ? OR lease_expires_at < ?)
     RETURNING id`,
    [owner, nowParam(new Date(now.getTime() + leaseMs)), nowParam(now), spiderId, nowParam(now), owner, nowParam(now)],
  );
  if (rows.length === 0) return undefined;
  return (await q.query(`${DELIVERY_SELECT} WHERE d.id = ?`, [idString(rows[0]!.id)])).map(deliveryRow)[0];
}

/** Extends `owner`'s lease; false when it was lost (expired and taken, or the delivery was cancelled). */
export async function renewLease(q: Queryable, deliveryId: string, owner: string, leaseMs: number): Promise<boolean> {
  const rows = await q.query(
    `UPDATE webhook_deliveries SET lease_expires_at = ? WHERE id = ? AND lease_owner = ? AND state = 'DELIVERING' RETURNING id`,
    [nowParam(new Date(Date.now() + leaseMs)), deliveryId, owner],
  );
  return rows.length > 0;
}

/**
 * Item `index` was accepted: the cursor moves past it (DONE after the last
 * item). Written right after the 2xx, so a crash repeats at most that one
 * item (which the receiver can recognise by X-Scrapydd-Delivery).
 */
export async function recordDelivered(q: Queryable, d: { id: string; spiderId: string }, owner: string, index: number, last: boolean): Promise<boolean> {
  const now = nowParam();
  const rows = await q.query(
    `UPDATE webhook_deliveries SET next_index = ?, attempts = attempts + 1, item_attempts = 0, last_error = '', updated_at = ?,
       state = ?, finished_at = ?, lease_owner = ?, lease_expires_at = ${last ? 'NULL' : 'lease_expires_at'}
     WHERE id = ? AND lease_owner = ? AND state = 'DELIVERING' AND next_index = ? RETURNING id`,
    [index + 1, now, last ? 'DONE' : 'DELIVERING', last ? now : null, last ? null : owner, d.id, owner, index],
  );
  if (rows.length === 0) return false;
  await q.query(`UPDATE webhooks SET last_delivery_at = ?, last_error = '' WHERE spider_id = ?`, [now, d.spiderId]);
  return true;
}

/** Item `index` was skipped (it cannot be encoded): like a delivery, without a request, with the reason kept. */
export async function recordSkipped(q: Queryable, d: { id: string; spiderId: string }, owner: string, index: number, last: boolean, reason: string): Promise<boolean> {
  const now = nowParam();
  const rows = await q.query(
    `UPDATE webhook_deliveries SET next_index = ?, item_attempts = 0, last_error = ?, updated_at = ?,
       state = ?, finished_at = ?, lease_owner = ?, lease_expires_at = ${last ? 'NULL' : 'lease_expires_at'}
     WHERE id = ? AND lease_owner = ? AND state = 'DELIVERING' AND next_index = ? RETURNING id`,
    [index + 1, reason, now, last ? 'DONE' : 'DELIVERING', last ? now : null, last ? null : owner, d.id, owner, index],
  );
  if (rows.length === 0) return false;
  await q.query(`UPDATE webhooks SET last_error = ? WHERE spider_id = ?`, [reason, d.spiderId]);
  return true;
}

/**
 * A request for the current item failed. With `retryAt` the delivery waits
 * (lease released: any server may retry it then); without, it is FAILED and
 * the webhook's next delivery may start.
 */
export async function recordAttemptFailed(
  q: Queryable,
  d: { id: string; spiderId: string },
  owner: string,
  error: string,
  retryAt: Date | undefined,
): Promise<boolean> {
  const now = nowParam();
  const rows = await q.query(
    `UPDATE webhook_deliveries SET attempts = attempts + 1, item_attempts = item_attempts + 1, last_error = ?, updated_at = ?,
       state = ?, next_attempt_at = ?, finished_at = ?, lease_owner = NULL, lease_expires_at = NULL
     WHERE id = ? AND lease_owner = ? AND state = 'DELIVERING' RETURNING id`,
    [error, now, retryAt ? 'DELIVERING' : 'FAILED', retryAt ? nowParam(retryAt) : now, retryAt ? null : now, d.id, owner],
  );
  if (rows.length === 0) return false;
  await q.query(`UPDATE webhooks SET last_error = ? WHERE spider_id = ?`, [error, d.spiderId]);
  return true;
}

/** Lets other servers take `owner`'s deliveries at once (a clean stop). */
export async function releaseLeases(q: Queryable, owner: string): Promise<void> {
  await q.query(`UPDATE webhook_deliveries SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = ?`, [owner]);
}

export type SendSlot = { kind: 'granted' } | { kind: 'wait'; untilMs: number } | { kind: 'gone' };

/**
 * Takes the webhook's next request slot: granted when no request to it
 * started within the last `intervalMs` (by any server), and the slot moves
 * `intervalMs` on in the same statement, so at most one request per interval
 * leaves for a webhook whichever servers send.
 */
export async function takeSendSlot(q: Queryable, spiderId: string, intervalMs: number): Promise<SendSlot> {
  const now = new Date();
  const granted = await q.query(
    `UPDATE webhooks SET next_send_at = ? WHERE spider_id = ? AND (next_send_at IS NULL OR next_send_at <= ?) RETURNING spider_id`,
    [nowParam(new Date(now.getTime() + intervalMs)), spiderId, nowParam(now)],
  );
  if (granted.length > 0) return { kind: 'granted' };
  const rows = await q.query(`SELECT next_send_at FROM webhooks WHERE spider_id = ?`, [spiderId]);
  if (rows.length === 0) return { kind: 'gone' };
  return { kind: 'wait', untilMs: new Date(toIso(rows[0]!.next_send_at)!).getTime() };
}

/**
 * Moves the webhook's next slot to at least `until`: called when a request
 * has ended, so the next one starts a whole interval after it, however long
 * the slot query or the connection took.
 */
export async function holdSendSlot(q: Queryable, spiderId: string, until: Date): Promise<void> {
  await q.query(`UPDATE webhooks SET next_send_at = ? WHERE spider_id = ? AND (next_send_at IS NULL OR next_send_at < ?)`, [
    nowParam(until),
    spiderId,
    nowParam(until),
  ]);
}
