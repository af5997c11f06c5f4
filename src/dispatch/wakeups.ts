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
import type { Db } from '../storage/database.js';

const CHANNEL = 'scrapydd_dispatch';

export type Wakeup = { type: 'runnable' } | { type: 'cancel'; jobId: string };

export class Wakeups extends EventEmitter<{ wakeup: [Wakeup] }> implements DomainEvents {
  private readonly origin = randomUUID();
  private listener: pg.Client | undefined;
  private closed = false;
  private notifying = false;
  private notifyAgain = false;

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
    if (this.db.kind === 'postgres') this.notify(event);
  }

  /** NOTIFY the other servers; runnable wake-ups are coalesced (one in flight, one more after it). */
  private notify(event: Wakeup): void {
    if (event.type === 'runnable') {
      if (this.notifying) return void (this.notifyAgain = true);
      this.notifying = true;
    }
    this.db
      .query('SELECT pg_notify(?, ?) AS sent', [CHANNEL, JSON.stringify({ origin: this.origin, event })])
      .catch((err: unknown) => this.logger.warn({ err }, 'NOTIFY failed'))
      .finally(() => {
        if (event.type !== 'runnable') return;
        this.notifying = false;
        if (this.notifyAgain) {
          this.notifyAgain = false;
          this.notify(event);
        }
      });
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
