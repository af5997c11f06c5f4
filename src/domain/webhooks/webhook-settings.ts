/** How webhooks are delivered (webhook_* keys of [server]). */
export interface WebhookSettings {
  /** Let webhooks reach loopback, private and other non-public addresses. */
  readonly allowPrivate: boolean;
  /** Requests per item before its delivery is FAILED. */
  readonly maxAttempts: number;
  /** Time limit of one request. */
  readonly timeoutMs: number;
}

export const DEFAULT_WEBHOOK_SETTINGS: WebhookSettings = { allowPrivate: false, maxAttempts: 8, timeoutMs: 30_000 };
