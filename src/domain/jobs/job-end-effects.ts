/**
 * What follows a job's end besides its own row. Work that must not be lost
 * (webhook deliveries, failure mail) is queued in the transaction that ends
 * the job, so a server stopping right after the commit loses nothing; the
 * workers that carry it out are woken once that transaction has committed.
 */
import type { Queryable } from '../../storage/database.js';
import * as webhooksRepo from '../../storage/webhooks-repo.js';
import type { Deps } from '../deps.js';
import { notifyDeliveriesQueued } from '../webhooks/webhook-events.js';
import type { JobState } from './job-state.js';

export interface EndedJob {
  readonly id: string;
  readonly key: string;
  readonly spiderId: string;
  /** The final state: SUCCEEDED, FAILED, CANCELLED or LOST. */
  readonly state: JobState;
  /** Whether a new attempt of the job was queued (spider `retries`). */
  readonly retried: boolean;
}

/** Runs inside the transaction that ended `ended`. */
export async function recordJobEnds(deps: Deps, tx: Queryable, ended: readonly EndedJob[]): Promise<void> {
  if (ended.length === 0) return;
  await queueWebhookDeliveries(deps, tx, ended);
}

/** Runs after that transaction committed. */
export function afterJobEnds(_deps: Deps, ended: readonly EndedJob[]): void {
  if (ended.length === 0) return;
  if (ended.some((j) => j.state !== 'CANCELLED')) notifyDeliveriesQueued();
}

/**
 * A webhook delivery for each job that ended in any state but CANCELLED and
 * whose spider has a webhook: one query when no spider has one, three when
 * some do, whatever the number of jobs.
 */
async function queueWebhookDeliveries(deps: Deps, tx: Queryable, ended: readonly EndedJob[]): Promise<void> {
  const delivered = ended.filter((j) => j.state !== 'CANCELLED');
  if (delivered.length === 0) return;
  const urls = await webhooksRepo.webhookUrls(tx, [...new Set(delivered.map((j) => j.spiderId))]);
  if (urls.size === 0) return;
  const withHook = delivered.filter((j) => urls.has(j.spiderId));
  const counts = await webhooksRepo.itemCounts(tx, withHook.map((j) => j.id));
  await webhooksRepo.insertDeliveries(
    tx,
    withHook.map((j) => ({ id: deps.ids.next(), jobId: j.id, spiderId: j.spiderId, payloadUrl: urls.get(j.spiderId)!, totalItems: counts.get(j.id) ?? 0 })),
  );
}
