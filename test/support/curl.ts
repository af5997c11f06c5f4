/**
 * The curl binary for tests that call the server the way the README does:
 * one request, a deadline, and the answer's status, HTTP version and body
 * (parsed as JSON on demand).
 */
import { execa } from 'execa';
import type { JsonObject } from './http-client.js';

export const CURL_TIMEOUT_MS = 30_000;

export interface CurlReply {
  readonly exitCode: number;
  /** 0 when no HTTP answer came (e.g. the TLS handshake was refused). */
  readonly status: number;
  readonly version: string;
  readonly body: string;
  readonly stderr: string;
  readonly json: JsonObject;
}

/** `curl -sS <args>`; fails only at the deadline (a non-zero exit is in the reply). */
export async function curl(args: string[]): Promise<CurlReply> {
  const res = await execa('curl', ['-sS', '--max-time', String(CURL_TIMEOUT_MS / 1000 - 10), '-w', '\n%{http_code} %{http_version}', ...args], {
    reject: false,
    timeout: CURL_TIMEOUT_MS,
  });
  const lines = res.stdout.split('\n');
  const [status, version] = lines.pop()!.split(' ');
  const body = lines.join('\n');
  return {
    exitCode: res.exitCode ?? -1,
    status: Number(status),
    version: version ?? '',
    body,
    stderr: res.stderr,
    get json(): JsonObject {
      try {
        return JSON.parse(body) as JsonObject;
      } catch {
        throw new Error(`curl ${args.join(' ')}: exit ${res.exitCode}, HTTP ${status}, a body that is not JSON: ${JSON.stringify(body)} ${res.stderr}`);
      }
    },
  };
}
