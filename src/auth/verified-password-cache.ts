/**
 * Remembers, for a short time, that a password matched a stored hash. Keys
 * are HMACs under a per-process random key of (stored hash, password), so a
 * changed password (new stored hash) never matches, and nothing reversible is
 * kept in memory.
 */
import { createHmac, randomBytes } from 'node:crypto';

export class VerifiedPasswordCache {
  private readonly key = randomBytes(32);
  private readonly entries = new Map<string, number>();

  constructor(private readonly ttlMs: number, private readonly maxEntries = 10_000) {}

  private keyOf(storedHash: string, password: string): string {
    return createHmac('sha256', this.key).update(storedHash).update('\0').update(password).digest('base64');
  }

  has(storedHash: string, password: string): boolean {
    const k = this.keyOf(storedHash, password);
    const expires = this.entries.get(k);
    if (expires === undefined) return false;
    if (expires < Date.now()) {
      this.entries.delete(k);
      return false;
    }
    return true;
  }

  add(storedHash: string, password: string): void {
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(this.keyOf(storedHash, password), Date.now() + this.ttlMs);
  }
}
