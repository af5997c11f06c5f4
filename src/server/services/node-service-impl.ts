/** scrapydd.v1.NodeService over the domain: CreateNode (node key credentials) and the admin node API. */
import { NodeServiceService, type Node as NodeProto } from '../../../gen/scrapydd/v1/node.js';
import type { Deps } from '../../domain/deps.js';
import { nodeName } from '../../domain/nodes/node-names.js';
import * as nodes from '../../domain/nodes/node-service.js';
import { InvalidArgument } from '../../errors/domain-error.js';
import { bind, type ServiceBinding } from './service-binding.js';

const UPDATABLE = new Set(['display_name', 'tags']);

export function nodeToProto(n: nodes.Node): NodeProto {
  return {
    name: nodeName(n.id),
    id: n.id,
    displayName: n.displayName,
    tags: n.tags,
    nodeKey: '',
    isOnline: n.isOnline,
    clientIp: n.clientIp,
    temporary: n.temporary,
    slots: n.slots,
    runningJobs: n.runningJobs,
    agentVersion: n.agentVersion,
    lastHeartbeatTime: n.lastHeartbeatTime,
    createTime: n.createTime,
    nodeSecret: n.secret ?? '',
  };
}

export function nodeService(deps: Deps): ServiceBinding {
  return bind('scrapydd.v1.NodeService', NodeServiceService, {
    // Public: SELF_AUTHENTICATING_METHODS in pipeline.ts; the node key and its secret are the credential.
    async createNode(req, ctx) {
      const node = req.node;
      return nodeToProto(
        await nodes.registerNode(deps, {
          nodeKey: node?.nodeKey ?? '',
          nodeKeySecret: req.nodeKeySecret,
          displayName: node?.displayName ?? '',
          tags: node?.tags ?? [],
          clientIp: ctx.call.peerAddress,
        }),
      );
    },
    async getNode(req, ctx) {
      return nodeToProto(await nodes.getNode(deps, ctx.principal, req.name));
    },
    async listNodes(req, ctx) {
      const { items, nextPageToken } = await nodes.listNodes(deps, ctx.principal, req);
      return { nodes: items.map(nodeToProto), nextPageToken };
    },
    async updateNode(req, ctx) {
      const node = req.node;
      if (!node) throw new InvalidArgument('node is required', { field: 'node' });
      const mask = (req.updateMask ?? []).map((p) => (p === 'displayName' ? 'display_name' : p));
      if (mask.length === 0) throw new InvalidArgument('update_mask is required (display_name, tags)', { field: 'update_mask' });
      for (const path of mask) {
        if (!UPDATABLE.has(path)) throw new InvalidArgument(`'${path}' cannot be updated`, { field: 'update_mask' });
      }
      return nodeToProto(
        await nodes.updateNode(deps, ctx.principal, node.name, {
          displayName: mask.includes('display_name') ? node.displayName : undefined,
          tags: mask.includes('tags') ? node.tags : undefined,
        }),
      );
    },
    async deleteNode(req, ctx) {
      await nodes.deleteNode(deps, ctx.principal, req.name);
      return {};
    },
  });
}
