/**
 * Stop control of a running job: the stop signal, the SIGKILL a grace later, the timeout, and
 * why the agent stopped it — the same rules whichever runner delivers the signals.
 */
import type { StopReason } from './job-outcome.js';
import type { StopSignal } from './job-types.js';

export class StopControl {
  #reason: StopReason | undefined;
  #exited = false;
  #killAt = Infinity;
  #killTimer: NodeJS.Timeout | undefined;
  #timeoutTimer: NodeJS.Timeout | undefined;

  /** `send` delivers a signal to the crawl (and whatever it started); it must not throw. */
  constructor(
    private readonly send: (signal: StopSignal) => void,
    timeoutSeconds: number,
    private readonly defaultGraceSeconds: number,
  ) {
    if (timeoutSeconds > 0) {
      this.#timeoutTimer = setTimeout(() => this.stop('timeout', 'INT', defaultGraceSeconds), timeoutSeconds * 1000);
    }
  }

  /** Why the agent stopped the job, if it did. */
  get reason(): StopReason | undefined {
    return this.#reason;
  }

  cancel(signal: StopSignal = 'INT', graceSeconds = this.defaultGraceSeconds): void {
    this.stop('cancelled', signal, graceSeconds);
  }

  kill(): void {
    this.stop('cancelled', 'KILL', 0);
  }

  /** The crawl is gone: no more signals, no timeout. */
  exited(): void {
    this.#exited = true;
    clearTimeout(this.#timeoutTimer);
    clearTimeout(this.#killTimer);
  }

  stop(reason: StopReason, signal: StopSignal, graceSeconds: number): void {
    if (this.#exited) return; // it finished on its own: nothing to stop, nothing to blame
    this.#reason ??= reason; // a timeout stays a timeout if a cancel follows
    this.send(signal);
    if (signal === 'KILL') return;
    // Every stop may bring the SIGKILL forward, none pushes it back.
    const at = Date.now() + Math.max(0, graceSeconds) * 1000;
    if (at >= this.#killAt) return;
    this.#killAt = at;
    clearTimeout(this.#killTimer);
    this.#killTimer = setTimeout(() => this.send('KILL'), at - Date.now());
  }
}
