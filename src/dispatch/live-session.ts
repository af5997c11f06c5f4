/** An agent's open stream as dispatch sees it: identity, capacity, and a way to send commands. */
import type { StreamNodeSessionResponse } from '../../gen/scrapydd/v1/node_session.js';

export interface LiveSession {
  readonly sessionId: string;
  readonly nodeId: string;
  readonly tags: readonly string[];
  readonly slots: number;
  /** Keys of the jobs this agent holds. */
  readonly jobs: Set<string>;
  send(message: StreamNodeSessionResponse): Promise<void>;
  /** Ends the stream (replaced, node deleted, silent). */
  end(reason: string): void;
}
