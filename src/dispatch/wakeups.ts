/**
 * Wake-ups between the domain and dispatch: an in-process event bus, and on
 * PostgreSQL LISTEN/NOTIFY so that a job queued through one server reaches
 * an agent held by another. Notifications are hints; the sweep in the
 * dispatcher covers any that get lost.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Logger } from 'pino';
import type { DomainEvents } from '../domain/deps.js';
import { CoalescedTask } from '../storage/coalesced-task.js';
import type { Db } from '../storage/database.js';

const CHANNEL = 'scrapydd_dispatch';
const RUNNABLE_NOTICE_MS = 10;

export type Wakeup = { type: 'runnable' } | { type: 'cancel'; jobId: string };

export class Wakeups extends EventEmitter<{ wakeup: [Wakeup] }> implements DomainEvents {
  private readonly origin = randomUUID();
  private listener: pg.Client | undefined;
  private closed = false;
  /** Runnable wake-ups for other servers: a burst of new and finished jobs costs one NOTIFY per 10 ms, not one each. */
  private readonly runnableNotice = new CoalescedTask(RUNNABLE_NOTICE_MS, () => this.notify({ type: 'runnable' }));

  constructor(
    private readonly db: Db,
    private readonly pgUrl: string | undefined,
    private readonly logger: Logger,
  ) {
    super();
  }

  async start(): Promise<void> {
    if (!this.pgUrl) return;
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.pgUrl });
    client.on('notification', (msg) => {
      if (!msg.payload) return;
      try {
        const { origin, event } = JSON.parse(msg.payload) as { origin: string; event: Wakeup };
        if (origin !== this.origin) this.emit('wakeup', event);
      } catch {
        // not ours
      }
    });
    client.on('error', (err) => {
      this.logger.warn({ err }, 'LISTEN connection failed; reconnecting');
      void client.end().catch(() => undefined);
      if (!this.closed) setTimeout(() => void this.connect().catch(() => undefined), 1000).unref();
    });
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.listener = client;
    // Whatever was announced while we were not listening: look again.
    this.emit('wakeup', { type: 'runnable' });
  }

  private announce(event: Wakeup): void {
    this.emit('wakeup', event);
    if (this.db.kind !== 'postgres') return;
    if (event.type === 'runnable') this.runnableNotice.request();
    else void this.notify(event);
  }

  /** NOTIFY the other servers (a hint: their sweep covers a lost one). */
  private async notify(event: Wakeup): Promise<void> {
    await this.db
      .query('SELECT pg_notify(?, ?) AS sent', [CHANNEL, JSON.stringify({ origin: this.origin, event })])
      .then(() => undefined, (err: unknown) => this.logger.warn({ err }, 'NOTIFY failed'));
  }

  jobRunnable(): void {
    this.announce({ type: 'runnable' });
  }

  jobCancelRequested(jobId: string): void {
    this.announce({ type: 'cancel', jobId });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.listener?.end().catch(() => undefined);
  }
}
