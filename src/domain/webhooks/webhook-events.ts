/**
 * Wake-ups of this process's delivery worker: a job with a webhook ended, or
 * a webhook changed. Other servers sharing the database find new deliveries
 * at their worker's next poll (about a second).
 */
import { EventEmitter } from 'node:events';

const events = new EventEmitter<{ queued: [] }>();

export function notifyDeliveriesQueued(): void {
  events.emit('queued');
}

/** Calls `listener` at each wake-up from now on; returns the unsubscribe function. */
export function onDeliveriesQueued(listener: () => void): () => void {
  events.on('queued', listener);
  return () => events.off('queued', listener);
}
