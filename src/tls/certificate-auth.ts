/** Client-certificate authentication: a verified certificate with CN nodes/<id> of an existing node is that node. */
import type { Principal } from '../auth/principal.js';
import type { Deps } from '../domain/deps.js';
import { Unauthenticated } from '../errors/domain-error.js';
import type { IncomingCall } from '../server/call-context.js';
import { findNode } from '../storage/nodes-repo.js';
import { nodeIdOfName } from './client-certificate.js';

/**
 * The node the call's client certificate names. Undefined without a
 * certificate, when its CN is not a node name (it proves nothing here), and
 * on public calls (node registration): a certificate comes with every call of
 * its connection, unasked, so it must not turn those into node calls. A node
 * that does not exist (deleted, never registered) is UNAUTHENTICATED.
 */
export async function authenticateClientCertificate(deps: Deps, call: IncomingCall): Promise<Principal | undefined> {
  const cert = call.clientCertificate;
  const nodeId = cert && !call.public ? nodeIdOfName(cert.commonName) : undefined;
  if (nodeId === undefined) return undefined;
  if (!(await findNode(deps.db, nodeId))) {
    throw new Unauthenticated(`the client certificate is for nodes/${nodeId}, which does not exist`, {
      reason: 'UNKNOWN_NODE',
      metadata: { node: `nodes/${nodeId}` },
    });
  }
  return { userId: undefined, username: `nodes/${nodeId}`, admin: false, method: 'client-certificate', nodeId };
}
