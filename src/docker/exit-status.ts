/** A container's exit status read the way a shell reads it: 128 + n means killed by signal n. */
import { constants as osConstants } from 'node:os';

/** The signal that killed the container's main process ('SIGKILL'), or null when it exited. */
export function signalOfStatus(status: number): NodeJS.Signals | null {
  if (status <= 128 || status > 128 + 64) return null;
  const entry = Object.entries(osConstants.signals).find(([, n]) => n === status - 128);
  return entry ? (entry[0] as NodeJS.Signals) : null;
}
