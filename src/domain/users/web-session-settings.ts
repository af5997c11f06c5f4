/** How long a web UI sign-in lasts: idle (renewed by use) and absolute. */
export interface WebSessionSettings {
  /** A session unused this long ends (web_session_ttl). */
  readonly idleSeconds: number;
  /** A session ends this long after sign-in, however busy (web_session_max_age). */
  readonly maxAgeSeconds: number;
}

export const DEFAULT_WEB_SESSION_SETTINGS: WebSessionSettings = { idleSeconds: 12 * 3600, maxAgeSeconds: 7 * 24 * 3600 };
