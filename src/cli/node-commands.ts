/** `scrapydd nodekey create|list` and `scrapydd node list`: node registration keys and nodes, on the database directly. */
import type { Command } from 'commander';
import { LOCAL_ADMIN } from '../auth/principal.js';
import type { Node } from '../domain/nodes/node-service.js';
import { collectAll } from '../domain/pagination.js';
import { withApp } from './with-app.js';

// The services are loaded on use, so the other commands start without them.
const nodeKeys = () => import('../domain/nodes/node-key-service.js');
const nodes = () => import('../domain/nodes/node-service.js');

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
      const { createNodeKey } = await nodeKeys();
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
      const { listNodeKeys } = await nodeKeys();
      const keys = await withApp(program, (app) =>
        collectAll((pageToken) => listNodeKeys(app.deps, LOCAL_ADMIN, { pageSize: 1000, pageToken })),
      );
      process.stdout.write(table(['KEY', 'EXPIRES', 'TAGS'], keys.map((k) => [k.id, k.expireTime, k.tags.join(',') || '-'])));
    });

  const node = program.command('node').description('worker nodes');

  node
    .command('list')
    .description('list nodes')
    .option('--filter <filter>', 'e.g. \'is_online = true\', \'tags:"x"\'', '')
    .action(async (flags: { filter: string }) => {
      const { listNodes } = await nodes();
      const all = await withApp(program, (app) =>
        collectAll((pageToken) => listNodes(app.deps, LOCAL_ADMIN, { pageSize: 1000, pageToken, filter: flags.filter })),
      );
      process.stdout.write(
        table(['ID', 'NAME', 'STATE', 'KIND', 'TAGS', 'CLIENT IP', 'LAST HEARTBEAT'], all.map(nodeCells)),
      );
    });
}
