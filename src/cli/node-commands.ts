/** `scrapydd nodekey create|list` and `scrapydd node list`: node registration keys and nodes, on the database directly. */
import type { Command } from 'commander';
import { LOCAL_ADMIN } from '../auth/principal.js';
import { loadConfig } from '../config/load.js';
import { createNodeKey, listNodeKeys } from '../domain/nodes/node-key-service.js';
import { listNodes, type Node } from '../domain/nodes/node-service.js';
import { openAppContext, type AppContext } from '../server/app-context.js';
import { createLogger } from '../server/logging.js';

async function withApp<T>(program: Command, fn: (app: AppContext) => Promise<T>): Promise<T> {
  const config = loadConfig({ configFile: program.opts<{ config?: string }>().config });
  const logger = createLogger({ debug: config.server.debug, format: config.server.logFormat, name: 'scrapydd' });
  logger.level = config.server.debug ? 'debug' : 'warn';
  const app = await openAppContext(config.server, logger);
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

/** Every page of a paged list. */
async function all<T>(list: (pageToken: string) => Promise<{ items: T[]; nextPageToken: string }>): Promise<T[]> {
  const items: T[] = [];
  let token = '';
  do {
    const page = await list(token);
    items.push(...page.items);
    token = page.nextPageToken;
  } while (token !== '');
  return items;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

const collect = (value: string, previous: string[]) => [...previous, value];

function nodeCells(n: Node): string[] {
  return [n.id, n.displayName, n.isOnline ? 'online' : 'offline', n.temporary ? 'temporary' : 'permanent',
    n.tags.join(',') || '-', n.clientIp || '-', n.lastHeartbeatTime ?? '-'];
}

export function registerNodeCommands(program: Command): void {
  const nodekey = program.command('nodekey').description('one-time keys that register permanent nodes');

  nodekey
    .command('create')
    .description('create a node key; its secret is printed once (valid for node_key_ttl seconds, usable once)')
    .option('--tag <tag>', 'a tag the registered node gets (repeatable)', collect, [] as string[])
    .action(async (flags: { tag: string[] }) => {
      const key = await withApp(program, (app) => createNodeKey(app.deps, undefined, { tags: flags.tag }));
      process.stdout.write(
        `node key: ${key.id}\nsecret:   ${key.secret}\nexpires:  ${key.expireTime}\n` +
          `tags:     ${key.tags.join(', ') || '-'}\n`,
      );
    });

  nodekey
    .command('list')
    .description('list node keys that are neither used nor expired')
    .action(async () => {
      const keys = await withApp(program, (app) =>
        all((pageToken) => listNodeKeys(app.deps, LOCAL_ADMIN, { pageSize: 1000, pageToken })),
      );
      process.stdout.write(table(['KEY', 'EXPIRES', 'TAGS'], keys.map((k) => [k.id, k.expireTime, k.tags.join(',') || '-'])));
    });

  const node = program.command('node').description('worker nodes');

  node
    .command('list')
    .description('list nodes')
    .option('--filter <filter>', 'e.g. \'is_online = true\', \'tags:"x"\'', '')
    .action(async (flags: { filter: string }) => {
      const nodes = await withApp(program, (app) =>
        all((pageToken) => listNodes(app.deps, LOCAL_ADMIN, { pageSize: 1000, pageToken, filter: flags.filter })),
      );
      process.stdout.write(
        table(['ID', 'NAME', 'STATE', 'KIND', 'TAGS', 'CLIENT IP', 'LAST HEARTBEAT'], nodes.map(nodeCells)),
      );
    });
}
