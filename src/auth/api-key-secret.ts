/**
 * API key secrets: `sdk_<key id>_<43 random base64url chars>`. The key id in
 * the secret finds the row; only a SHA-256 of the secret is stored (the
 * secret has 256 random bits, so a slow hash adds nothing).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const PATTERN = /^sdk_(\d{1,20})_([A-Za-z0-9_-]{43})$/;

export function makeApiKeySecret(keyId: string): string {
  return `sdk_${keyId}_${randomBytes(32).toString('base64url')}`;
}

/** The key id inside a secret, or undefined when it is not one of ours. */
export function apiKeyIdOf(secret: string): string | undefined {
  return PATTERN.exec(secret)?.[1];
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
