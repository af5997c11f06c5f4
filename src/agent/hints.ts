/** What to tell the operator when a server refuses the agent's session. */
import type { AgentConfig } from '../config/types.js';
import type { NodeIdentity } from './identity.js';

export function refusalHint(config: AgentConfig, identity: NodeIdentity | undefined): string {
  if (!identity && config.certFile) {
    return (
      `the server refused the client certificate ${config.certFile}: it must be issued for a registered node ` +
      '(CN nodes/<id>) by the CA the server trusts, or register with `scrapydd agent -g`'
    );
  }
  if (!identity) {
    return (
      'the server refused a temporary node (its enable_authentication is on): register this machine as a permanent node ' +
      `with \`scrapydd agent -g\` (it asks for a node key and its secret from the admin) and start the agent again`
    );
  }
  return (
    `the server refused ${identity.node} (node file ${config.nodeFile}): the node may have been deleted or its token ` +
    'revoked; remove the node file and register again with `scrapydd agent -g`'
  );
}
