/** Node keys: one-time, short-lived credentials an admin hands to a machine to register it as a node. */
import { hashSecret } from '../../auth/api-key-secret.js';
import { makeNodeKeySecret } from '../../auth/node-token.js';
import type { Principal } from '../../auth/principal.js';
import { NotFound } from '../../errors/domain-error.js';
import * as repo from '../../storage/nodes-repo.js';
import type { Deps } from '../deps.js';
import { decodePageToken, page, pageSize } from '../pagination.js';
import { requireAdmin } from '../users/user-service.js';
import { parseNodeKeyName } from './node-names.js';
import { normalizeTags } from './tags.js';

/** A key row; `secret` only in CreateNodeKey's answer. */
export type NodeKey = repo.NodeKeyRow & { secret?: string };

/**
 * Creates a key valid for `node_key_ttl` seconds from `now`; `by` undefined
 * means the command line on the server machine.
 */
export async function createNodeKey(
  deps: Deps,
  by: Principal | undefined,
  input: { tags: readonly string[] },
  now: Date = new Date(),
): Promise<NodeKey> {
  if (by) requireAdmin(by);
  const tags = normalizeTags(input.tags, 'node_key.tags');
  const secret = makeNodeKeySecret();
  const row = await repo.insertNodeKey(deps.db, {
    id: deps.ids.next(),
    secretHash: hashSecret(secret),
    tags,
    creatorId: by?.userId,
    createdAt: now,
    expiresAt: new Date(now.getTime() + deps.settings.nodeKeyTtlSeconds * 1000),
  });
  deps.logger.info({ nodeKey: row.id, by: by?.username ?? 'cli', expires: row.expireTime }, 'node key created');
  return { ...row, secret };
}

/** Keys that can still register a node (unused, unexpired), oldest first. Admins only. */
export async function listNodeKeys(
  deps: Deps,
  principal: Principal,
  req: { pageSize: number; pageToken: string },
  now: Date = new Date(),
): Promise<{ items: NodeKey[]; nextPageToken: string }> {
  requireAdmin(principal);
  const size = pageSize(req.pageSize);
  const after = decodePageToken(req.pageToken, 'nodeKeys') ?? '0';
  const rows = await repo.listUsableNodeKeys(deps.db, now, after, size + 1);
  return page(rows, size, 'nodeKeys', (k) => k.id);
}

/** Revokes a key (used or not). Admins only. */
export async function deleteNodeKey(deps: Deps, principal: Principal, name: string): Promise<void> {
  requireAdmin(principal);
  const id = parseNodeKeyName(name);
  if (!(await repo.deleteNodeKey(deps.db, id))) throw new NotFound(`node key '${name}' not found`);
  deps.logger.info({ nodeKey: id, by: principal.username }, 'node key revoked');
}
