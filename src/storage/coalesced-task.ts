/**
 * A task run at most once per interval however often it is requested: the
 * first request runs it at once; requests made while it runs, or within
 * `intervalMs` of its start, are served together by one more run when that
 * interval is over. For database work whose result does not depend on how
 * many asked (NOTIFY, pruning).
 */
export class CoalescedTask<K = never> {
  private keys = new Set<K>();
  private requested = false;
  private busy = false;

  constructor(
    private readonly intervalMs: number,
    /** Gets the keys requested since its last run (empty for a task without keys); must not throw. */
    private readonly task: (keys: K[]) => Promise<void>,
  ) {}

  request(...keys: K[]): void {
    for (const k of keys) this.keys.add(k);
    this.requested = true;
    if (!this.busy) void this.run();
  }

  private async run(): Promise<void> {
    this.busy = true;
    while (this.requested) {
      this.requested = false;
      const keys = [...this.keys];
      this.keys.clear();
      const started = Date.now();
      await this.task(keys);
      const wait = started + this.intervalMs - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait).unref());
    }
    this.busy = false;
  }
}
