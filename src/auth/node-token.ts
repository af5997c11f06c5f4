/**
 * Node credentials: the token a registered node signs in with,
 * `sdn_<node id>_<43 random base64url chars>`, and the secret of a node key.
 * Only SHA-256 hashes of either are stored (see api-key-secret.ts).
 */
import { randomBytes } from 'node:crypto';

const TOKEN = /^sdn_(\d{1,20})_([A-Za-z0-9_-]{43})$/;

/** The prefix that tells a node token from an API key in `Authorization: Bearer`. */
export const NODE_TOKEN_PREFIX = 'sdn_';

export function makeNodeToken(nodeId: string): string {
  return `${NODE_TOKEN_PREFIX}${nodeId}_${randomBytes(32).toString('base64url')}`;
}

/** The node id inside a token, or undefined when it is not a well-formed node token. */
export function nodeIdOfToken(token: string): string | undefined {
  return TOKEN.exec(token)?.[1];
}

export function isNodeToken(token: string): boolean {
  return token.startsWith(NODE_TOKEN_PREFIX);
}

/** A node key's secret: 256 random bits as 43 base64url chars. */
export function makeNodeKeySecret(): string {
  return randomBytes(32).toString('base64url');
}
