/** Output lines of a setup command (venv, pip): each line to a log, the tail kept to explain a failure. */
import type { Readable } from 'node:stream';

const TAIL_LINES = 200;

export class OutputLines {
  readonly #tail: string[] = [];
  readonly #flushes: (() => void)[] = [];

  constructor(private readonly log: (line: string) => void) {}

  /** Reads `stream`'s lines; call flush() once it has ended. */
  follow(stream: Readable): void {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (partial + chunk).split(/\r?\n/);
      partial = parts.pop() ?? '';
      parts.forEach((line) => this.#line(line));
    });
    this.#flushes.push(() => {
      if (partial) this.#line(partial);
      partial = '';
    });
  }

  /** Passes on the last unterminated line of every stream. */
  flush(): void {
    this.#flushes.forEach((flush) => flush());
  }

  /** `<what> failed: <pip's last ERROR: line, else the last line, else how it ended>`. */
  failure(what: string, how: string): Error {
    const lines = this.#tail.map((l) => l.trim()).filter(Boolean);
    const errors = lines.filter((l) => l.startsWith('ERROR:'));
    return new Error(`${what} failed: ${errors.at(-1) ?? lines.at(-1) ?? how}`);
  }

  #line(line: string): void {
    this.log(line);
    this.#tail.push(line);
    if (this.#tail.length > TAIL_LINES) this.#tail.shift();
  }
}
