/**
 * Compares the jobs an agent's heartbeats say it runs with the jobs its
 * session was given. A job missing from the heartbeats for MISSING_INTERVALS
 * heartbeat intervals in a row (and from at least MIN_BEATS heartbeats) is no
 * longer on the agent: its assignment never arrived, or the agent dropped it.
 * The session then gives it up (LOST, retried when the spider allows) rather
 * than keeping it RUNNING until the session ends or the job times out. The
 * margin covers an assignment still on its way when a heartbeat left the
 * agent: the agent lists a job from the moment its assignment arrives.
 */

/** How long, in heartbeat intervals, a job may be missing before it is given up. */
export const MISSING_INTERVALS = 3;
/** How many heartbeats in a row must miss it, whatever the time. */
export const MIN_BEATS = 2;

export class HeartbeatReconciler {
  /** Job key -> when it was first missing and from how many heartbeats since. */
  private readonly missing = new Map<string, { since: number; beats: number }>();

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The keys of `owned` jobs to give up, given the keys one heartbeat reported. */
  update(owned: Iterable<string>, reported: ReadonlySet<string>): string[] {
    const at = this.now();
    const seen = new Set<string>();
    const gone: string[] = [];
    for (const key of owned) {
      seen.add(key);
      if (reported.has(key)) {
        this.missing.delete(key);
        continue;
      }
      const m = this.missing.get(key) ?? { since: at, beats: 0 };
      m.beats++;
      this.missing.set(key, m);
      if (m.beats >= MIN_BEATS && at - m.since >= MISSING_INTERVALS * this.intervalMs) gone.push(key);
    }
    // Forget jobs the session no longer owns (ended, or given up now).
    for (const key of [...this.missing.keys()]) if (!seen.has(key) || gone.includes(key)) this.missing.delete(key);
    return gone;
  }
}
