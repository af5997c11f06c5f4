/**
 * Group commit: callers submit one item each and await its result; items
 * that arrive while a batch is being written go into the next batch, written
 * with one statement or transaction. An item alone is written at once (after
 * the current I/O callbacks, so a burst that arrived together shares a
 * batch), so batching adds no latency when idle and saves round trips and
 * commits under load. Batches run one at a time, in submission order.
 */
interface Pending<I, R> {
  item: I;
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
}

export class GroupCommit<I, R> {
  private queue: Pending<I, R>[] = [];
  private running = false;

  /**
   * `write` gets a batch and returns one result per item, in order. When a
   * batch of several fails, each item is retried alone so that one bad item
   * fails only its own caller.
   */
  constructor(
    private readonly write: (items: I[]) => Promise<R[]>,
    private readonly maxBatch = 500,
  ) {}

  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.running) {
        this.running = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  /** Items submitted and not yet written. */
  get backlog(): number {
    return this.queue.length;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        settle(batch, await this.write(batch.map((p) => p.item)));
      } catch (err) {
        if (batch.length === 1) batch[0]!.reject(err);
        else for (const p of batch) await this.write([p.item]).then((r) => settle([p], r), p.reject);
      }
    }
    this.running = false;
  }
}

function settle<I, R>(batch: Pending<I, R>[], results: R[]): void {
  batch.forEach((p, i) => p.resolve(results[i]!));
}
