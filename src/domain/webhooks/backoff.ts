/** When a failed webhook request is tried again: 1 s, doubling per failure of the same item, at most 5 minutes. */
import { exponentialDelayMs } from '../retry-delay.js';

export const FIRST_RETRY_MS = 1000;
export const MAX_RETRY_MS = 5 * 60 * 1000;

/** The wait after the `failures`-th failed request for an item (failures ≥ 1). */
export function retryDelayMs(failures: number): number {
  return exponentialDelayMs(failures, FIRST_RETRY_MS, MAX_RETRY_MS);
}
