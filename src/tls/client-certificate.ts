/** The verified client certificate of a TLS connection, and the node an agent certificate (CN nodes/<id>) names. */
import { TLSSocket, type PeerCertificate } from 'node:tls';
import type { ClientCertificate } from '../server/call-context.js';

const NODE_NAME = /^nodes\/([1-9]\d{0,18})$/;
const INT64_MAX = 2n ** 63n - 1n;

/** A peer certificate (already verified against the CA) as IncomingCall carries it; undefined without one. */
export function toClientCertificate(peer: PeerCertificate | undefined): ClientCertificate | undefined {
  const cn: unknown = peer?.subject?.CN;
  // Several CNs (Node gives an array) are ambiguous: no identity.
  if (!peer?.raw || typeof cn !== 'string' || cn === '') return undefined;
  return { commonName: cn, fingerprint256: peer.fingerprint256 };
}

/** For HTTP/1.1 over TLS: the socket's client certificate, only when the handshake verified it. */
export function socketClientCertificate(socket: unknown): ClientCertificate | undefined {
  if (!(socket instanceof TLSSocket) || !socket.authorized) return undefined;
  return toClientCertificate(socket.getPeerCertificate());
}

/** `nodes/<id>` → `<id>` when it is a well-formed node name (positive int64 id), else undefined. */
export function nodeIdOfName(name: string): string | undefined {
  const id = NODE_NAME.exec(name)?.[1];
  return id !== undefined && BigInt(id) <= INT64_MAX ? id : undefined;
}
