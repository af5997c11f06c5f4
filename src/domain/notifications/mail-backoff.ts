/** When a failure e-mail that could not be sent is tried again, and when the sender gives up. */
import { exponentialDelayMs } from '../retry-delay.js';

/** Attempts in all, the first included; after the last one fails the mail is FAILED. */
export const MAIL_MAX_ATTEMPTS = 10;
/** Wait after the first failed attempt; doubled after each further one. */
export const MAIL_RETRY_BASE_MS = 2_000;
/** No wait is longer than this. */
export const MAIL_RETRY_CAP_MS = 10 * 60_000;

export type MailRetry = { readonly retryInMs: number } | { readonly giveUp: true };

/**
 * After `attempts` failed attempts: wait 2 s, 4 s, 8 s, ... (at most 10
 * minutes) and try again, or give up once MAIL_MAX_ATTEMPTS have failed.
 * With the defaults a mail is tried for about 17 minutes (2 + 4 + ... + 512 s).
 */
export function mailRetry(attempts: number): MailRetry {
  if (!Number.isInteger(attempts) || attempts < 1) throw new RangeError(`attempts must be a whole number >= 1, not ${attempts}`);
  if (attempts >= MAIL_MAX_ATTEMPTS) return { giveUp: true };
  return { retryInMs: exponentialDelayMs(attempts, MAIL_RETRY_BASE_MS, MAIL_RETRY_CAP_MS) };
}
