/**
 * The failure-mail sender of one server: claims due mails from the outbox
 * with a lease, sends them, records the outcome, and retries with backoff.
 * Woken when a job ends; otherwise it looks again when the next retry is
 * due, and at least every few seconds for mails another server queued or
 * left behind.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { mailRetry } from '../domain/notifications/mail-backoff.js';
import type { Db } from '../storage/database.js';
import * as outbox from '../storage/mail-outbox-repo.js';
import type { MailTransport } from './smtp-transport.js';

export interface FailureMailSenderOptions {
  /** Longest wait between two looks at the outbox. */
  pollIntervalMs?: number;
  /** How long a claimed mail stays this sender's (longer than any send takes). */
  leaseMs?: number;
  /** Mails claimed at once. */
  batchSize?: number;
  /** SENT and FAILED mails older than this are deleted. */
  keepMs?: number;
}

const DEFAULTS = { pollIntervalMs: 5_000, leaseMs: 5 * 60_000, batchSize: 10, keepMs: 30 * 24 * 3600_000 };
/** Never look again sooner than this after a pass (a lease held elsewhere is about to end). */
const MIN_WAIT_MS = 200;
const CLEANUP_INTERVAL_MS = 3600_000;
const STOP_WAIT_MS = 5_000;

export class FailureMailSender {
  private readonly owner = randomUUID();
  private readonly options: Required<FailureMailSenderOptions>;
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<void> | undefined;
  private wokenDuringPass = false;
  private stopped = true;
  private lastCleanup = 0;

  constructor(
    private readonly db: Db,
    private readonly transport: MailTransport,
    private readonly logger: Logger,
    options: FailureMailSenderOptions = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  /** Sends what is due (mails left from before a restart too), then keeps watching. */
  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** New mails were committed: send them now. */
  wake(): void {
    if (this.stopped) return;
    if (this.pass) this.wokenDuringPass = true;
    else this.schedule(0);
  }

  /**
   * Stops watching; waits a little for a send under way to be recorded. One
   * still hanging (an SMTP server that does not answer) is left to its
   * lease: the mail is tried again later, here or by another server.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.pass, new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_WAIT_MS)))]);
    clearTimeout(timer);
    this.transport.close();
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.run(), ms);
  }

  private async run(): Promise<void> {
    if (this.pass || this.stopped) return;
    let waitMs = this.options.pollIntervalMs;
    this.pass = (async () => {
      try {
        let claimed: number;
        do {
          this.wokenDuringPass = false;
          claimed = await this.sendDue();
        } while (!this.stopped && (claimed === this.options.batchSize || this.wokenDuringPass));
        const due = await outbox.nextDueTime(this.db);
        if (due !== undefined) waitMs = Math.min(waitMs, Math.max(MIN_WAIT_MS, due.getTime() - Date.now()));
        await this.cleanup();
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, 'failure mail: outbox pass failed; trying again shortly');
      }
    })();
    await this.pass;
    this.pass = undefined;
    if (!this.stopped) this.schedule(this.wokenDuringPass ? 0 : waitMs);
  }

  /** One batch; how many mails it claimed. */
  private async sendDue(): Promise<number> {
    const mails = await outbox.claimDueMails(this.db, this.owner, new Date(), this.options.leaseMs, this.options.batchSize);
    for (const mail of mails) {
      if (this.stopped) break; // the lease runs out and another pass (or server) sends it
      await this.sendOne(mail);
    }
    return mails.length;
  }

  private async sendOne(mail: outbox.ClaimedMail): Promise<void> {
    const log = { mail: mail.id, jobId: mail.jobId, attempt: mail.attempts };
    try {
      const { rejected } = await this.transport.send({ to: mail.recipients, subject: mail.subject, text: mail.body });
      await outbox.markSent(this.db, mail.id, this.owner, new Date());
      if (rejected.length > 0) this.logger.warn({ ...log, rejected }, 'failure mail sent, but some receivers were refused');
      else this.logger.info({ ...log, receivers: mail.recipients.length }, 'failure mail sent');
    } catch (err) {
      const reason = describeError(err);
      const next = mailRetry(mail.attempts);
      if ('giveUp' in next) {
        await outbox.markFailed(this.db, mail.id, this.owner, reason);
        this.logger.warn({ ...log, err: reason }, 'failure mail given up');
      } else {
        await outbox.markRetry(this.db, mail.id, this.owner, reason, new Date(Date.now() + next.retryInMs));
        this.logger.warn({ ...log, err: reason, retryInMs: next.retryInMs }, 'failure mail not sent; will retry');
      }
    }
  }

  private async cleanup(): Promise<void> {
    if (Date.now() - this.lastCleanup < CLEANUP_INTERVAL_MS) return;
    this.lastCleanup = Date.now();
    const deleted = await outbox.deleteFinishedMails(this.db, new Date(Date.now() - this.options.keepMs));
    if (deleted > 0) this.logger.info({ deleted }, 'failure mail: old outbox rows deleted');
  }
}

/** An SMTP error as one line: the server's reply when there is one (never the login). */
function describeError(err: unknown): string {
  const e = err as { message?: string; code?: string; responseCode?: number; response?: string };
  const text = e.response ? `${e.responseCode ?? ''} ${e.response}`.trim() : (e.message ?? String(err));
  return [e.code, text].filter(Boolean).join(': ').replace(/\s+/g, ' ').slice(0, 1000);
}
