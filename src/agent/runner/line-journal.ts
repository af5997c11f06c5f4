/** Line journal: splits a job's output stream into lines, appends them to a file, then hands them on in batches. */
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';

export interface BatchLimits {
  /** Lines per batch (default 100). */
  maxLines: number;
  /** UTF-16 code units per batch, roughly bytes (default 1 MiB); a longer single line goes alone. */
  maxChars: number;
  /** How long a line may wait for its batch to fill up (default 100 ms). */
  maxDelayMs: number;
}

const DEFAULT_LIMITS: BatchLimits = { maxLines: 100, maxChars: 1024 * 1024, maxDelayMs: 100 };
/** Pending lines above which the source is paused (backpressure reaches the runner's pipe). */
const HIGH_WATER_LINES = 5000;

/**
 * One output of a job (log or items). Lines are numbered by their order in the file: a batch
 * is written to the file BEFORE it is handed on, so the file is the durable buffer a sender
 * can re-read from (readLines) after losing what it handed on, and `lineCount` is exact.
 */
export class LineJournal {
  #count = 0;
  #partial = '';
  #pending: string[] = [];
  #due = false;
  #ended = false;
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  #error: Error | undefined;
  #source: Readable | undefined;

  private constructor(
    private readonly file: FileHandle,
    private readonly onLines: (lines: string[]) => void,
    private readonly limits: BatchLimits,
  ) {}

  /** Creates (or truncates) `path`. */
  static async create(path: string, onLines: (lines: string[]) => void, limits: Partial<BatchLimits> = {}): Promise<LineJournal> {
    return new LineJournal(await open(path, 'w'), onLines, { ...DEFAULT_LIMITS, ...limits });
  }

  /** Lines written to the file (and handed on) so far. */
  get lineCount(): number {
    return this.#count;
  }

  /** Closes the file of a journal that will never consume anything. */
  discard(): Promise<void> {
    return this.file.close();
  }

  /** Reads `source` to its end (or destruction); resolves once every line is in the file and handed on. */
  consume(source: Readable): Promise<void> {
    this.#source = source;
    source.setEncoding('utf8');
    source.on('data', (chunk: string) => this.#push(chunk));
    return new Promise<void>((resolve, reject) => {
      source.once('error', () => {}); // a reset pipe just ends the stream; 'close' follows
      source.once('close', () => {
        this.#end()
          .then(() => this.file.close())
          .then(() => (this.#error ? reject(this.#error) : resolve()), reject);
      });
    });
  }

  #push(chunk: string): void {
    if (chunk.indexOf('\n') < 0) {
      this.#partial += chunk; // no split: a huge line arriving in pieces stays linear
      return;
    }
    const parts = (this.#partial + chunk).split('\n');
    this.#partial = parts.pop() ?? '';
    for (const line of parts) this.#pending.push(line);
    if (this.#pending.length >= HIGH_WATER_LINES) this.#source?.pause();
    if (this.#pending.length >= this.limits.maxLines) this.#kick();
    else this.#arm();
  }

  #arm(): void {
    if (this.#timer || this.#ended || this.#pending.length === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#due = true;
      this.#kick();
    }, this.limits.maxDelayMs);
  }

  #kick(): void {
    if (this.#flushing) return;
    this.#flushing = this.#flush().finally(() => {
      this.#flushing = undefined;
      this.#arm();
    });
  }

  async #flush(): Promise<void> {
    while (this.#pending.length > 0 && (this.#due || this.#ended || this.#pending.length >= this.limits.maxLines)) {
      const batch = this.#takeBatch();
      if (this.#pending.length === 0) this.#due = false;
      if (this.#pending.length < HIGH_WATER_LINES / 2) this.#source?.resume();
      if (this.#error) continue; // the file is broken: drain the pipe so the runner never blocks
      try {
        await this.file.writeFile(batch.map((line) => `${line}\n`).join(''), 'utf8');
      } catch (err) {
        this.#error = err instanceof Error ? err : new Error(String(err));
        continue;
      }
      this.#count += batch.length;
      try {
        this.onLines(batch);
      } catch {
        // The lines are in the file: whoever lost them re-reads them from there.
      }
    }
  }

  #takeBatch(): string[] {
    let chars = 0;
    let n = 0;
    while (n < this.#pending.length && n < this.limits.maxLines) {
      chars += this.#pending[n]!.length + 1;
      if (n > 0 && chars > this.limits.maxChars) break;
      n++;
    }
    return this.#pending.splice(0, n);
  }

  async #end(): Promise<void> {
    if (this.#partial) this.#pending.push(this.#partial); // last line without a newline
    this.#partial = '';
    this.#ended = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#flushing || this.#pending.length > 0) {
      this.#kick();
      await this.#flushing;
    }
  }
}

/**
 * Lines [fromLine, fromLine + maxLines) of a journal file (0-based), for re-sending. Only
 * complete lines: a batch being written is never returned half.
 */
export async function readLines(file: string, fromLine: number, maxLines: number): Promise<string[]> {
  const out: string[] = [];
  if (maxLines <= 0) return out;
  const stream = createReadStream(file, { encoding: 'utf8' });
  let index = 0;
  let partial = '';
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      if (chunk.indexOf('\n') < 0) {
        partial += chunk;
        continue;
      }
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        if (index >= fromLine) out.push(line);
        index++;
        if (out.length >= maxLines) return out;
      }
    }
  } finally {
    stream.destroy();
  }
  return out;
}
