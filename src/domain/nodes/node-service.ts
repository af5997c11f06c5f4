/**
 * Nodes: registration of permanent nodes with a node key, temporary nodes
 * (authentication off), node tokens, and the admin API (get, list, update, delete).
 */
import { hashSecret, secretMatches } from '../../auth/api-key-secret.js';
import { isNodeToken, makeNodeToken, nodeIdOfToken } from '../../auth/node-token.js';
import type { Principal } from '../../auth/principal.js';
import { InvalidArgument, NotFound, Unauthenticated } from '../../errors/domain-error.js';
import * as repo from '../../storage/nodes-repo.js';
import type { Deps } from '../deps.js';
import { decodePageToken, page, pageSize } from '../pagination.js';
import { requireAdmin } from '../users/user-service.js';
import { randomDisplayName } from './display-names.js';
import { nodeEvents } from './node-events.js';
import { parseNodeFilter } from './node-filter.js';
import { nodeName, parseNodeKeyRef, parseNodeName } from './node-names.js';
import { normalizeTags } from './tags.js';

/** A node row; `secret` (the node token) only in CreateNode's answer. */
export type Node = repo.NodeRow & { secret?: string };

const MAX_DISPLAY_NAME = 100;

function checkDisplayName(value: string, field: string): string {
  const name = value.trim();
  if (name === '' || name.length > MAX_DISPLAY_NAME || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new InvalidArgument(`display_name must be 1-${MAX_DISPLAY_NAME} printable characters`, { field });
  }
  return name;
}

/** One answer for every bad key: unknown, revoked, expired, used, or a wrong secret. */
const badKey = () =>
  new Unauthenticated('the node key is unknown, expired or already used, or its secret does not match', {
    reason: 'INVALID_NODE_KEY',
  });

/**
 * Registers a permanent node with a node key and its secret (the key is the
 * credential: callers need no user). The key is spent in the same
 * transaction as the node is created, by one conditional UPDATE, so a key
 * registers at most one node. Tags are the request's plus the key's.
 */
export async function registerNode(
  deps: Deps,
  input: { nodeKey: string; nodeKeySecret: string; displayName: string; tags: readonly string[]; clientIp: string },
  now: Date = new Date(),
): Promise<Node> {
  if (input.nodeKey === '' || input.nodeKeySecret === '') {
    throw new Unauthenticated('registering a node needs node.node_key and node_key_secret');
  }
  const keyId = parseNodeKeyRef(input.nodeKey);
  const displayName = input.displayName === '' ? randomDisplayName() : checkDisplayName(input.displayName, 'node.display_name');
  const ownTags = normalizeTags(input.tags, 'node.tags');
  const id = deps.ids.next();
  const token = makeNodeToken(id);
  const node = await deps.db.transaction(async (tx) => {
    const key = await repo.findNodeKey(tx, keyId);
    if (!key || !secretMatches(input.nodeKeySecret, key.secretHash)) throw badKey();
    const spent = await repo.consumeNodeKey(tx, keyId, now);
    if (!spent) throw badKey();
    await repo.insertNode(tx, {
      id,
      displayName,
      tags: normalizeTags([...ownTags, ...spent.tags], 'node.tags'),
      secretHash: hashSecret(token),
      temporary: false,
      clientIp: input.clientIp,
    });
    return (await repo.findNode(tx, id))!;
  });
  deps.logger.info({ node: id, nodeKey: keyId, displayName, clientIp: input.clientIp }, 'node registered');
  return { ...node, secret: token };
}

/**
 * A node for an agent that connects while authentication is off: temporary,
 * randomly named, without a token; a new one for every session (it stays
 * listed, offline, afterwards).
 */
export async function createTemporaryNode(
  deps: Deps,
  input: { tags: readonly string[]; clientIp: string; slots: number; agentVersion: string },
): Promise<repo.NodeRow> {
  const id = deps.ids.next();
  await repo.insertNode(deps.db, {
    id,
    displayName: randomDisplayName(),
    tags: normalizeTags(input.tags, 'tags'),
    secretHash: undefined,
    temporary: true,
    clientIp: input.clientIp,
    slots: input.slots,
    agentVersion: input.agentVersion,
  });
  deps.logger.info({ node: id, clientIp: input.clientIp }, 'temporary node created');
  return (await repo.findNode(deps.db, id))!;
}

/**
 * The principal of a node token (`Authorization: Bearer sdn_...`), or
 * undefined when `token` is not a node token at all. A malformed token, an
 * unknown or deleted node or a wrong secret are UNAUTHENTICATED.
 */
export async function authenticateNodeToken(deps: Deps, token: string): Promise<Principal | undefined> {
  if (!isNodeToken(token)) return undefined;
  const id = nodeIdOfToken(token);
  const node = id === undefined ? undefined : await repo.findNode(deps.db, id);
  if (!node?.secretHash || !secretMatches(token, node.secretHash)) {
    throw new Unauthenticated('invalid node token', { reason: 'BAD_CREDENTIALS' });
  }
  return { userId: undefined, username: nodeName(node.id), admin: false, method: 'node-token', nodeId: node.id };
}

// ---- the admin API: every node method below is for admins only ----

export async function getNode(deps: Deps, principal: Principal, name: string): Promise<Node> {
  requireAdmin(principal);
  const id = parseNodeName(name);
  const node = await repo.findNode(deps.db, id);
  if (!node) throw new NotFound(`node '${name}' not found`);
  return node;
}

export async function listNodes(
  deps: Deps,
  principal: Principal,
  req: { pageSize: number; pageToken: string; filter: string },
): Promise<{ items: Node[]; nextPageToken: string }> {
  requireAdmin(principal);
  const filter = parseNodeFilter(req.filter);
  const size = pageSize(req.pageSize);
  const scope = `nodes:${req.filter.trim()}`;
  const after = decodePageToken(req.pageToken, scope) ?? '0';
  const rows = await repo.listNodes(deps.db, filter, after, size + 1);
  return page(rows, size, scope, (n) => n.id);
}

export async function updateNode(
  deps: Deps,
  principal: Principal,
  name: string,
  changes: { displayName?: string; tags?: readonly string[] },
): Promise<Node> {
  requireAdmin(principal);
  const id = parseNodeName(name, 'node.name');
  const displayName = changes.displayName === undefined ? undefined : checkDisplayName(changes.displayName, 'node.display_name');
  const tags = changes.tags === undefined ? undefined : normalizeTags(changes.tags, 'node.tags');
  if (!(await repo.updateNode(deps.db, id, { displayName, tags }))) throw new NotFound(`node '${name}' not found`);
  deps.logger.info({ node: id, by: principal.username, displayName, tags }, 'node updated');
  return (await repo.findNode(deps.db, id))!;
}

/** Deletes a node and its sessions, then emits nodeEvents 'deleted' so its stream ends. */
export async function deleteNode(deps: Deps, principal: Principal, name: string): Promise<void> {
  requireAdmin(principal);
  const id = parseNodeName(name);
  if (!(await repo.deleteNode(deps.db, id))) throw new NotFound(`node '${name}' not found`);
  deps.logger.info({ node: id, by: principal.username }, 'node deleted');
  nodeEvents.emit('deleted', id);
}
