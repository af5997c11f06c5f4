/** `scrapydd agent -g`: NodeService.CreateNode with a node key and its secret (no credentials), then the node file. */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { Node } from '../../gen/scrapydd/v1/node.js';
import type { AgentConfig } from '../config/types.js';
import { readNodeFile, writeNodeFile, type NodeIdentity } from './identity.js';
import { clientsFor, describeGrpcError } from './server-clients.js';

export interface RegistrationInput {
  nodeKey: string;
  nodeKeySecret: string;
  displayName?: string;
  /** Replace an existing node file. */
  force?: boolean;
}

export class RegistrationError extends Error {
  override readonly name = 'RegistrationError';
}

/** Registers a permanent node on the first server that answers and stores its credentials. */
export async function registerNode(config: AgentConfig, input: RegistrationInput, logger: Logger): Promise<{ node: Node; identity: NodeIdentity }> {
  const nodeKey = input.nodeKey.trim();
  const secret = input.nodeKeySecret.trim();
  if (nodeKey === '' || secret === '') throw new RegistrationError('a node key and its secret are both needed');
  const existing = await readNodeFile(config.nodeFile).catch(() => undefined);
  if (existing && !input.force) {
    throw new RegistrationError(
      `this agent is already registered as ${existing.node} (node file ${config.nodeFile}); ` +
        'delete that file (or pass --force) to register a new node',
    );
  }
  let lastError: unknown;
  for (const server of config.servers) {
    const clients = clientsFor(config, server);
    try {
      const node = await new Promise<Node>((resolve, reject) => {
        clients.nodes.createNode(
          { node: Node.fromPartial({ nodeKey, tags: [...config.tags], displayName: input.displayName ?? '' }), nodeKeySecret: secret },
          new grpc.Metadata(),
          { deadline: Date.now() + config.requestTimeoutSeconds * 1000 },
          (err, res) => (err ? reject(err) : resolve(res)),
        );
      });
      if (!/^nodes\/\d+$/.test(node.name) || node.nodeSecret === '') {
        throw new RegistrationError(`the server answered CreateNode without a node name or secret`);
      }
      const identity: NodeIdentity = { node: node.name, token: node.nodeSecret, server: clients.target };
      await writeNodeFile(config.nodeFile, identity);
      logger.info({ node: node.name, server: clients.target }, 'node registered');
      return { node, identity };
    } catch (err) {
      if (err instanceof RegistrationError) throw err;
      const code = (err as grpc.ServiceError).code;
      const { code: name, message } = describeGrpcError(err);
      if (code !== grpc.status.UNAVAILABLE && code !== grpc.status.DEADLINE_EXCEEDED) {
        throw new RegistrationError(`${clients.target} refused the registration: ${name}: ${message}`);
      }
      logger.warn({ server: clients.target, code: name, err: message }, 'server unreachable; trying the next one');
      lastError = err;
    } finally {
      clients.close();
    }
  }
  const { code, message } = describeGrpcError(lastError);
  throw new RegistrationError(`no server answered (${code}: ${message})`);
}
