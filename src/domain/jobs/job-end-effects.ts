/**
 * What follows a job's end besides its own row. Work that must not be lost
 * (webhook deliveries, failure mail) is queued in the transaction that ends
 * the job, so a server stopping right after the commit loses nothing; the
 * workers that carry it out are woken once that transaction has committed.
 */
import type { Queryable } from '../../storage/database.js';
import type { Deps } from '../deps.js';
import { queueFailureMails, wakeFailureMail } from '../notifications/failure-mail.js';
import { queueWebhookDeliveries, wakeWebhookDeliveries } from '../webhooks/delivery-queue.js';
import type { JobState } from './job-state.js';

export interface EndedJob {
  readonly id: string;
  readonly key: string;
  readonly spiderId: string;
  /** The final state: SUCCEEDED, FAILED, CANCELLED or LOST. */
  readonly state: JobState;
  /** Whether a new attempt of the job was queued (spider `retries`). */
  readonly retried: boolean;
  /** A user asked to stop it before it ended (it was CANCELLING): it is neither retried nor mailed about. */
  readonly cancelRequested: boolean;
}

/** Runs inside the transaction that ended `ended`. */
export async function recordJobEnds(deps: Deps, tx: Queryable, ended: readonly EndedJob[]): Promise<void> {
  if (ended.length === 0) return;
  await queueWebhookDeliveries(deps, tx, ended);
  await queueFailureMails(deps, tx, ended);
}

/** Runs after that transaction committed. */
export function afterJobEnds(deps: Deps, ended: readonly EndedJob[]): void {
  if (ended.length === 0) return;
  wakeWebhookDeliveries(ended);
  wakeFailureMail(deps, ended);
}
