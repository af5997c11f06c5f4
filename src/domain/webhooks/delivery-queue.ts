/** Webhook deliveries queued when jobs end (see domain/jobs/job-end-effects.ts). */
import type { Queryable } from '../../storage/database.js';
import * as webhooksRepo from '../../storage/webhooks-repo.js';
import type { Deps } from '../deps.js';
import type { EndedJob } from '../jobs/job-end-effects.js';
import { notifyDeliveriesQueued } from './webhook-events.js';

/**
 * A webhook delivery for each job that ended in any state but CANCELLED and
 * whose spider has a webhook: one query when no spider has one, three when
 * some do, whatever the number of jobs.
 */
export async function queueWebhookDeliveries(deps: Deps, tx: Queryable, ended: readonly EndedJob[]): Promise<void> {
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

/** Wakes this server's delivery worker after the ending transaction committed. */
export function wakeWebhookDeliveries(ended: readonly EndedJob[]): void {
  if (ended.some((j) => j.state !== 'CANCELLED')) notifyDeliveriesQueued();
}
