/**
 * The trigger clock of one server: sleeps until the earliest fire time of any
 * trigger, then fires what is due (trigger-fire.ts claims each fire time in
 * the database, so every server may run a clock). It re-reads the earliest
 * fire time at once after a trigger changes, on this server or (through the
 * PostgreSQL wake-ups) another, and at least every `maxSleepMs` in case a
 * wake-up was lost.
 */
import type { Logger } from 'pino';
import type { Deps } from '../domain/deps.js';
import { onTriggersChanged } from '../domain/triggers/trigger-events.js';
import { fireDueTriggers } from '../domain/triggers/trigger-fire.js';
import { earliestFireTime } from '../storage/triggers-repo.js';

export interface TriggerClockOptions {
  readonly misfireGraceSeconds: number;
  /** Longest sleep between reads of the earliest fire time. */
  readonly maxSleepMs?: number;
  readonly now?: () => Date;
}

/** After a failed pass, or a fire that failed: no busy loop. */
const RETRY_MS = 1000;

export class TriggerClock {
  private stopped = true;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private woken = false;
  private unsubscribe: (() => void) | undefined;
  private readonly maxSleepMs: number;
  private readonly now: () => Date;

  constructor(private readonly deps: Deps, private readonly options: TriggerClockOptions, private readonly logger: Logger) {
    this.maxSleepMs = options.maxSleepMs ?? 30_000;
    this.now = options.now ?? (() => new Date());
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.unsubscribe = onTriggersChanged(() => this.wake());
    this.loop = this.run();
  }

  /** Re-reads the earliest fire time now (a trigger changed). */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.wake();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      this.woken = false;
      let delayMs: number;
      try {
        const passStart = this.now().getTime();
        await fireDueTriggers(this.deps, { misfireGraceMs: this.options.misfireGraceSeconds * 1000, now: this.now });
        const earliest = (await earliestFireTime(this.deps.db))?.getTime();
        this.logger.debug({ nextFireTime: earliest === undefined ? null : new Date(earliest).toISOString() }, 'trigger clock: next fire time');
        if (earliest === undefined) delayMs = this.maxSleepMs;
        else if (earliest <= passStart) delayMs = RETRY_MS; // due before this pass and still there: its fire failed
        else delayMs = Math.min(Math.max(earliest - this.now().getTime(), 0), this.maxSleepMs);
      } catch (err) {
        if (this.stopped) break;
        this.logger.warn({ err: (err as Error).message }, 'trigger clock: pass failed, retrying');
        delayMs = RETRY_MS;
      }
      if (!this.woken && !this.stopped) await this.sleep(delayMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = undefined;
        done();
      };
    });
  }
}
