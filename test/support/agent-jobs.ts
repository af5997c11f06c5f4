/**
 * Jobs seen from outside for the agent tests: upload a fixture project's egg
 * (the quotes project unless told), schedule with scrapyd's schedule.json,
 * poll the REST Job until a condition holds (with a deadline), read its log
 * and items, make node keys.
 */
import { readFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { buildEgg } from './eggs.js';
import { addVersion, request, scrapydPost, type JsonObject } from './http-client.js';
import type { TestServer } from './server-process.js';

export const PROJECT = 'quotes';

/** addversion.json of test/fixtures/scrapy-projects/<project> as project `project`. */
export async function uploadProject(server: TestServer, auth: string | undefined, project: string, version = 'v1'): Promise<void> {
  const egg = await readFile(await buildEgg(project));
  const reply = await addVersion(server, auth, project, version, egg);
  if (reply.status !== 200 || reply.json.status !== 'ok') throw new Error(`addversion.json failed: ${reply.status} ${reply.text}`);
}

export const uploadQuotes = (server: TestServer, auth: string | undefined, version = 'v1') => uploadProject(server, auth, PROJECT, version);

/** schedule.json; returns the job id. */
export async function schedule(
  server: TestServer,
  auth: string | undefined,
  spider: string,
  args: Record<string, string>,
  project = PROJECT,
): Promise<string> {
  const reply = await scrapydPost(server, 'schedule.json', { project, spider, ...args }, auth);
  if (reply.status !== 200 || reply.json.status !== 'ok') throw new Error(`schedule.json failed: ${reply.status} ${reply.text}`);
  return reply.json.jobid as string;
}

export const jobPath = (spider: string, id: string, project = PROJECT) => `/v1/projects/${project}/spiders/${spider}/jobs/${id}`;

export async function getJob(server: TestServer, auth: string | undefined, spider: string, id: string, project = PROJECT): Promise<JsonObject> {
  const reply = await request(server, 'GET', jobPath(spider, id, project), { auth });
  if (reply.status !== 200) throw new Error(`GetJob failed: ${reply.status} ${reply.text}`);
  return reply.json;
}

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED', 'LOST']);

/**
 * Polls GetJob until `done(job)` holds; fails at the deadline, or at once
 * when the job reached a terminal state that `done` does not accept.
 */
export async function waitForJob(
  server: () => TestServer,
  auth: string | undefined,
  spider: string,
  id: string,
  done: (job: JsonObject) => boolean,
  timeoutMs: number,
  what: string,
  project = PROJECT,
): Promise<JsonObject> {
  const deadline = Date.now() + timeoutMs;
  let last: JsonObject | undefined;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      last = await getJob(server(), auth, spider, id, project);
      if (done(last)) return last;
      if (TERMINAL.has(last.state as string)) throw new Error(`job ${id} ended ${last.state} while waiting for ${what}: ${JSON.stringify(last)}`);
    } catch (err) {
      if ((err as Error).message.startsWith(`job ${id} ended`)) throw err;
      lastError = err; // e.g. the server is restarting
    }
    await delay(250);
  }
  throw new Error(`job ${id}: no ${what} within ${timeoutMs} ms; last: ${JSON.stringify(last)} ${lastError ? String(lastError) : ''}`);
}

/** The text at a job's /logs or /items URL. */
export async function jobFile(
  server: TestServer,
  auth: string | undefined,
  kind: 'logs' | 'items',
  spider: string,
  id: string,
  project = PROJECT,
): Promise<string> {
  const path = `/${kind}/${project}/${spider}/${id}.${kind === 'logs' ? 'log' : 'jl'}`;
  const reply = await request(server, 'GET', path, { auth });
  if (reply.status !== 200) throw new Error(`GET ${path} failed: ${reply.status} ${reply.text}`);
  return reply.text;
}

export function lines(text: string): string[] {
  return text.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1);
}

/** A node key and its secret, made by the admin (REST CreateNodeKey). */
export async function createNodeKey(server: TestServer, auth: string): Promise<{ name: string; secret: string }> {
  const reply = await request(server, 'POST', '/v1/nodeKeys', { auth, json: { tags: [] } });
  if (reply.status !== 200) throw new Error(`CreateNodeKey failed: ${reply.status} ${reply.text}`);
  return { name: reply.json.name as string, secret: reply.json.secret as string };
}

/** Whether the process group led by `pid` (a job's crawl) has no process left. */
export function processGroupGone(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return false;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return true;
    throw err;
  }
}

/** A node key and its secret, made on the server's machine with `scrapydd nodekey create`. */
export async function createNodeKeyWithCli(server: TestServer): Promise<{ name: string; secret: string }> {
  const made = await server.cli(['nodekey', 'create']);
  const key = /^node key: (\S+)$/m.exec(made.stdout)?.[1];
  const secret = /^secret: +(\S+)$/m.exec(made.stdout)?.[1];
  if (made.code !== 0 || !key || !secret) throw new Error(`scrapydd nodekey create failed (${made.code}): ${made.stdout} ${made.stderr}`);
  return { name: key, secret };
}
