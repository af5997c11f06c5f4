/**
 * Trigger changes inside this server process: the trigger clock wakes at
 * once to re-read the earliest fire time. Clocks of other servers sharing
 * the database see changes at their next bounded re-read.
 */
import { localSignal } from '../local-signal.js';

const changed = localSignal();

export const triggersChanged = changed.notify;

/** Calls `listener` after every trigger change from now on; returns the unsubscribe function. */
export const onTriggersChanged = changed.subscribe;
