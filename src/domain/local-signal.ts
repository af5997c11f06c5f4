/**
 * A signal inside this server process: something changed, listeners wake.
 * Other servers sharing the database do not hear it; what listens must also
 * look for changes on its own, at a bounded interval.
 */
import { EventEmitter } from 'node:events';

export interface LocalSignal {
  notify(): void;
  /** Calls `listener` at every notify from now on; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void;
}

export function localSignal(): LocalSignal {
  const events = new EventEmitter<{ signal: [] }>();
  events.setMaxListeners(0);
  return {
    notify: () => void events.emit('signal'),
    subscribe(listener) {
      events.on('signal', listener);
      return () => events.off('signal', listener);
    },
  };
}
