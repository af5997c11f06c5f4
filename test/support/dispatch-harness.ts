/** A server (or two on one database) with the quotes egg uploaded, and helpers to drive jobs over its APIs. */
import { buildEgg } from './eggs.js';
import { createTestDatabase, type TestDatabase, type TestDatabaseKind } from './databases.js';
import { basic, startTestServer, type TestServer } from './server-process.js';
import { readFile } from 'node:fs/promises';

export const ADMIN = basic('admin', 'admin-password');

export interface DispatchEnv {
  db: TestDatabase;
  servers: TestServer[];
  close(): Promise<void>;
}

export const FAST_LIVENESS = { heartbeat_interval: '1', node_timeout: '3', cancel_grace: '2' };

export async function startDispatchEnv(
  kind: TestDatabaseKind,
  count = 1,
  settings: Record<string, string> = {},
  env: Record<string, string> = {},
): Promise<DispatchEnv> {
  const db = await createTestDatabase(kind);
  const servers: TestServer[] = [];
  try {
    for (let i = 0; i < count; i++) servers.push(await startTestServer({ databaseUrl: db.url, settings: { ...FAST_LIVENESS, ...settings }, env }));
    const first = servers[0]!;
    const added = await first.cli(['adduser', 'admin', '--admin'], 'admin-password\n');
    if (added.code !== 0) throw new Error(added.stderr);
    const egg = await readFile(await buildEgg('quotes'));
    const form = new FormData();
    form.set('project', 'quotes');
    form.set('version', 'r1');
    form.set('egg', new Blob([egg]), 'quotes.egg');
    const res = await fetch(`${first.baseUrl}/addversion.json`, { method: 'POST', body: form, headers: { authorization: ADMIN } });
    const body = (await res.json()) as { status: string };
    if (body.status !== 'ok') throw new Error(`upload failed: ${JSON.stringify(body)}`);
  } catch (err) {
    for (const s of servers) await s.stop();
    await db.drop();
    throw err;
  }
  return {
    db,
    servers,
    async close() {
      for (const s of servers) await s.stop();
      await db.drop();
    },
  };
}

export async function scrapyd(server: TestServer, endpoint: string, params: Record<string, string> | URLSearchParams, method: 'GET' | 'POST' = 'POST'): Promise<Record<string, unknown>> {
  const q = params instanceof URLSearchParams ? params : new URLSearchParams(params);
  const url = method === 'GET' ? `${server.baseUrl}/${endpoint}?${q}` : `${server.baseUrl}/${endpoint}`;
  const res = await fetch(url, { method, headers: { authorization: ADMIN }, ...(method === 'POST' ? { body: q } : {}), signal: AbortSignal.timeout(30_000) });
  return (await res.json()) as Record<string, unknown>;
}

export async function rest(server: TestServer, method: string, path: string, json?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers: { authorization: ADMIN, 'content-type': 'application/json' },
    body: json === undefined ? undefined : JSON.stringify(json),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export async function jobState(server: TestServer, spider: string, key: string): Promise<string> {
  const { body } = await rest(server, 'GET', `/v1/projects/quotes/spiders/${spider}/jobs/${key}`);
  return String(body.state);
}

export async function setSpider(server: TestServer, spider: string, settings: Record<string, unknown>): Promise<void> {
  const mask = Object.keys(settings).map((k) => `settings.${k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`).join(',');
  const { status, body } = await rest(server, 'PATCH', `/v1/projects/quotes/spiders/${spider}?updateMask=${mask}`, { settings });
  if (status !== 200) throw new Error(`PATCH spider: ${status} ${JSON.stringify(body)}`);
}

/** A permanent node's token, via the node key CLI and keyless registration over REST. */
export async function registerNode(server: TestServer, tags: string[] = []): Promise<{ node: string; token: string }> {
  const key = await server.cli(['nodekey', 'create']);
  if (key.code !== 0) throw new Error(key.stderr);
  const id = /node key:\s*(\S+)/.exec(key.stdout)?.[1];
  const secret = /secret:\s*(\S+)/.exec(key.stdout)?.[1];
  if (!id || !secret) throw new Error(`unexpected nodekey output: ${key.stdout}`);
  const res = await fetch(`${server.baseUrl}/v1/nodes?nodeKeySecret=${encodeURIComponent(secret)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ nodeKey: id, tags }),
  });
  const body = (await res.json()) as { name?: string; nodeSecret?: string };
  if (!body.name || !body.nodeSecret) throw new Error(`registration failed: ${res.status} ${JSON.stringify(body)}`);
  return { node: body.name, token: body.nodeSecret };
}
