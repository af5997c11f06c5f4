/** Who a call acts as. */
export interface Principal {
  /** users.id; undefined for the local admin of an unauthenticated server. */
  readonly userId: string | undefined;
  readonly username: string;
  readonly admin: boolean;
  /** How the caller proved it: password, api-key, a web UI session cookie, a node's token or client certificate, or none (authentication off). */
  readonly method: 'password' | 'api-key' | 'web-session' | 'node-token' | 'client-certificate' | 'none';
  /** Set when the caller is an agent (a node), nodes/{nodeId}; such callers reach only the agent methods. */
  readonly nodeId?: string;
  /** Set when the caller signed in through the web UI: its session (web_sessions.id). */
  readonly webSessionId?: string;
}

/** Every call when `enable_authentication = false`. */
export const LOCAL_ADMIN: Principal = Object.freeze({
  userId: undefined,
  username: 'local',
  admin: true,
  method: 'none',
});
