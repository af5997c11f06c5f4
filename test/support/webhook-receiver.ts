/**
 * A webhook receiver for tests: node:http on 127.0.0.1 that records every
 * request (time, headers, body as form fields) and answers what `respond`
 * says (200 by default), with a wait for a number of requests.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from './sim-agent.js';

export interface ReceivedRequest {
  readonly at: number;
  readonly method: string;
  readonly path: string;
  readonly contentType: string;
  /** X-Scrapydd-Delivery: <job key>/<item index>. */
  readonly delivery: string;
  readonly body: string;
  readonly fields: [string, string][];
}

export interface WebhookReceiver {
  readonly url: string;
  readonly port: number;
  readonly requests: ReceivedRequest[];
  /** The status to answer a request with (called after it was recorded). */
  respond: (r: ReceivedRequest, index: number) => number;
  waitForRequests(n: number, timeoutMs: number, match?: (r: ReceivedRequest) => boolean): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const r: ReceivedRequest = {
        at: Date.now(),
        method: req.method ?? '',
        path: req.url ?? '',
        contentType: req.headers['content-type'] ?? '',
        delivery: String(req.headers['x-scrapydd-delivery'] ?? ''),
        body,
        fields: [...new URLSearchParams(body)],
      };
      requests.push(r);
      const status = receiver.respond(r, requests.length - 1);
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status < 300 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const receiver: WebhookReceiver = {
    url: `http://127.0.0.1:${port}/hook`,
    port,
    requests,
    respond: () => 200,
    waitForRequests: (n, timeoutMs, match = () => true) =>
      waitFor(`${n} webhook requests`, timeoutMs, () => requests.filter(match), (rs) => rs.length >= n, 25),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return receiver;
}
