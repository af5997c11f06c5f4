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
import { countWorkerIdHolders } from '../storage/worker-id.js';

const CHANNEL = 'scrapydd_dispatch';
const NOTICE_MS = 10;
const PEERS_CHECK_MS = 1000;

/**
 * New jobs were queued; capacity was freed (jobs may have become claimable); a running job is to be stopped;
 * a trigger changed on another server (this server's trigger clock re-reads the earliest fire time).
 */
export type Wakeup = { type: 'queued' } | { type: 'freed' } | { type: 'cancel'; jobId: string } | { type: 'triggers' };

export class Wakeups extends EventEmitter<{ wakeup: [Wakeup] }> implements DomainEvents {
  private readonly origin = randomUUID();
  private listener: pg.Client | undefined;
  private closed = false;
  /** Wake-ups for other servers: a burst of new or finished jobs costs one NOTIFY per 10 ms, not one each. */
  private readonly notices = {
    queued: new CoalescedTask(NOTICE_MS, () => this.notify({ type: 'queued' })),
    freed: new CoalescedTask(NOTICE_MS, () => this.notify({ type: 'freed' })),
    triggers: new CoalescedTask(NOTICE_MS, () => this.notify({ type: 'triggers' })),
  };

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
    await this.checkPeers();
    this.peersTimer = setInterval(() => void this.checkPeers(), PEERS_CHECK_MS);
    this.peersTimer.unref();
  }

  /** Other servers on this database? NOTIFY only then (checked every PEERS_CHECK_MS). */
  private peers = true;
  private peersTimer: NodeJS.Timeout | undefined;

  private async checkPeers(): Promise<void> {
    const holders = await countWorkerIdHolders(this.db).catch(() => 2);
    this.peers = holders > 1;
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
    this.emit('wakeup', { type: 'queued' });
    this.emit('wakeup', { type: 'triggers' });
  }

  private announce(event: Wakeup): void {
    this.emit('wakeup', event);
    // A server alone on its database needs tell no one; a server that joins
    // is seen within PEERS_CHECK_MS, and its sweep covers that gap.
    if (this.db.kind !== 'postgres' || !this.peers) return;
    if (event.type === 'cancel') void this.notify(event);
    else this.notices[event.type].request();
  }

  /**
   * A trigger changed on this server: tell the others (their clocks re-read at
   * once rather than at their next bounded re-read). This server's own clock
   * hears it in-process (trigger-events.ts), so nothing is emitted here.
   */
  triggersChanged(): void {
    if (this.db.kind === 'postgres' && this.peers) this.notices.triggers.request();
  }

  /** NOTIFY the other servers (a hint: their sweep covers a lost one). */
  private async notify(event: Wakeup): Promise<void> {
    await this.db
      .query('SELECT pg_notify(?, ?) AS sent', [CHANNEL, JSON.stringify({ origin: this.origin, event })])
      .then(() => undefined, (err: unknown) => this.logger.warn({ err }, 'NOTIFY failed'));
  }

  jobsQueued(): void {
    this.announce({ type: 'queued' });
  }

  capacityFreed(): void {
    this.announce({ type: 'freed' });
  }

  jobCancelRequested(jobId: string): void {
    this.announce({ type: 'cancel', jobId });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.peersTimer);
    await this.listener?.end().catch(() => undefined);
  }
}
