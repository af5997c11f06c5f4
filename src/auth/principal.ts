/** Who a call acts as. */
export interface Principal {
  /** users.id; undefined for the local admin of an unauthenticated server. */
  readonly userId: string | undefined;
  readonly username: string;
  readonly admin: boolean;
  /** How the caller proved it: password, api-key, or none (authentication off). */
  readonly method: 'password' | 'api-key' | 'none';
}

/** Every call when `enable_authentication = false`. */
export const LOCAL_ADMIN: Principal = Object.freeze({
  userId: undefined,
  username: 'local',
  admin: true,
  method: 'none',
});
