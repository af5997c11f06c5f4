/**
 * Trigger changes inside this server process: the trigger clock wakes at
 * once to re-read the earliest fire time. Clocks of other servers sharing
 * the database see changes at their next bounded re-read.
 */
import { EventEmitter } from 'node:events';

const triggerEvents = new EventEmitter<{ changed: [] }>();

export function triggersChanged(): void {
  triggerEvents.emit('changed');
}

/** Calls `listener` after every trigger change from now on; returns the unsubscribe function. */
export function onTriggersChanged(listener: () => void): () => void {
  triggerEvents.on('changed', listener);
  return () => triggerEvents.off('changed', listener);
}
