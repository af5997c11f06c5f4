/** scrapydd.v1.NodeKeyService over the domain: one-time node registration keys (admins only). */
import { NodeKeyServiceService, type NodeKey as NodeKeyProto } from '../../../gen/scrapydd/v1/node_key.js';
import type { Deps } from '../../domain/deps.js';
import * as keys from '../../domain/nodes/node-key-service.js';
import { nodeKeyName } from '../../domain/nodes/node-names.js';
import { bind, type ServiceBinding } from './service-binding.js';

export function nodeKeyToProto(k: keys.NodeKey): NodeKeyProto {
  return {
    name: nodeKeyName(k.id),
    secret: k.secret ?? '',
    tags: k.tags,
    expireTime: k.expireTime,
    createTime: k.createTime,
  };
}

export function nodeKeyService(deps: Deps): ServiceBinding {
  return bind('scrapydd.v1.NodeKeyService', NodeKeyServiceService, {
    async createNodeKey(req, ctx) {
      return nodeKeyToProto(await keys.createNodeKey(deps, ctx.principal, { tags: req.nodeKey?.tags ?? [] }));
    },
    async listNodeKeys(req, ctx) {
      const { items, nextPageToken } = await keys.listNodeKeys(deps, ctx.principal, req);
      return { nodeKeys: items.map(nodeKeyToProto), nextPageToken };
    },
    async deleteNodeKey(req, ctx) {
      await keys.deleteNodeKey(deps, ctx.principal, req.name);
      return {};
    },
  });
}
