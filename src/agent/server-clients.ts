/** gRPC clients of the agent's configured servers: targets, channel credentials, keepalive, call metadata. */
import * as grpc from '@grpc/grpc-js';
import { NodeServiceClient } from '../../gen/scrapydd/v1/node.js';
import { NodeSessionServiceClient } from '../../gen/scrapydd/v1/node_session.js';
import type { AgentConfig, HostPort } from '../config/types.js';
import { agentChannelCredentials } from '../tls/agent-credentials.js';

/** host:port as grpc-js takes it ([v6]:port for IPv6 literals). */
export function targetOf(server: HostPort): string {
  return server.host.includes(':') ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`;
}

const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  // A server that vanished without closing the connection is noticed within ~50 s.
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 20_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.max_receive_message_length': 16 * 1024 * 1024,
  // Our own loop reconnects with backoff; keep grpc-js from waiting long inside a call.
  'grpc.initial_reconnect_backoff_ms': 500,
  'grpc.max_reconnect_backoff_ms': 5_000,
};

export interface ServerClients {
  readonly server: HostPort;
  readonly target: string;
  readonly sessions: NodeSessionServiceClient;
  readonly nodes: NodeServiceClient;
  close(): void;
}

/** Clients of one server; both share one channel (grpc-js pools channels with equal target and options). */
export function clientsFor(agent: AgentConfig, server: HostPort): ServerClients {
  const creds = agentChannelCredentials(agent);
  const target = targetOf(server);
  const sessions = new NodeSessionServiceClient(target, creds, CHANNEL_OPTIONS);
  const nodes = new NodeServiceClient(target, creds, CHANNEL_OPTIONS);
  return {
    server,
    target,
    sessions,
    nodes,
    close() {
      sessions.close();
      nodes.close();
    },
  };
}

/** Call metadata: the node token as a bearer credential, or nothing (temporary node, or mTLS). */
export function metadataFor(token: string | undefined): grpc.Metadata {
  const md = new grpc.Metadata();
  if (token) md.set('authorization', `Bearer ${token}`);
  return md;
}

/** A short description of a gRPC error for logs and hints (code name and details). */
export function describeGrpcError(err: unknown): { code: string; message: string } {
  const e = err as Partial<grpc.ServiceError>;
  if (typeof e.code === 'number') {
    return { code: grpc.status[e.code] ?? String(e.code), message: e.details || e.message || '' };
  }
  return { code: 'UNKNOWN', message: err instanceof Error ? err.message : String(err) };
}

export function isAuthError(err: unknown): boolean {
  const code = (err as Partial<grpc.ServiceError>).code;
  return code === grpc.status.UNAUTHENTICATED || code === grpc.status.PERMISSION_DENIED;
}
