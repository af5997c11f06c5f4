/**
 * Reads an agent's session messages with a deadline: the read fails when the
 * agent has sent nothing for `silenceMs` (it is gone), and ends as done once
 * the session is ended from outside (replaced, node deleted). One timer per
 * session, pushed back by every message: a busy session's reads cost no
 * timer or listener each.
 */
import type { StreamNodeSessionRequest } from '../../../gen/scrapydd/v1/node_session.js';
import { FailedPrecondition } from '../../errors/domain-error.js';

type Req = StreamNodeSessionRequest;

export class SessionReader {
  private readonly it: AsyncIterator<Req>;
  private readonly timer: NodeJS.Timeout;
  private readonly interrupted: Promise<IteratorResult<Req>>;
  private expecting = 'hello';

  constructor(requests: AsyncIterable<Req>, private readonly silenceMs: number, stop: AbortSignal) {
    this.it = requests[Symbol.asyncIterator]();
    let timer!: NodeJS.Timeout;
    this.interrupted = new Promise<IteratorResult<Req>>((resolve, reject) => {
      timer = setTimeout(() => reject(new FailedPrecondition(`no ${this.expecting} within ${Math.round(silenceMs / 1000)} s`)), silenceMs);
      if (stop.aborted) resolve({ done: true, value: undefined });
      else stop.addEventListener('abort', () => resolve({ done: true, value: undefined }), { once: true });
    });
    this.interrupted.catch(() => undefined); // seen by the read that races it
    this.timer = timer;
  }

  /** The next message (`what` names it in the error when none comes in time). */
  async next(what: string): Promise<IteratorResult<Req>> {
    this.expecting = what;
    const result = await Promise.race([this.it.next(), this.interrupted]);
    this.timer.refresh();
    return result;
  }

  close(): void {
    clearTimeout(this.timer);
  }
}
