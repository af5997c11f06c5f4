/**
 * Node lifecycle events inside this server process. 'deleted' (node id) is
 * emitted after DeleteNode removed the row: the session registry ends that
 * node's stream. Other servers sharing the database are not told.
 */
import { EventEmitter } from 'node:events';

export interface NodeEventMap {
  deleted: [nodeId: string];
}

export const nodeEvents = new EventEmitter<NodeEventMap>();

/** Calls `listener` with the id of every node deleted from now on; returns the unsubscribe function. */
export function onNodeDeleted(listener: (nodeId: string) => void): () => void {
  nodeEvents.on('deleted', listener);
  return () => nodeEvents.off('deleted', listener);
}
