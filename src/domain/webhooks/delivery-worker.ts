/**
 * The webhook delivery worker of one server: finds webhooks whose oldest open
 * delivery is due, leases it, and sends its job's items one request each,
 * in order, at most one request per second per webhook (the pacing slot in
 * the database holds across servers). The cursor moves in the database right
 * after each accepted request, so a restart resumes at the next item; a lost
 * lease (another server took over after ours expired, or the webhook was
 * deleted) stops this server's sending at once.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Db } from '../../storage/database.js';
import * as jobsRepo from '../../storage/jobs-repo.js';
import * as repo from '../../storage/webhooks-repo.js';
import { retryDelayMs } from './backoff.js';
import { ItemFormatError, itemFormBody } from './item-form.js';
import { postForm, type RequestOutcome } from './webhook-request.js';
import type { WebhookSettings } from './webhook-settings.js';
import { onDeliveriesQueued } from './webhook-events.js';
import { redactedUrl } from './webhook-service.js';

export interface DeliveryWorkerOptions {
  /** How often the database is scanned for due deliveries (other servers' jobs, retries). */
  pollIntervalMs?: number;
  /** A lease this long, renewed at a third of it while the delivery runs. */
  leaseMs?: number;
  /** The least time between two requests to one webhook. */
  sendIntervalMs?: number;
  /** Webhooks delivered at once by this server. */
  maxParallel?: number;
  /** How long stop() lets a request under way finish before cutting it. */
  stopGraceMs?: number;
}

type DeliveryEnd = 'finished' | 'paused';

export class DeliveryWorker {
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly pollIntervalMs: number;
  private readonly leaseMs: number;
  private readonly sendIntervalMs: number;
  private readonly maxParallel: number;
  private readonly stopGraceMs: number;
  private readonly active = new Map<string, Promise<void>>();
  private readonly stopController = new AbortController();
  private stopping = false;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private polling: Promise<void> | undefined;
  private pollAgain = false;

  constructor(
    private readonly db: Db,
    private readonly settings: WebhookSettings,
    private readonly logger: Logger,
    opts: DeliveryWorkerOptions = {},
  ) {
    this.pollIntervalMs = opts.pollIntervalMs ?? 1000;
    this.leaseMs = opts.leaseMs ?? 10_000;
    this.sendIntervalMs = opts.sendIntervalMs ?? 1000;
    this.maxParallel = opts.maxParallel ?? 16;
    this.stopGraceMs = opts.stopGraceMs ?? 3000;
  }

  start(): void {
    this.unsubscribe = onDeliveriesQueued(() => this.poke());
    this.timer = setInterval(() => this.poke(), this.pollIntervalMs);
    this.timer.unref();
    this.poke();
  }

  /** Lets a request under way finish (up to stopGraceMs), then releases this server's leases. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.unsubscribe?.();
    clearInterval(this.timer);
    const all = Promise.allSettled([this.polling, ...this.active.values()]);
    const grace = new Promise<void>((r) => setTimeout(r, this.stopGraceMs).unref());
    await Promise.race([all, grace]);
    this.stopController.abort();
    await all;
    await repo.releaseLeases(this.db, this.owner).catch((err: unknown) => this.logger.warn({ err }, 'could not release webhook leases'));
  }

  private poke(): void {
    if (this.stopping) return;
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    this.polling = this.poll()
      .catch((err: unknown) => this.logger.warn({ err }, 'webhook delivery scan failed; retried at the next one'))
      .finally(() => {
        this.polling = undefined;
        if (this.pollAgain) {
          this.pollAgain = false;
          this.poke();
        }
      });
  }

  private async poll(): Promise<void> {
    await repo.cancelOrphanDeliveries(this.db);
    const free = this.maxParallel - this.active.size;
    if (free <= 0) return;
    const due = await repo.dueWebhooks(this.db, this.owner, this.maxParallel);
    for (const spiderId of due) {
      if (this.active.size >= this.maxParallel || this.stopping) break;
      if (this.active.has(spiderId)) continue;
      const run = this.runWebhook(spiderId)
        .catch((err: unknown) => this.logger.warn({ err, spiderId }, 'webhook delivery interrupted; resumed at the next scan'))
        .finally(() => this.active.delete(spiderId));
      this.active.set(spiderId, run);
    }
  }

  /** Delivers the webhook's open deliveries one after the other until none is due or this server must stop. */
  private async runWebhook(spiderId: string): Promise<void> {
    while (!this.stopping) {
      const d = await repo.claimOldestDelivery(this.db, spiderId, this.owner, this.leaseMs);
      if (!d) return;
      if ((await this.deliver(d)) === 'paused') return;
    }
  }

  private async deliver(d: repo.DeliveryRow): Promise<DeliveryEnd> {
    const lease = new AbortController();
    const signal = AbortSignal.any([lease.signal, this.stopController.signal]);
    const renew = setInterval(() => {
      repo
        .renewLease(this.db, d.id, this.owner, this.leaseMs)
        .then((held) => held || lease.abort())
        .catch((err: unknown) => this.logger.warn({ err, delivery: d.id }, 'webhook lease renewal failed'));
    }, Math.max(100, Math.floor(this.leaseMs / 3)));
    const log = this.logger.child({ job: d.jobKey, delivery: d.id, url: redactedUrl(d.payloadUrl) });
    if (d.nextIndex === 0 && d.itemAttempts === 0) log.info({ items: d.totalItems }, 'webhook delivery started');
    try {
      let index = d.nextIndex;
      let failures = d.itemAttempts;
      while (index < d.totalItems) {
        const chunks = await jobsRepo.readChunks(this.db, d.jobId, 'items', index, 1);
        const chunk = chunks[0];
        const values = chunk ? chunk.values.slice(index - chunk.firstIndex) : [];
        if (!chunk || chunk.firstIndex > index || values.length === 0) {
          await repo.recordAttemptFailed(this.db, d, this.owner, `item ${index} is missing from the job's stored items`, undefined);
          log.warn({ index }, 'webhook delivery failed: an item is missing');
          return 'finished';
        }
        for (const line of values) {
          if (index >= d.totalItems) break;
          if (this.stopping || signal.aborted) return 'paused';
          const last = index === d.totalItems - 1;
          let body: string;
          try {
            body = itemFormBody(line);
          } catch (err) {
            if (!(err instanceof ItemFormatError)) throw err;
            const reason = `item ${index} skipped: ${err.message}`;
            if (!(await repo.recordSkipped(this.db, d, this.owner, index, last, reason))) return 'paused';
            log.warn({ index, reason }, 'webhook item skipped');
            index++;
            continue;
          }
          if (!(await this.waitForSlot(d.spiderId, signal))) return 'paused';
          const outcome: RequestOutcome = await postForm({
            url: d.payloadUrl,
            body,
            deliveryId: `${d.jobKey}/${index}`,
            timeoutMs: this.settings.timeoutMs,
            allowPrivate: this.settings.allowPrivate,
            signal,
          });
          // At most one request per interval as the receiver sees them: the next starts an interval after this one ended.
          await repo.holdSendSlot(this.db, d.spiderId, new Date(Date.now() + this.sendIntervalMs));
          if (signal.aborted) return 'paused'; // the lease is gone or the server stops: the item is sent again, by whoever holds it next
          if (outcome.ok) {
            if (!(await repo.recordDelivered(this.db, d, this.owner, index, last))) return 'paused';
            index++;
            failures = 0;
            continue;
          }
          failures++;
          if (outcome.permanent || failures >= this.settings.maxAttempts) {
            const error = `item ${index}: ${outcome.error}${outcome.permanent ? '' : ` (gave up after ${failures} attempts)`}`;
            await repo.recordAttemptFailed(this.db, d, this.owner, error, undefined);
            log.warn({ index, error }, 'webhook delivery failed');
            return 'finished';
          }
          const retryAt = new Date(Date.now() + retryDelayMs(failures));
          await repo.recordAttemptFailed(this.db, d, this.owner, `item ${index}: ${outcome.error}`, retryAt);
          log.info({ index, error: outcome.error, attempt: failures, retryAt: retryAt.toISOString() }, 'webhook request failed; retrying');
          return 'paused';
        }
      }
      log.info({ items: d.totalItems }, 'webhook delivery done');
      return 'finished';
    } finally {
      clearInterval(renew);
    }
  }

  /** Waits for the webhook's next request slot; false when the webhook is gone or the wait was cut short. */
  private async waitForSlot(spiderId: string, signal: AbortSignal): Promise<boolean> {
    for (;;) {
      const slot = await repo.takeSendSlot(this.db, spiderId, this.sendIntervalMs);
      if (slot.kind === 'granted') return true;
      if (slot.kind === 'gone') return false;
      const waitMs = Math.max(1, Math.min(slot.untilMs - Date.now(), this.sendIntervalMs));
      const woke = await new Promise<boolean>((resolve) => {
        const t = setTimeout(() => {
          signal.removeEventListener('abort', onAbort);
          resolve(true);
        }, waitMs);
        const onAbort = () => {
          clearTimeout(t);
          resolve(false);
        };
        signal.addEventListener('abort', onAbort, { once: true });
      });
      if (!woke || signal.aborted) return false;
    }
  }
}
