/**
 * Wake-ups of this process's delivery worker: a job with a webhook ended, or
 * a webhook changed. Other servers sharing the database find new deliveries
 * at their worker's next poll (about a second).
 */
import { localSignal } from '../local-signal.js';

const queued = localSignal();

export const notifyDeliveriesQueued = queued.notify;

/** Calls `listener` at each wake-up from now on; returns the unsubscribe function. */
export const onDeliveriesQueued = queued.subscribe;
